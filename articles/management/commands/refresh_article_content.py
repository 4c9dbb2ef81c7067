"""Store again the page content of articles rendered by another version of the page
templates or of the structured-data outlines."""

from django.core.management.base import BaseCommand

from articles.models import Article


class Command(BaseCommand):
    help = (
        "Render and store again the page content of every article whose stored content came "
        "from another version of the article templates or of the outlines stored for structured "
        "data (or was never rendered: articles loaded in bulk). Run at each deploy, after "
        "migrate; `make run` does. "
        "Quick when nothing changed."
    )

    def handle(self, *args, **options):
        count = Article.objects.with_stale_content().refresh_derived_fields()
        noun = "article" if count == 1 else "articles"
        self.stdout.write(self.style.SUCCESS(f"Rendered {count:,} {noun} again; every article is current."))
