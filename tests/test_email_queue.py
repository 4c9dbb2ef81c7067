"""Every email goes through the queue in the database; only `manage.py deliver_mail` talks to a
mail server, so a mail server that is down or never answers slows no reader and loses no email.

The tests run real mail servers on free ports of this machine: aiosmtpd (one that can refuse
mail for a while), and a tarpit that accepts connections and never says a word.
"""

import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import Permission
from django.core.mail import send_mail
from django.db import connection, connections, transaction
from mailer.models import Message, MessageLog

from articles.models import Review
from comments.models import Comment
from smpinfo import mail_queue
from tests.commands import call, manage
from tests.factories import ArticleFactory, ReviewFactory, UserFactory, post_comment
from tests.servers import AppServer, Browser

pytestmark = pytest.mark.django_db

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture
def tarpit():
    """A port that accepts TCP connections and never answers: the port of a mail server that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def use_queue(settings, port, timeout=10):
    """The site's mail settings (settings.py): the queue in front of SMTP at 127.0.0.1:`port`.
    (pytest-django replaces EMAIL_BACKEND by its locmem outbox in every test.)"""
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    settings.MAILER_EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_TIMEOUT = timeout


def queued():
    """(subject, recipients) of every email waiting in the queue, deferred or not."""
    return [(message.subject, sorted(message.to_addresses)) for message in Message.objects.order_by("pk")]


@pytest.fixture
def moderators(settings):
    settings.COMMENTS_NOTIFY_EMAILS = ["desk@clinic.example"]


def test_a_mail_server_that_never_answers_does_not_slow_a_comment(client, settings, tarpit, moderators):
    use_queue(settings, tarpit, timeout=10)
    article = ArticleFactory(title="Blue dots")

    started = time.monotonic()
    response = post_comment(client, article, body="Is blueness permanent?")
    elapsed = time.monotonic() - started

    assert response.status_code == 303
    assert elapsed < 1, f"the comment took {elapsed:.1f} s"
    assert Comment.objects.get().body == "Is blueness permanent?"
    assert queued() == [("[smpinfo] Comment awaiting moderation on “Blue dots”", ["desk@clinic.example"])]


def test_the_sender_delivers_queued_email_to_the_mail_server(client, settings, inbox, moderators):
    use_queue(settings, inbox.port)
    article = ArticleFactory(title="Blue dots")
    post_comment(client, article, author_name="Sam", body="Is blueness permanent?")
    comment = Comment.objects.get()

    output = call("deliver_mail", "--once")

    assert "Sent 1 queued email." in output
    assert len(inbox.messages) == 1
    received = inbox.messages[0]
    assert received["to"] == ["desk@clinic.example"]
    assert received["subject"] == "[smpinfo] Comment awaiting moderation on “Blue dots”"
    body = received["message"].get_content()
    assert "Is blueness permanent?" in body
    assert f"/admin/comments/comment/{comment.pk}/change/" in body
    assert not Message.objects.exists()
    assert MessageLog.objects.get().result == "1"  # success, kept for the admin's log


def test_an_email_sent_again_is_the_same_message(client, settings, inbox, moderators):
    """A sender that delivered an email but could not record so (its database went down)
    sends it again: with the Message-ID it was queued with, so mail programs show it once."""
    use_queue(settings, inbox.port)
    post_comment(client, ArticleFactory(), body="Is blueness permanent?")
    queued_id = Message.objects.get().email.extra_headers["Message-ID"]

    with transaction.atomic():
        call("deliver_mail", "--once")
        transaction.set_rollback(True)  # as if the sender's record of it were lost
    call("deliver_mail", "--once")

    assert [received["message"]["Message-ID"] for received in inbox.messages] == [queued_id, queued_id]


def test_a_failing_mail_server_defers_the_email_and_a_retry_sends_it(client, settings, inbox, moderators):
    use_queue(settings, inbox.port)
    post_comment(client, ArticleFactory(title="Blue dots"))
    inbox.refusing = True

    call("deliver_mail", "--once")

    assert inbox.messages == []
    assert Message.objects.deferred().count() == 1
    assert "SMTPDataError" in MessageLog.objects.get().log_message

    inbox.refusing = False
    call("deliver_mail", "--once")

    assert [message["subject"] for message in inbox.messages] == [
        "[smpinfo] Comment awaiting moderation on “Blue dots”"
    ]
    assert not Message.objects.exists()


def test_a_mail_server_that_never_answers_leaves_the_email_queued_for_later(
    client, settings, tarpit, moderators
):
    use_queue(settings, tarpit, timeout=1)
    post_comment(client, ArticleFactory())

    started = time.monotonic()
    output = call("deliver_mail", "--once")

    assert time.monotonic() - started < 5
    assert "did not answer" in output
    message = Message.objects.get()
    assert message in Message.objects.non_deferred()
    assert message.retry_count == 0


def test_a_message_failing_in_any_way_is_deferred_and_the_next_one_is_still_tried(
    client, settings, moderators
):
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    settings.MAILER_EMAIL_BACKEND = "tests.failing_email.BrokenEmailBackend"
    article = ArticleFactory()
    post_comment(client, article, body="First")
    post_comment(client, article, body="Second", author_email="other@example.org")

    call("deliver_mail", "--once")

    assert Message.objects.deferred().count() == 2
    assert MessageLog.objects.filter(log_message__startswith="RuntimeError").count() == 2


@pytest.mark.django_db(transaction=True)  # the sender's loop renews its connections as a request does
def test_the_running_sender_retries_deferred_mail_and_waits_longer_while_the_server_is_silent(
    client, settings, inbox, tarpit, moderators
):
    use_queue(settings, inbox.port)
    post_comment(client, ArticleFactory())
    inbox.refusing = True
    call("deliver_mail", "--once")
    inbox.refusing = False
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 1:
            use_queue(settings, tarpit, timeout=1)
            post_comment(client, ArticleFactory(), author_email="later@example.org")
        if len(pauses) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mail_queue.run_sender(interval=2, sleep=sleep)

    assert len(inbox.messages) == 1  # the deferred one, retried at once
    assert pauses == [2, 4, 8]  # then the tarpit: twice as long each time
    assert Message.objects.non_deferred().count() == 1


def test_a_request_for_changes_is_queued_with_the_review_and_delivered(settings, inbox):
    use_queue(settings, inbox.port)
    UserFactory(username="eve", email="eve@clinic.example", is_staff=True, groups=["Editors"])
    article = ArticleFactory(title="Blue dots")

    with transaction.atomic():
        ReviewFactory(article=article, outcome=Review.Outcome.CHANGES_REQUESTED, note="Cite the 2023 study.")
        assert queued() == [("[smpinfo] Changes requested to “Blue dots”", ["eve@clinic.example"])]
    with pytest.raises(RuntimeError), transaction.atomic():
        ReviewFactory(article=article, outcome=Review.Outcome.CHANGES_REQUESTED, note="Rolled back")
        raise RuntimeError
    call("deliver_mail", "--once")

    assert [(message["subject"], message["to"]) for message in inbox.messages] == [
        ("[smpinfo] Changes requested to “Blue dots”", ["eve@clinic.example"])
    ]
    assert "Cite the 2023 study." in inbox.messages[0]["message"].get_content()


def test_the_review_reminder_is_queued(settings):
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    UserFactory(username="ada", email="ada@clinic.example", is_staff=True, groups=["Reviewers"])
    ArticleFactory()

    call("send_review_reminders")

    assert queued() == [("[smpinfo] 1 article due for medical review", ["ada@clinic.example"])]


@pytest.mark.parametrize("role", ["superuser", "Moderators", "Editors"])
def test_only_superusers_see_the_mail_queue_in_the_admin(client, settings, role, moderators):
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"
    settings.MAILER_EMAIL_BACKEND = "tests.failing_email.FailingEmailBackend"
    post_comment(client, ArticleFactory(title="Blue dots"))
    call("deliver_mail", "--once")
    if role == "superuser":
        user = UserFactory(username="root", is_staff=True, is_superuser=True)
    else:
        user = UserFactory(username=role.lower(), is_staff=True, groups=[role])
    client.force_login(user)

    queue = client.get("/admin/mailer/message/")
    log = client.get("/admin/mailer/messagelog/")

    if role == "superuser":
        assert queue.status_code == 200
        assert "Comment awaiting moderation on “Blue dots”" in queue.text
        assert "deferred" in queue.text
        assert log.status_code == 200
        assert "desk@clinic.example" in log.text
    else:
        assert (queue.status_code, log.status_code) == (403, 403)
        assert not Permission.objects.filter(content_type__app_label="mailer", group__name=role).exists()


def test_the_site_queues_every_email_and_delivers_it_through_email_url():
    code = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND, s.MAILER_EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_TIMEOUT)"
    )
    by_default = manage("shell", "-c", code)
    with_smtp = manage("shell", "-c", code, EMAIL_URL="smtp://mail.example.org:587/?tls=True")
    queue_twice = manage("check", EMAIL_BACKEND="mailer.backend.DbBackend")

    assert by_default.stdout.split()[-5:] == [
        "mailer.backend.DbBackend",
        "django.core.mail.backends.console.EmailBackend",
        "localhost",
        "25",
        "5",
    ]
    assert with_smtp.stdout.split()[-5:] == ["mailer.backend.DbBackend", SMTP, "mail.example.org", "587", "5"]
    assert queue_twice.returncode != 0
    assert "EMAIL_BACKEND names the mail queue itself" in queue_twice.stderr


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL); CI runs it"
)


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_deliver_each_email_exactly_once(settings, inbox):
    use_queue(settings, inbox.port)
    inbox.delay = 0.01  # so that the two senders overlap
    for number in range(40):
        send_mail(f"Message {number}", "Hello", None, ["desk@clinic.example"])

    def sender(_):
        try:
            return mail_queue.deliver_queued_mail()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(pool.map(sender, range(2)))

    subjects = sorted(message["subject"] for message in inbox.messages)
    assert subjects == sorted(f"Message {number}" for number in range(40))
    assert all(sent)  # both took part
    assert not Message.objects.exists()


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_running_site_answers_comments_at_once_while_its_mail_server_never_answers(tarpit):
    server = AppServer(
        extra_env={
            "EMAIL_URL": f"smtp://127.0.0.1:{tarpit}",
            "COMMENTS_NOTIFY_EMAILS": "desk@clinic.example",
            "COMMENTS_MIN_SUBMIT_SECONDS": "0",
            "PAGE_CACHE_SECONDS": "0",
            "REDIS_URL": "",
            "CACHE_URL": "locmem://",
        }
    )
    try:
        server.wait_until_ready()
        article = ArticleFactory(title="Blue dots", comments_open=True)
        reader = Browser()
        page, _ = reader.get(f"{server.url}{article.get_absolute_url()}")
        form = dict(re.findall(r'name="(csrfmiddlewaretoken|form_token)" value="([^"]+)"', page))

        started = time.monotonic()
        status, _ = reader.post_with_status(
            f"{server.url}/articles/{article.slug}/comments/",
            {**form, "author_name": "Sam", "author_email": "sam@example.org", "body": "Still fast?"},
        )
        elapsed = time.monotonic() - started
    finally:
        server.stop()

    assert status == 200  # the 303, followed to the article
    assert elapsed < 1, f"the comment took {elapsed:.1f} s"
    assert Comment.objects.get().body == "Still fast?"
    assert queued() == [("[smpinfo] Comment awaiting moderation on “Blue dots”", ["desk@clinic.example"])]
