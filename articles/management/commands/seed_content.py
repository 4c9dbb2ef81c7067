"""Load the site's first content. Safe to run again: what exists is left as it is."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from articles.models import Article, Author, SitePage, Topic
from articles.seed_data import EDITORIAL_TEAM, SEED_TOPICS, SIDE_EFFECTS_ARTICLE, SITE_PAGES, WHAT_IS_SMP


class Command(BaseCommand):
    help = (
        "Create the seed articles (“What is scalp micropigmentation?” and “Side Effects of "
        "Scalp Micropigmentation” with its six side effects), signed by the “smpinfo "
        "editorial team” and filed under a topic each, and the About, Editorial policy and "
        "Privacy pages. Whatever already exists (by slug) is never changed, so editors' changes "
        "survive a re-run; a seed article with no byline is given the editorial team's, and one "
        "with no topic its seed topic."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        team, created = Author.objects.get_or_create(
            slug=EDITORIAL_TEAM["slug"], defaults={k: v for k, v in EDITORIAL_TEAM.items() if k != "slug"}
        )
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created author “{team.name}”."))
        # The explainer is dated a minute earlier so the side-effects article leads the home page.
        self.seed(WHAT_IS_SMP, team, published_at=now - timedelta(minutes=1), comments_open=True)
        self.seed(SIDE_EFFECTS_ARTICLE, team, published_at=now, comments_open=False)
        for page in SITE_PAGES:
            _, created = SitePage.objects.get_or_create(slug=page["slug"], defaults=page)
            if created:
                self.stdout.write(self.style.SUCCESS(f"Created page “{page['title']}”."))

    @transaction.atomic
    def seed(self, content, team, *, published_at, comments_open):
        existing = Article.objects.filter(slug=content["slug"]).first()
        topic_fields = SEED_TOPICS[content["slug"]]
        topic, created = Topic.objects.get_or_create(
            slug=topic_fields["slug"], defaults={k: v for k, v in topic_fields.items() if k != "slug"}
        )
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created topic “{topic.name}”."))
        if existing is not None:
            changed = False
            if not existing.authors.exists():
                existing.authors.add(team)
                self.stdout.write(f"Article “{content['title']}” is now signed by “{team.name}”.")
                changed = True
            if not existing.topics.exists():
                existing.topics.add(topic)
                self.stdout.write(f"Article “{content['title']}” is now filed under “{topic.name}”.")
                changed = True
            if not changed:
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
        article.authors.add(team)
        article.topics.add(topic)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created article “{article.title}” with {article.side_effects.count()} side effects."
            )
        )
