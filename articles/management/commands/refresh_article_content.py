"""Store again the page content of articles rendered by another version of the page template."""

from django.core.management.base import BaseCommand

from articles.models import Article, content_revision


class Command(BaseCommand):
    help = (
        "Render and store again the page content of every article whose stored content came "
        "from another version of templates/articles/_article_content.html (or was never "
        "rendered: articles loaded in bulk). Run at each deploy, after migrate; `make run` does. "
        "Quick when nothing changed."
    )

    def handle(self, *args, **options):
        stale = Article.objects.exclude(content_revision=content_revision()).prefetch_related("side_effects")
        count = 0
        for article in stale.iterator(chunk_size=500):
            article.refresh_derived_fields()
            count += 1
        noun = "article" if count == 1 else "articles"
        self.stdout.write(self.style.SUCCESS(f"Rendered {count:,} {noun} again; every article is current."))
