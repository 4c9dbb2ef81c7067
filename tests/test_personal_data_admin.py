"""A commenter's personal data from the admin: export as JSON, erase by anonymizing or
deleting, each recorded with who and how many; superusers and Moderators only."""

import json

import pytest
from django.test import Client

from comments.models import Comment, PersonalDataRequest
from tests.factories import ArticleFactory, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/comments/personaldatarequest/add/"


@pytest.fixture
def sams_comments(db):
    article = ArticleFactory(title="Blue dots")
    return [
        CommentFactory(
            article=article, author_name="Sam", author_email="sam@example.org", body="First question"
        ),
        CommentFactory(
            article=article,
            author_name="Sam",
            author_email="sam@example.org",
            body="Second one",
            status=Comment.Status.PENDING,
        ),
        CommentFactory(article=article, author_name="Kim", author_email="kim@example.org", body="Not Sam's"),
    ]


def test_a_moderator_exports_everything_held_about_an_email_as_json(
    moderator_client, moderator, sams_comments
):
    response = moderator_client.post(URL, {"email": "SAM@example.org", "action": "export"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="smpinfo-personal-data.json"'
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["email"] == "sam@example.org"
    assert [comment["comment"] for comment in data["comments"]] == ["First question", "Second one"]
    first = data["comments"][0]
    assert first["article"] == "Blue dots" and first["ip_address"] == "192.0.2.10"
    assert first["browser"] == "Mozilla/5.0 (test)" and first["status"] == "Approved"
    record = PersonalDataRequest.objects.get()
    assert (record.action, record.rows, record.done_by) == ("export", 2, moderator)
    assert "sam@example.org" not in record.email_digest


def test_anonymizing_keeps_the_text_and_removes_name_email_browser_and_address(
    moderator_client, sams_comments, django_capture_on_commit_callbacks
):
    article = sams_comments[0].article
    assert "Sam" in Client().get(article.get_absolute_url()).content.decode()  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(
            URL, {"email": "sam@example.org", "action": "anonymize", "confirm": "on"}, follow=True
        )

    assert "Anonymized 2 comments by sam@example.org." in response.content.decode()
    erased = Comment.objects.filter(pk__in=[sams_comments[0].pk, sams_comments[1].pk])
    assert {(c.author_name, c.author_email, c.ip_address, c.user_agent) for c in erased} == {
        ("Anonymous", "", None, "")
    }
    assert Comment.objects.get(pk=sams_comments[2].pk).author_name == "Kim"
    page = Client().get(article.get_absolute_url()).content.decode()
    assert "First question" in page and ">Sam<" not in page
    assert PersonalDataRequest.objects.get().rows == 2


def test_deleting_removes_the_comments_and_records_it(moderator_client, moderator, sams_comments):
    moderator_client.post(URL, {"email": "sam@example.org", "action": "delete", "confirm": "on"})

    assert list(Comment.objects.values_list("author_name", flat=True)) == ["Kim"]
    record = PersonalDataRequest.objects.get()
    assert (record.action, record.rows, record.done_by) == ("delete", 2, moderator)


def test_an_erasure_needs_its_confirmation_and_keeps_what_was_typed(moderator_client, sams_comments):
    response = moderator_client.post(URL, {"email": "sam@example.org", "action": "delete"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Tick this box to erase" in page and 'value="sam@example.org"' in page
    assert Comment.objects.count() == 3 and not PersonalDataRequest.objects.exists()


def test_a_bad_email_is_a_clear_error(moderator_client, sams_comments):
    response = moderator_client.post(URL, {"email": "not an email", "action": "export"})

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not PersonalDataRequest.objects.exists()


def test_the_form_page_writes_nothing(moderator_client, sams_comments):
    assert moderator_client.get(URL).status_code == 200
    assert not PersonalDataRequest.objects.exists()


def test_superusers_may_and_editors_and_reviewers_may_not(editor_client, reviewer_client, sams_comments):
    root = Client()
    root.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    assert root.post(URL, {"email": "sam@example.org", "action": "export"}).status_code == 200
    for client in (editor_client, reviewer_client):
        assert client.get(URL).status_code == 403
        assert (
            client.post(URL, {"email": "sam@example.org", "action": "delete", "confirm": "on"}).status_code
            == 403
        )
        assert client.get("/admin/comments/personaldatarequest/").status_code == 403
    assert Comment.objects.count() == 3


def test_the_record_lists_each_request_and_cannot_be_changed(moderator_client, sams_comments):
    moderator_client.post(URL, {"email": "sam@example.org", "action": "export"})
    record = PersonalDataRequest.objects.get()

    listing = moderator_client.get("/admin/comments/personaldatarequest/").content.decode()

    assert "Export (JSON download)" in listing
    assert (
        moderator_client.post(
            f"/admin/comments/personaldatarequest/{record.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert PersonalDataRequest.objects.count() == 1


def test_erase_commenter_records_its_erasure_too(sams_comments):
    import io

    from django.core.management import call_command

    call_command("erase_commenter", "sam@example.org", stdout=io.StringIO())

    record = PersonalDataRequest.objects.get()
    assert (record.action, record.rows, record.done_by) == ("anonymize", 2, None)


def test_the_comment_form_says_what_is_published_and_links_the_privacy_page(client):
    article = ArticleFactory(comments_open=True)

    page = client.get(article.get_absolute_url()).content.decode()

    form = page[page.index('id="comment-form"') :]
    assert "your email is never shown" in form
    assert '<a href="/privacy/">How we handle your data</a>' in form
