"""Reader pages and the admin pages editors, moderators and reviewers use are valid HTML,
by the Nu Html Checker (npm's vnu-jar, run with Java): one run of the checker over them all."""

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from articles.models import Article
from comments import subscriptions
from comments.email_moderation import make_token
from comments.models import Comment, NotificationAddress
from tests.factories import (
    AuthorFactory,
    CommentFactory,
    ReferenceFactory,
    ReviewFactory,
    UserFactory,
    comment_form_data,
)
from tests.pictures import illustrated_article, upload

pytestmark = pytest.mark.django_db

VNU_JAR = Path(__file__).resolve().parent.parent / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@pytest.fixture
def site(reviewer):
    """The seed content, with a byline, a reference, a review and a comment."""
    call_command("seed_content", verbosity=0)
    article = Article.objects.get(slug="side-effects-of-scalp-micropigmentation")
    writer = AuthorFactory(name="Sam Writer", slug="sam-writer", credentials="RN")
    article.authors.add(writer)
    ReferenceFactory(article=article, key="doe2020", doi="10.1000/xyz", pmid="12345")
    article.body += "\n\nAs one study found [@doe2020]."
    article.save()
    ReviewFactory(article=article, reviewer=reviewer.author_profile)
    CommentFactory(article=Article.objects.get(slug="what-is-scalp-micropigmentation"))
    return article


@pytest.fixture
def illustrated(site):
    """An article with a featured image, an image embedded as a figure of its own and one
    within a sentence, and a side effect's image; the home page and search show its thumbnail."""
    return illustrated_article()


def browser(*groups, superuser=False):
    user = UserFactory(username=f"v-{'-'.join(groups) or 'root'}", is_staff=True, is_superuser=superuser,
                       groups=list(groups))  # fmt: skip
    client = Client()
    client.force_login(user)
    return client


def pages(site, illustrated):
    article_admin = f"/admin/articles/article/{site.pk}"
    pictured, featured_image = illustrated
    readers = Client()
    editor, moderator, reviewer = browser("Editors"), browser("Moderators"), browser("Reviewers")
    return {
        "home": (readers, "/"),
        "article": (readers, site.get_absolute_url()),
        "article with comment form": (readers, "/articles/what-is-scalp-micropigmentation/"),
        "article with images": (readers, pictured.get_absolute_url()),
        "author": (readers, "/authors/sam-writer/"),
        "search": (readers, "/search/?q=ink"),
        "topics": (readers, "/topics/"),
        "topic": (readers, "/topics/side-effects-and-aftercare/"),
        "editorial policy": (readers, "/editorial-policy/"),
        "privacy": (readers, "/privacy/"),
        "not found": (readers, "/articles/no-such-article/"),
        "report a comment": (readers, f"/comments/{Comment.objects.approved().first().pk}/report/"),
        "article with replies and a pinned staff answer": (readers, conversation()),
        "reply form": (readers, f"/comments/{Comment.objects.approved().first().pk}/reply/"),
        "reply form with the staff answer form (editor)": (
            editor,
            f"/comments/{Comment.objects.approved().first().pk}/reply/",
        ),
        "admin login": (Client(), "/admin/login/"),
        "article list (editor)": (editor, "/admin/articles/article/"),
        "article change (editor)": (editor, f"{article_admin}/change/"),
        "article add (editor)": (editor, "/admin/articles/article/add/"),
        "article history (editor)": (editor, f"{article_admin}/history/"),
        "author add (editor)": (editor, "/admin/articles/author/add/"),
        "site page add (editor)": (editor, "/admin/articles/sitepage/add/"),
        "topic list (editor)": (editor, "/admin/articles/topic/"),
        "topic add (editor)": (editor, "/admin/articles/topic/add/"),
        "image library (editor)": (editor, "/admin/images/image/"),
        "image upload (editor)": (editor, "/admin/images/image/add/"),
        "image change (editor)": (editor, f"/admin/images/image/{featured_image.pk}/change/"),
        "article with images change (editor)": (
            editor,
            f"/admin/articles/article/{pictured.pk}/change/",
        ),
        "image library (reviewer)": (reviewer, "/admin/images/image/"),
        "comment queue (moderator)": (moderator, "/admin/comments/comment/?status=all"),
        "personal data form (moderator)": (moderator, "/admin/comments/personaldatarequest/add/"),
        "moderation link from an email (moderator)": (
            moderator,
            f"/comments/moderate/{make_token(Comment.objects.approved().first(), 'spam')}/",
        ),
        "personal data requests (moderator)": (moderator, "/admin/comments/personaldatarequest/"),
        "article change (moderator)": (moderator, f"{article_admin}/change/"),
        "review add (reviewer)": (reviewer, f"/admin/articles/review/add/?article={site.pk}"),
        "review list (reviewer)": (reviewer, "/admin/articles/review/"),
        "staff answer form (reviewer)": (reviewer, answer_page()),
        "questions without an answer (reviewer)": (reviewer, "/admin/comments/comment/?answers=unanswered"),
        "comment change with its answer link (moderator)": (
            moderator,
            f"/admin/comments/comment/{Comment.objects.approved().first().pk}/change/",
        ),
        "confirm an address for reader emails": (readers, reader_link("confirmation_link")),
        "unsubscribe from reader emails": (readers, reader_link("unsubscribe_link")),
    }


