"""Load the site's first articles. Safe to run again: existing articles are left as they are."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from articles.models import Article
from articles.seed_data import SIDE_EFFECTS_ARTICLE, WHAT_IS_SMP


class Command(BaseCommand):
    help = (
        "Create the seed articles (“What is scalp micropigmentation?” and “Side Effects of "
        "Scalp Micropigmentation” with its six side effects). An article whose slug already "
        "exists is never touched, so editors' changes survive a re-run."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        # The explainer is dated a minute earlier so the side-effects article leads the home page.
        self.seed(WHAT_IS_SMP, published_at=now - timedelta(minutes=1), comments_open=True)
        self.seed(SIDE_EFFECTS_ARTICLE, published_at=now, comments_open=False)

    @transaction.atomic
    def seed(self, content, *, published_at, comments_open):
        if Article.objects.filter(slug=content["slug"]).exists():
            self.stdout.write(f"Article “{content['title']}” already exists; left unchanged.")
            return
        article = Article.objects.create(
            title=content["title"],
            slug=content["slug"],
            summary=content["summary"],
            body=content["body"],
            status=Article.Status.PUBLISHED,
            published_at=published_at,
            comments_open=comments_open,
        )
        for order, entry in enumerate(content.get("side_effects", []), start=1):
            article.side_effects.create(order=order * 10, **entry)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created article “{article.title}” with {article.side_effects.count()} side effects."
            )
        )
