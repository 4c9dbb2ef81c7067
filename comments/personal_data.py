"""A commenter's personal data, by email address: everything the site holds about it as
JSON, and its erasure (as WordPress's personal-data exporter and eraser do). The admin's
"Personal data requests" and `manage.py erase_commenter` both come here, and each use is
recorded (comments.models.PersonalDataRequest)."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from mailer.models import DontSendEntry, Message, MessageLog

from comments.models import Comment, NotificationAddress, PersonalDataRequest, normalize_email

ANONYMOUS = "Anonymous"
EXPORTED_FIELDS = [
    "pk", "author_name", "author_email", "body", "status", "created_at", "ip_address", "user_agent",
    "moderated_at",
]  # fmt: skip


def comments_of(email):
    return Comment.objects.filter(author_email=normalize_email(email))


def email_digest(email):
    return salted_hmac("comments.personal-data", normalize_email(email), algorithm="sha256").hexdigest()


def export(email):
    """Everything the site holds about `email`, as a dict ready for JSON."""
    comments = comments_of(email).select_related("article").order_by("created_at", "pk")
    return {
        "email": normalize_email(email),
        "exported_at": timezone.now().isoformat(),
        "site": settings.SITE_URL,
        "comments": [
            {
                "id": comment.pk,
                "article": comment.article.title,
                "article_url": f"{settings.SITE_URL.rstrip('/')}{comment.article.get_absolute_url()}",
                "name": comment.author_name,
                "email": comment.author_email,
                "comment": comment.body,
                "status": comment.get_status_display(),
                "sent_at": comment.created_at.isoformat(),
                "ip_address": comment.ip_address,
                "browser": comment.user_agent,
                "moderated_at": comment.moderated_at.isoformat() if comment.moderated_at else None,
            }
            for comment in comments.only(*EXPORTED_FIELDS, "article__title", "article__slug")
        ],
        "notification_address": notification_address_of(email),
        "other_data": "Readers' reports of comments are kept without any address or email, so none "
        "belongs to this email. The site keeps no account or tracking data for readers; emails about "
        "comments (notification_address) are kept only while they wait to be sent and in the log of "
        "emails sent, and are erased with the rest.",
    }


def notification_address_of(email):
    """The address's email subscription (the comment form's notify box), or None."""
    address = NotificationAddress.objects.filter(email=normalize_email(email)).first()
    if address is None:
        return None
    when = {
        name: value.isoformat() if (value := getattr(address, name)) else None
        for name in ("created_at", "confirmation_sent_at", "confirmed_at", "unsubscribed_at")
    }
    return {"email": address.email, **when, "may_be_emailed": address.may_be_emailed}


def mentions(email, message):
    """Whether a queued or logged email is to `email` or names it (a moderators' email
    about a held comment shows the commenter's address)."""
    if message is None:
        return False
    parts = [*message.to, *message.cc, *message.bcc, *message.reply_to, message.subject, message.body]
    parts += [content for content, _mimetype in getattr(message, "alternatives", [])]
    return any(email in str(part).lower() for part in parts)


def erase_emails(email):
    """Delete every email of the site's queue (django-mailer) to or about `email`: those
    waiting to be sent, and the log of those sent or failed. The queue and its log are short
    (sent entries are purged); each row's stored email is read."""
    for model in (Message, MessageLog):
        rows = model.objects.exclude(message_data=None).only("pk", "message_data")
        model.objects.filter(pk__in=[row.pk for row in rows if mentions(email, row.email)]).delete()
    DontSendEntry.objects.filter(to_address__iexact=email).delete()


def erase(email, *, delete=False):
    """Anonymize (or delete) every comment sent with `email`; returns how many. The name
    becomes "Anonymous", the email, its fingerprint (a digest of it), the browser and the
    address go; the text stays. The pages that showed them are retired on commit. Its email
    subscription (NotificationAddress) is deleted, and the site's emails to or about it, sent
    or not (erase_emails)."""
    with transaction.atomic():
        NotificationAddress.objects.filter(email=normalize_email(email)).delete()
        erase_emails(normalize_email(email))
        comments = comments_of(email)
        if delete:
            count = comments.count()
            comments.delete()
            return count
        return comments.update(
            author_name=ANONYMOUS, author_email="", fingerprint=None, user_agent="", ip_address=None
        )


def record(action, email, rows, user=None):
    """Note who exported or erased the data of `email`, when, and how many comments."""
    return PersonalDataRequest.objects.create(action=action, email_digest=email_digest(email), rows=rows,
                                              done_by=user)  # fmt: skip
