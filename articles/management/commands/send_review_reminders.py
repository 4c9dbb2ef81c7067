"""Email the reviewers the published articles that are due for a medical review."""

from django.core.management.base import BaseCommand, CommandError

from articles.reviews import NothingToSend, send_review_reminders


class Command(BaseCommand):
    help = (
        "Email every active member of Reviewers one digest of the published articles never "
        "medically reviewed or last reviewed more than ARTICLES_REVIEW_INTERVAL_DAYS ago. "
        "At most once a day: run it daily from cron."
    )

    def handle(self, *args, **options):
        try:
            reminder = send_review_reminders()
        except NothingToSend as reason:
            self.stdout.write(f"No reminder sent: {reason}")
            return
        except Exception as error:
            raise CommandError(
                f"The reminder could not be sent ({error.__class__.__name__}: {error}); nothing was "
                "recorded, so the next run tries again."
            ) from error
        articles = "article" if reminder.article_count == 1 else "articles"
        reviewers = "reviewer" if reminder.recipient_count == 1 else "reviewers"
        self.stdout.write(
            self.style.SUCCESS(
                f"Reminded {reminder.recipient_count} {reviewers} of {reminder.article_count} {articles} "
                "due for medical review."
            )
        )
