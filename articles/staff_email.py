"""Who on the staff gets an email, how its subject line is made safe, and how it is sent."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import transaction


def group_emails(group_name):
    """The email addresses of the active members of the group `group_name`."""
    users = get_user_model().objects.filter(groups__name=group_name, is_active=True).exclude(email="")
    return set(users.values_list("email", flat=True))


def site_link(path):
    """An absolute link for an email, built from SITE_URL: an email sent by a command has no
    request to take the host from, and one sent from a request must not trust its Host header."""
    return settings.SITE_URL.rstrip("/") + path


def one_line(text):
    """Text safe for an email header: line breaks and runs of white space become one space."""
    return " ".join(str(text).split())


def queue_email(subject, body, recipients):
    """Put one email on the site's mail queue (EMAIL_BACKEND, settings.py): a row written in
    the caller's transaction, so it goes out once that commits and never if it rolls back.

    In a savepoint of its own: if the row cannot be written, the error is raised to the
    caller and the caller's own changes (the comment, the review) can still be committed.

    Its Message-ID is fixed now, not at each sending: a sender that delivered it but could
    not record so (the database went down) sends it again as the same message, which mail
    programs show once.
    """
    headers = {"Message-ID": make_msgid(domain=DNS_NAME)}
    message = EmailMessage(subject, body, None, recipients, headers=headers)
    with transaction.atomic():
        message.send()
