"""Readers' reports of approved comments: one per reader and comment, a limit per address,
and a comment reported by COMMENTS_REPORTS_TO_HOLD readers goes back to the moderation queue
with the reasons, its moderators told."""

from collections import Counter
from enum import Enum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac

from articles.staff_email import site_link
from comments.models import Comment, CommentReport
from comments.notifications import notify_moderators


class Outcome(Enum):
    RECORDED = "recorded"
    ALREADY_REPORTED = "already reported"
    HELD = "held"


def reporter_digest(address):
    """Who reported, as a digest keyed with the site's secret: one report per address is
    countable, and no address is stored."""
    return salted_hmac("comments.report", address, algorithm="sha256").hexdigest()


def open_reports(comment):
    """The reports made since a moderator last decided on the comment: approving it again
    starts a new count."""
    reports = comment.reports.all()
    return reports.filter(created_at__gt=comment.moderated_at) if comment.moderated_at else reports


def held_reason(comment):
    reasons = Counter(open_reports(comment).values_list("reason", flat=True))
    labels = dict(CommentReport.Reason.choices)
    listed = ", ".join(f"{labels[reason]} ({count})" for reason, count in reasons.most_common())
    return f"Held after {sum(reasons.values())} reader reports: {listed}."[:255]


def report_comment(comment, reason, address):
    """Record that the reader at `address` reports `comment` for `reason`; hold the comment
    when it has reached COMMENTS_REPORTS_TO_HOLD reports. Returns the Outcome."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                reporter = reporter_digest(address)
                CommentReport.objects.create(comment=comment, reason=reason, reporter=reporter)
        except IntegrityError:
            return Outcome.ALREADY_REPORTED
        if open_reports(comment).count() < settings.COMMENTS_REPORTS_TO_HOLD:
            return Outcome.RECORDED
        reason_text = held_reason(comment)
        # Only an approved comment is held: a moderator's later approval stands until new reports.
        held = Comment.objects.filter(pk=comment.pk, status=Comment.Status.APPROVED).update(
            status=Comment.Status.PENDING, status_reason=reason_text
        )
        if held:
            comment.refresh_from_db()
            admin_url = site_link(reverse("admin:comments_comment_change", args=[comment.pk]))
            notify_moderators(comment, admin_url, reported=True)
            return Outcome.HELD
    return Outcome.RECORDED
