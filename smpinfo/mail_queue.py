"""The sender of the email queue: what `manage.py deliver_mail` does.

Every email the site sends is a row of django-mailer's queue (EMAIL_BACKEND in settings.py),
written in the transaction of the change that causes it. This process delivers the rows
through MAILER_EMAIL_BACKEND, so a mail server that is slow, down or never answers costs
this process a timeout, never a reader's request.
"""

import logging
import time

from django.conf import settings
from django.core.mail import get_connection
from django.db import close_old_connections
from mailer.engine import send_all
from mailer.models import RESULT_FAILURE, Message, MessageLog

logger = logging.getLogger(__name__)

LONGEST_PAUSE = 60  # seconds between tries while the mail server or the database does not answer


def mail_server_answers():
    """Whether the delivering backend opens a connection (SMTP: connects, greets, starts TLS,
    logs in) within EMAIL_TIMEOUT.

    Asked before each round, outside any transaction. django-mailer sends each message
    inside a transaction, and on SQLite, whose transactions are IMMEDIATE here, that
    transaction holds the database's write lock: a server that never answered would hold
    every comment back for EMAIL_TIMEOUT per queued message.
    """
    connection = get_connection(settings.MAILER_EMAIL_BACKEND)
    try:
        connection.open()
        connection.close()
    except Exception as error:
        logger.warning("The mail server did not answer (%s); queued email waits", type(error).__name__)
        return False
    return True


def defer_failed_message(connection, message, error):
    """MAILER_ERROR_HANDLER: whatever made a message fail, defer it to be tried again.

    django-mailer's own handler defers network and SMTP errors only and raises anything
    else, which ends the round at that message: one message that always failed that way
    would hold up every message queued after it.
    """
    # The error's text stays in the admin's message log: it can name recipients, logs never do.
    logger.warning("Queued email %s could not be sent (%s); deferred", message.pk, type(error).__name__)
    message.defer()
    MessageLog.objects.log(message, RESULT_FAILURE, log_message=f"{type(error).__name__}: {error}")
    return None, "deferred"  # no connection: the next message opens a new one


def deliver_queued_mail(retry_deferred=False):
    """One round: send every queued message, and the deferred ones too with `retry_deferred`.

    Returns how many were sent, or None when the mail server did not answer (then nothing
    was touched: no message is deferred or counted as retried because of an outage).
    """
    waiting = Message.objects.deferred() if retry_deferred else Message.objects.none()
    if not (Message.objects.non_deferred().exists() or waiting.exists()):
        return 0
    if not mail_server_answers():
        return None
    if retry_deferred:
        Message.objects.retry_deferred()
    queued = list(Message.objects.non_deferred().values_list("pk", flat=True))
    if not queued:
        return 0
    send_all(Message.objects.non_deferred().filter(pk__in=queued))
    still_queued = Message.objects.filter(pk__in=queued).count()
    logger.info("Email queue: %s sent, %s still queued", len(queued) - still_queued, still_queued)
    return len(queued) - still_queued


def run_sender(interval, sleep=time.sleep):
    """Deliver queued mail every `interval` seconds until stopped; deferred mail every
    EMAIL_RETRY_SECONDS. While the mail server or the database does not answer, wait
    longer between tries, up to LONGEST_PAUSE."""
    next_retry = time.monotonic()  # deferred mail left by an earlier run is tried at once
    pause = interval
    while True:
        close_old_connections()  # as at each request: a connection gone stale is replaced
        retry = time.monotonic() >= next_retry
        try:
            sent = deliver_queued_mail(retry_deferred=retry)
        except Exception:
            logger.exception("The email queue could not be delivered; trying again")
            sent = None
        if sent is None:
            pause = min(pause * 2, LONGEST_PAUSE)
        else:
            pause = interval
            if retry:
                next_retry = time.monotonic() + settings.EMAIL_RETRY_SECONDS
        sleep(pause)
