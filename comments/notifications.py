"""Email to moderators about comments held for moderation."""

import logging

from django.conf import settings
from django.template.loader import render_to_string

from articles.staff_email import group_emails, one_line, queue_email
from comments.email_moderation import moderation_links

logger = logging.getLogger(__name__)


def moderator_emails():
    """COMMENTS_NOTIFY_EMAILS when set, else the email of every active member of Moderators."""
    if settings.COMMENTS_NOTIFY_EMAILS:
        return list(settings.COMMENTS_NOTIFY_EMAILS)
    return sorted(group_emails("Moderators"))


def notify_moderators(comment, admin_url, *, reported=False):
    """Queue one email about a held comment (`reported`: held again after readers' reports),
    in the current transaction: the sender cannot see it before the comment is committed,
    and it is never sent for a comment rolled back. A failure is logged, never raised."""
    recipients = moderator_emails()
    if not recipients:
        return
    what = "Reported comment back in moderation" if reported else "Comment awaiting moderation"
    subject = f"[smpinfo] {what} on “{one_line(comment.article.title)}”"
    context = {
        "comment": comment,
        "admin_url": admin_url,
        "reported": reported,
        "links": moderation_links(comment),
    }
    body = render_to_string("comments/email/comment_held.txt", context)
    try:
        queue_email(subject, body, recipients)
    except Exception:
        logger.exception("Could not email moderators about held comment %s", comment.pk)
