"""Forget the network details of old comments once moderation no longer needs them."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from comments.models import Comment


class Command(BaseCommand):
    help = (
        "Remove the stored IP address and browser (user agent) of comments older than "
        "--days days (default 30). Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Keep the details of newer comments.")

    def handle(self, days, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        cutoff = timezone.now() - timedelta(days=days)
        old = Comment.objects.filter(created_at__lt=cutoff).filter(
            Q(ip_address__isnull=False) | ~Q(user_agent="")
        )
        count = old.update(ip_address=None, user_agent="")
        noun = "comment" if count == 1 else "comments"
        self.stdout.write(
            self.style.SUCCESS(
                f"Removed the IP address and browser of {count} {noun} older than {days} days."
            )
        )
