"""Medical review: who is told about a review, and which articles are due for one.

Email is queued in the transaction of the review that causes it (so it goes out once
that commits), and a failure to queue it is logged, never raised: the review is kept.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Review, ReviewReminder, review_interval
from articles.staff_email import group_emails, one_line, queue_email, site_link

logger = logging.getLogger(__name__)

REVIEWERS = "Reviewers"
EDITORS = "Editors"


def author_emails(article):
    """The emails of the active staff accounts acting as the article's authors."""
    users = (
        get_user_model()
        .objects.filter(author_profile__article_links__article=article, is_active=True)
        .exclude(email="")
    )
    return set(users.values_list("email", flat=True))


def review_recorded(sender, instance, created, **kwargs):
    """post_save receiver of Review: a new "changes requested" is emailed, in the review's transaction."""
    if created and instance.outcome == Review.Outcome.CHANGES_REQUESTED:
        notify_changes_requested(instance)


def notify_changes_requested(review):
    """Email the note to the article's authors and the Editors. Returns whether it was queued."""
    article = review.article
    recipients = sorted(author_emails(article) | group_emails(EDITORS))
    if not recipients:
        logger.warning("Changes requested on article %s, but no author or editor has an email", article.pk)
        return False
    subject = f"[smpinfo] Changes requested to “{one_line(article.title)}”"
    body = render_to_string(
        "articles/email/changes_requested.txt",
        {
            "review": review,
            "article": article,
            "admin_url": site_link(reverse("admin:articles_article_change", args=[article.pk])),
        },
    )
    try:
        queue_email(subject, body, recipients)
    except Exception:
        logger.exception("Could not email the review of article %s (review %s)", article.pk, review.pk)
        return False
    return True


def articles_due_for_review(now=None):
    """(never_reviewed, overdue): published articles with no approved review, and those
    whose latest approved review is older than ARTICLES_REVIEW_INTERVAL_DAYS."""
    now = now or timezone.now()
    articles = Article.objects.published().with_review_status().order_by("published_at", "pk")
    never_reviewed = articles.filter(last_reviewed_at__isnull=True)
    overdue = articles.filter(last_reviewed_at__lt=now - review_interval()).order_by("last_reviewed_at", "pk")
    return never_reviewed, overdue


class NothingToSend(Exception):
    """Why no reminder went out: already sent today, nothing due, or nobody to tell."""


def send_review_reminders(today=None):
    """Email every active Reviewer one digest of the articles due for review, at most once a day.

    Returns the ReviewReminder recorded. The day is recorded in the transaction that
    queues the digest: two runs at once queue one digest, and if it cannot be queued the
    day is not recorded, so the next run tries again.
    """
    today = today or timezone.localdate()
    if ReviewReminder.objects.filter(sent_on=today).exists():
        raise NothingToSend(f"The reminder of {today} was already sent.")
    never_reviewed, overdue = (list(articles) for articles in articles_due_for_review())
    if not never_reviewed and not overdue:
        raise NothingToSend("No published article is due for review.")
    recipients = sorted(group_emails(REVIEWERS))
    if not recipients:
        raise NothingToSend("No active member of Reviewers has an email address.")
    count = len(never_reviewed) + len(overdue)
    body = render_to_string(
        "articles/email/review_reminder.txt",
        {
            "never_reviewed": never_reviewed,
            "overdue": overdue,
            "interval_days": settings.ARTICLES_REVIEW_INTERVAL_DAYS,
            "changelist_url": site_link(reverse("admin:articles_article_changelist")),
            "site_url": settings.SITE_URL.rstrip("/"),
        },
    )
    subject = f"[smpinfo] {count} article{'s' if count != 1 else ''} due for medical review"
    with transaction.atomic():
        reminder, created = ReviewReminder.objects.get_or_create(
            sent_on=today, defaults={"article_count": count, "recipient_count": len(recipients)}
        )
        if not created:
            raise NothingToSend(f"The reminder of {today} was already sent.")
        queue_email(subject, body, recipients)
    return reminder


def publication_refusal(article):
    """Why `article` may not be published now, or None.

    With ARTICLES_REVIEW_REQUIRED, an article is published only when an approved review
    saw its content exactly as it stands.
    """
    if not settings.ARTICLES_REVIEW_REQUIRED:
        return None
    if (
        article.content_digest
        and article.reviews.approved().filter(content_digest=article.content_digest).exists()
    ):
        return None
    return (
        "This site publishes only medically reviewed content, and no approved review has seen "
        "this article as it stands: ask a reviewer to review it."
    )
