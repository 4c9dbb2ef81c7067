"""Store again the page content of articles rendered by another version of the page
templates or of the structured-data outlines."""

from django.core.management.base import BaseCommand

from articles.models import Article, SideEffect, refresh_once
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
        # Images embedded in Markdown are rendered with it: render it again where there are any.
        with refresh_once():
            for article in Article.objects.filter(pk__in=stale, body__contains="image:"):
                article.save(update_fields=["body"])
            for effect in SideEffect.objects.filter(article__in=stale, description__contains="image:"):
                effect.save(update_fields=["description"])
        count = Article.objects.filter(pk__in=stale).refresh_derived_fields()
        # Never ranked (a deploy that brought related articles, or a bulk load): rank them now.
        unranked = Article.objects.filter(pk__in=stale, related_outline=[]).values_list("pk", flat=True)
        rank_and_store(unranked)
        noun = "article" if count == 1 else "articles"
        self.stdout.write(self.style.SUCCESS(f"Rendered {count:,} {noun} again; every article is current."))
