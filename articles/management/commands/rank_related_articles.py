"""Rank and store again the related articles of every article."""

from django.core.management.base import BaseCommand

from articles.models import Article
from articles.related import RelatedIndex, rank_and_store


class Command(BaseCommand):
    help = (
        "Rank and store again the related articles of every article (shared topics first, then "
        "alike titles and summaries). Articles are ranked again by themselves when they or their "
        "topics change; run it after a bulk load, and nightly from cron to follow the weights of "
        "words as articles come and go."
    )

    def handle(self, *args, **options):
        ids = list(Article.objects.values_list("pk", flat=True))
        index = RelatedIndex()
        count = 0
        for start in range(0, len(ids), 500):
            count += rank_and_store(ids[start : start + 500], index)
        noun = "article" if count == 1 else "articles"
        self.stdout.write(self.style.SUCCESS(f"Ranked the related articles of {count:,} {noun}."))
