"""Store again the page content of articles rendered by another version of the page
templates or of the structured-data outlines."""

from django.core.management.base import BaseCommand

from articles.models import Article
from articles.related import rank_and_store


class Command(BaseCommand):
    help = (
        "Render and store again the page content of every article whose stored content came "
        "from another version of the article templates or of the outlines stored for structured "
        "data (or was never rendered: articles loaded in bulk). Run at each deploy, after "
        "migrate; `make run` does. "
        "Quick when nothing changed."
    )

    def handle(self, *args, **options):
        stale = list(Article.objects.with_stale_content().values_list("pk", flat=True))
        count = Article.objects.filter(pk__in=stale).refresh_derived_fields()
        # Never ranked (a deploy that brought related articles, or a bulk load): rank them now.
        unranked = Article.objects.filter(pk__in=stale, related_outline=[]).values_list("pk", flat=True)
        rank_and_store(unranked)
        noun = "article" if count == 1 else "articles"
        self.stdout.write(self.style.SUCCESS(f"Rendered {count:,} {noun} again; every article is current."))
