"""Email backends that always fail, for failure tests: as the site's queue (EMAIL_BACKEND) or
as the backend the sender delivers through (MAILER_EMAIL_BACKEND)."""

from django.core.mail.backends.base import BaseEmailBackend


class FailingEmailBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")


class BrokenEmailBackend(BaseEmailBackend):
    """A failure that is no network or SMTP error (a bug, a message it cannot encode)."""

    def send_messages(self, email_messages):
        raise RuntimeError("this backend cannot send that message")
