"""Moderation from the held-comment email: signed links that expire, work once, open a
confirmation page whose button POSTs (a scanner following links changes nothing), after
login, for moderators only."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from comments.email_moderation import make_token
from comments.models import Comment
from tests.factories import ArticleFactory, CommentFactory, UserFactory, post_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(db, settings, client, django_capture_on_commit_callbacks):
    """A held comment, and the links its moderators' email gave (SITE_URL stripped)."""
    settings.SITE_URL = "https://smpinfo.example"
    UserFactory(username="mia", email="mia@clinic.example", is_staff=True, groups=["Moderators"])
    with django_capture_on_commit_callbacks(execute=True):
        post_comment(
            client, ArticleFactory(title="Blue dots"), author_name="Sam", body="Is blueness permanent?"
        )
    body = mail.outbox[0].body
    links = {
        action: re.search(rf"^{label}: https://smpinfo\.example(\S+)$", body, re.M).group(1)
        for action, label in [("approve", "Approve"), ("reject", "Reject"), ("spam", "Spam")]
    }
    return Comment.objects.get(), links


def status_of(comment):
    return Comment.objects.get(pk=comment.pk).status


def test_the_email_links_open_a_confirmation_that_changes_nothing(held, moderator_client):
    comment, links = held

    for link in links.values():
        response = moderator_client.get(link)
        assert response.status_code == 200
        assert "Is blueness permanent?" in response.content.decode()
        assert '<form method="post">' in response.content.decode()

    assert status_of(comment) == Comment.Status.PENDING


def test_the_confirmation_button_approves_and_the_page_shows_it(held, moderator_client, moderator):
    comment, links = held

    response = moderator_client.post(links["approve"], follow=True)

    assert "The comment by Sam was approved." in response.content.decode()
    approved = Comment.objects.get(pk=comment.pk)
    assert approved.status == Comment.Status.APPROVED and approved.moderated_by == moderator
    assert "Is blueness permanent?" in Client().get(comment.article.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("action", "status"), [("reject", "rejected"), ("spam", "spam")])
def test_reject_and_spam_links(held, moderator_client, action, status):
    comment, links = held

    moderator_client.post(links[action])

    assert status_of(comment) == status


def test_a_link_works_once_and_its_siblings_stop_working_too(held, moderator_client):
    comment, links = held
    moderator_client.post(links["approve"])

    again = moderator_client.post(links["approve"])
    other = moderator_client.post(links["spam"])

    assert again.status_code == 410 and other.status_code == 410
    assert "This link has been used, or the comment was moderated since" in other.content.decode()
    assert status_of(comment) == Comment.Status.APPROVED


def test_moderating_in_the_admin_makes_the_email_links_stale(held, moderator_client):
    comment, links = held
    moderator_client.post(
        "/admin/comments/comment/", {"action": "reject_comments", "_selected_action": [comment.pk]}
    )

    assert moderator_client.post(links["approve"]).status_code == 410
    assert status_of(comment) == Comment.Status.REJECTED


def test_an_expired_link_is_refused(held, moderator_client, settings, monkeypatch):
    comment, links = held
    later = timezone.now() + timedelta(days=settings.COMMENTS_MODERATION_LINK_DAYS, minutes=1)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later.timestamp())

    response = moderator_client.post(links["approve"])

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert status_of(comment) == Comment.Status.PENDING


def test_an_altered_or_forged_link_is_refused(held, moderator_client):
    comment, _links = held
    forged = f"/comments/moderate/{make_token(comment, 'approve')[:-3]}xyz/"

    assert moderator_client.post(forged).status_code == 400
    assert moderator_client.get("/comments/moderate/not-a-token/").status_code == 400
    assert status_of(comment) == Comment.Status.PENDING


def test_a_logged_out_moderator_logs_in_first_and_comes_back(held, client):
    comment, links = held

    response = client.get(links["approve"])

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/comments/moderate/")
    assert client.post(links["approve"]).status_code == 302
    assert status_of(comment) == Comment.Status.PENDING


def test_only_staff_allowed_to_moderate_can_use_a_link(held, editor_client, reviewer_client):
    comment, links = held

    for client in (editor_client, reviewer_client):
        assert client.get(links["approve"]).status_code == 403
        assert client.post(links["approve"]).status_code == 403
    assert status_of(comment) == Comment.Status.PENDING


def test_a_token_for_one_comment_does_not_moderate_another(held, moderator_client):
    comment, links = held
    other = CommentFactory(article=comment.article, status=Comment.Status.PENDING)

    moderator_client.post(links["approve"])

    assert status_of(other) == Comment.Status.PENDING
