"""Readers report approved comments: one report per reader and comment, a limit per address,
and COMMENTS_REPORTS_TO_HOLD reports send the comment back to moderation, moderators told."""

import pytest
from django.core import mail
from django.test import Client

from comments.models import Comment, CommentReport
from tests.factories import ArticleFactory, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def comment(db):
    UserFactory(username="mia", email="mia@clinic.example", is_staff=True, groups=["Moderators"])
    return CommentFactory(
        article=ArticleFactory(title="Blue dots"), status=Comment.Status.APPROVED, author_name="Sam",
        body="Buy cheap pigment at example.test",
    )  # fmt: skip


def report_url(comment):
    return f"/comments/{comment.pk}/report/"


def reader(address):
    return Client(REMOTE_ADDR=address)


def test_each_approved_comment_has_a_report_link(client, comment):
    page = client.get(comment.article.get_absolute_url()).content.decode()

    assert f'href="{report_url(comment)}"' in page
    assert 'Report<span class="visually-hidden"> the comment by Sam</span>' in page


def test_the_report_page_shows_the_comment_and_the_reasons_and_writes_nothing(client, comment):
    response = client.get(report_url(comment))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Buy cheap pigment at example.test" in page
    for label in ("Spam or advertising", "False or dangerous health advice", "Something else"):
        assert label in page
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert not CommentReport.objects.exists()


def test_a_report_is_recorded_and_the_reader_is_thanked_on_the_thread(comment):
    response = reader("203.0.113.1").post(report_url(comment), {"reason": "spam"}, follow=True)

    report = CommentReport.objects.get()
    assert report.reason == "spam" and report.comment == comment
    assert "203.0.113.1" not in report.reporter  # a keyed digest, not the address
    assert "Thank you for your report" in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED


def test_the_same_reader_reporting_twice_counts_once(comment, settings):
    settings.COMMENTS_REPORTS_TO_HOLD = 2
    same = reader("203.0.113.1")
    same.post(report_url(comment), {"reason": "spam"})

    response = same.post(report_url(comment), {"reason": "abuse"}, follow=True)

    assert CommentReport.objects.count() == 1
    assert "You have already reported this comment" in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED


def test_enough_reports_hold_the_comment_with_the_reasons_and_tell_the_moderators(
    comment, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://smpinfo.example"
    with django_capture_on_commit_callbacks(execute=True):
        for number, reason in enumerate(["spam", "spam", "health"], start=1):
            response = reader(f"203.0.113.{number}").post(
                report_url(comment), {"reason": reason}, follow=True
            )

    held = Comment.objects.get(pk=comment.pk)
    assert held.status == Comment.Status.PENDING
    assert held.status_reason == (
        "Held after 3 reader reports: Spam or advertising (2), False or dangerous health advice (1)."
    )
    assert "The comment is hidden until a moderator has looked at it" in response.content.decode()
    assert "Buy cheap pigment" not in Client().get(comment.article.get_absolute_url()).content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[smpinfo] Reported comment back in moderation on “Blue dots”"
    assert "reported by readers" in mail.outbox[0].body
    assert f"https://smpinfo.example/admin/comments/comment/{comment.pk}/change/" in mail.outbox[0].body


def test_a_comment_approved_again_after_reports_starts_a_new_count(comment, settings, moderator_client):
    settings.COMMENTS_REPORTS_TO_HOLD = 2
    for number in (1, 2):
        reader(f"203.0.113.{number}").post(report_url(comment), {"reason": "other"})
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING

    moderator_client.post(
        "/admin/comments/comment/", {"action": "approve_comments", "_selected_action": [comment.pk]}
    )
    reader("203.0.113.3").post(report_url(comment), {"reason": "other"})

    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.SPAM, Comment.Status.REJECTED])
def test_only_approved_comments_can_be_reported(client, comment, status):
    Comment.objects.filter(pk=comment.pk).update(status=status)

    assert client.get(report_url(comment)).status_code == 404
    assert client.post(report_url(comment), {"reason": "spam"}).status_code == 404
    assert not CommentReport.objects.exists()


def test_a_comment_on_an_unpublished_article_cannot_be_reported(client, comment):
    comment.article.status = "draft"
    comment.article.save()

    assert client.get(report_url(comment)).status_code == 404


def test_a_report_without_a_reason_is_a_400_that_says_so(client, comment):
    response = client.post(report_url(comment), {"reason": "because"})

    assert response.status_code == 400
    assert "Choose one of the reasons listed." in response.content.decode()
    assert not CommentReport.objects.exists()


def test_reports_are_rate_limited_per_address(comment, settings):
    settings.COMMENTS_REPORT_RATE_LIMIT = "2/h"
    others = CommentFactory.create_batch(2, article=comment.article, status=Comment.Status.APPROVED)
    same = reader("198.51.100.7")
    for other in others:
        assert same.post(report_url(other), {"reason": "spam"}).status_code == 303

    response = same.post(report_url(comment), {"reason": "spam"})

    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert CommentReport.objects.filter(comment=comment).count() == 0


def test_a_report_without_its_csrf_token_is_refused(comment):
    browser = Client(enforce_csrf_checks=True)

    assert browser.post(report_url(comment), {"reason": "spam"}).status_code == 403
    assert not CommentReport.objects.exists()
