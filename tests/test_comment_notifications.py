"""Moderators hear about held comments by email; a mail failure never loses a comment."""

import logging

import pytest
from django.core import mail
from django.db import transaction
from mailer.models import Message

from comments.models import Comment
from tests.factories import ArticleFactory, UserFactory, post_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderators(db):
    return [
        UserFactory(username="mia", email="mia@clinic.example", is_staff=True, groups=["Moderators"]),
        UserFactory(username="max", email="max@clinic.example", is_staff=True, groups=["Moderators"]),
        UserFactory(username="gone", email="gone@clinic.example", is_active=False, groups=["Moderators"]),
    ]


def test_one_email_per_held_comment_to_the_moderators(
    client, moderators, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://smpinfo.example"
    article = ArticleFactory(title="Blue dots")

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(client, article, author_name="Sam", body="Is blueness permanent?")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["max@clinic.example", "mia@clinic.example"]
    assert message.subject == "[smpinfo] Comment awaiting moderation on “Blue dots”"
    comment = Comment.objects.get()
    assert f"https://smpinfo.example/admin/comments/comment/{comment.pk}/change/" in message.body
    assert "Is blueness permanent?" in message.body
    assert "Every new comment is held for moderation." in message.body


def test_notify_emails_setting_overrides_the_group(
    client, moderators, settings, django_capture_on_commit_callbacks
):
    settings.COMMENTS_NOTIFY_EMAILS = ["desk@clinic.example"]

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(client, ArticleFactory())

    assert mail.outbox[0].to == ["desk@clinic.example"]


def test_no_email_for_published_or_spam_comments(
    client, moderators, settings, django_capture_on_commit_callbacks
):
    settings.COMMENTS_MODERATION = "none"
    article = ArticleFactory()

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(client, article, body="published")
        post_comment(client, article, body="spam", honeypot="bot")

    assert Comment.objects.count() == 2
    assert mail.outbox == []


def test_email_is_queued_in_the_comment_transaction_and_never_for_a_comment_rolled_back(
    client, moderators, settings
):
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"  # the site's mail queue (tests/test_email_queue.py)
    article = ArticleFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        post_comment(client, article)
        assert Message.objects.count() == 1  # not sent: a sender sees it once the comment is committed
        raise RuntimeError("the transaction fails after the comment was saved")

    assert mail.outbox == []
    assert not Comment.objects.exists()
    assert not Message.objects.exists()


def test_failing_email_backend_does_not_lose_the_comment(
    client, moderators, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.failing_email.FailingEmailBackend"
    article = ArticleFactory()

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = post_comment(client, article, body="Keep me")

    assert response.status_code == 303
    assert Comment.objects.get().body == "Keep me"
    assert "Could not email moderators about held comment" in caplog.text


def test_article_title_with_line_breaks_cannot_break_the_subject(
    client, moderators, django_capture_on_commit_callbacks
):
    article = ArticleFactory(title="Title\r\nBcc: victim@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        post_comment(client, article)

    assert (
        mail.outbox[0].subject == "[smpinfo] Comment awaiting moderation on “Title Bcc: victim@example.org”"
    )
    assert mail.outbox[0].bcc == []
