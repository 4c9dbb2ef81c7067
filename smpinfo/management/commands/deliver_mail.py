"""Deliver the email queue: the one process that talks to the mail server."""

from django.core.management.base import BaseCommand

from smpinfo.mail_queue import deliver_queued_mail, run_sender


class Command(BaseCommand):
    help = (
        "Send the email the site has queued, through the backend that EMAIL_URL or EMAIL_BACKEND "
        "names. Keeps running: looks at the queue every few seconds and tries deferred mail "
        "again every EMAIL_RETRY_SECONDS. Safe to run on several machines at once. `make run` "
        "starts it beside gunicorn; in production run it as a service of its own."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="One round, deferred mail included, then exit (for cron instead of a service).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds between looks at the queue (default 5).",
        )

    def handle(self, *args, once, interval, **options):
        if once:
            sent = deliver_queued_mail(retry_deferred=True)
            if sent is None:
                self.stdout.write("The mail server did not answer: the queued email waits for the next run.")
            else:
                self.stdout.write(f"Sent {sent} queued email{'' if sent == 1 else 's'}.")
            return
        self.stdout.write(f"Delivering queued email every {interval:g} s (Ctrl+C stops).")
        self.stdout.flush()
        try:
            run_sender(interval)
        except KeyboardInterrupt:
            self.stdout.write("Stopped; what is still queued waits for the next sender.")