def reader_link(kind):
    """The path of a link of a reader's email (comments.subscriptions), for an address not yet confirmed."""
    address, _ = NotificationAddress.objects.get_or_create(email="sam@example.org")
    return urlsplit(getattr(subscriptions, kind)(address)).path


def answer_page():
    """The admin's page to answer a comment readers see."""
    return f"/admin/comments/comment/{Comment.objects.approved().first().pk}/answer/"


def conversation():
    """The address of an open article whose comment has a reader's reply and a pinned staff
    answer with an author profile."""
    article = Article.objects.get(slug="what-is-scalp-micropigmentation")
    question = article.comments.approved().first()
    CommentFactory(article=article, parent=question, body="Same question here.")
    CommentFactory(
        article=article, parent=question, is_staff_answer=True, pinned=True,
        staff_author=AuthorFactory(name="Sam Answerer", slug="sam-answerer"), body="It fades as it heals.",
    )  # fmt: skip
    return article.get_absolute_url()


def answers_to_forms():
    """{name: (expected status, response)} of the pages a form sent back answers with."""
    open_article = Article.objects.get(slug="what-is-scalp-micropigmentation")
    reader = Client()
    refused_upload = {
        "upload": upload(b"GIF89a not really a picture", name="scan.gif", content_type="image/gif")
    }
    invalid_comment = comment_form_data(open_article, author_name="", author_email="not an email", body="")
    return {
        "comment form shown again with errors": (
            400,
            reader.post(f"/articles/{open_article.slug}/comments/", invalid_comment),
        ),
        "admin login refused": (
            200,
            Client().post("/admin/login/?next=/admin/", {"username": "nobody", "password": "wrong"}),
        ),
        "comment report without a reason": (
            400,
            reader.post(f"/comments/{Comment.objects.approved().first().pk}/report/", {}),
        ),
        "personal data erasure unconfirmed (moderator)": (
            400,
            browser("Moderators").post(
                "/admin/comments/personaldatarequest/add/", {"email": "x@example.org", "action": "delete"}
            ),
        ),
        "moderation link refused (moderator)": (
            400,
            browser("Moderators").get("/comments/moderate/not-a-token/"),
        ),
        "image upload refused (editor)": (
            200,
            browser("Editors").post("/admin/images/image/add/", {**refused_upload, "alt_text": ""}),
        ),
        "staff answer without text (moderator)": (
            400,
            browser("Moderators").post(answer_page(), {"body": ""}),
        ),
        "reader email address confirmed": (200, reader.post(reader_link("confirmation_link"))),
        "unsubscribed from reader emails": (200, reader.post(reader_link("unsubscribe_link"))),
        "reader email link refused": (400, reader.get("/comments/unsubscribe/not-a-token/")),
        "staff answer to a held comment refused (moderator)": (
            409,
            browser("Moderators").post(
                f"/admin/comments/comment/{CommentFactory(status=Comment.Status.PENDING).pk}/answer/",
                {"body": "Too early."},
            ),
        ),
    }


def test_reader_and_admin_pages_are_valid_html(site, illustrated, tmp_path):
    assert shutil.which("java"), "the Nu Html Checker needs Java"
    assert VNU_JAR.exists(), "vnu-jar is missing: `make test` installs it (npm ci)"
    answers = {
        name: ((200, 404), client.get(url)) for name, (client, url) in pages(site, illustrated).items()
    }
    answers.update({name: ((status,), response) for name, (status, response) in answers_to_forms().items()})
    for name, (_, response) in answers.items():
        if "image" in name:  # none of them may be a 404 page validated in its place
            assert response.status_code == 200, (name, response.status_code)
    files = {}
    for name, (statuses, response) in answers.items():
        assert response.status_code in statuses, (name, response.status_code)
        path = tmp_path / f"{len(files):02d}.html"
        path.write_bytes(response.content)
        files[path.name] = name

    checked = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--format",
            "json",
            *(str(p) for p in tmp_path.iterdir()),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )

    report = json.loads(checked.stderr.strip() or checked.stdout.strip())  # the checker reports on stderr
    errors = [
        f"{page_of(message, files)}: {message.get('message')} ({message.get('extract', '')!r})"
        for message in report["messages"]
        if message.get("type") in ("error", "non-document-error")
    ]
    assert errors == []
    assert checked.returncode == 0, report


def page_of(message, files):
    """The name of the page a checker message is about (it names the file by its URL)."""
    url = message.get("url", "")
    return files.get(url.rsplit("/", 1)[-1], url)
