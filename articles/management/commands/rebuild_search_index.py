"""Recompute every article's search document, vector, reading time and stored page content."""

from django.core.management.base import BaseCommand

from articles.models import Article


class Command(BaseCommand):
    help = (
        "Recompute the search index, reading time and stored page content of every article. "
        "Saving in the admin does this by itself; run it after loading articles in bulk "
        "(fixtures, imports, demo data)."
    )

    def handle(self, *args, **options):
        count = Article.objects.all().refresh_derived_fields()
        self.stdout.write(self.style.SUCCESS(f"Indexed {count:,} articles."))
