"""Medical review: reviewers record reviews of an article as it stands, readers see who
reviewed it and whether it changed since, editors see what is due; with
ARTICLES_REVIEW_REQUIRED only reviewed content is published (DESIGN.md, "Editorial trust")."""

import io
import json
import logging
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import dateformat, formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import strip_tags
from mailer.models import Message
from reversion.models import Version

from articles.models import Article, Review
from tests.caches import empty_caches
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ReferenceFactory,
    ReviewFactory,
    UserFactory,
    admin_article_form_data,
    inline_form_data,
)
from tests.pictures import library_image
from tests.queries import count_uncached_queries

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/articles/article/"
REVIEWS = "/admin/articles/review/"
NOT_REVIEWED = "This article has not yet been medically reviewed."
APPROVED = Review.Outcome.APPROVED
CHANGES_REQUESTED = Review.Outcome.CHANGES_REQUESTED
# A review date in the past, so that the page's dates cannot be today's by chance.
REVIEWED_ON = timezone.make_aware(datetime(2024, 3, 5, 10, 0))


# --- Helpers -------------------------------------------------------------------------------


def reader_page(article):
    """The article page as an anonymous reader gets it on the next request."""
    empty_caches()  # tests run in a transaction that never commits: no cached page is retired
    response = Client().get(f"/articles/{article.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def review_line(html):
    """The text of the page's id="review" element, whitespace collapsed."""
    match = re.search(r'<p id="review"[^>]*>(.*?)</p>', html, re.DOTALL)
    assert match, 'the page has no id="review" element'
    return " ".join(strip_tags(match.group(1)).split())


def json_ld(html):
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    return json.loads(match.group(1))


def long_date(moment):
    """A date as the article page writes it: "5 March 2024"."""
    return dateformat.format(timezone.localtime(moment), "j F Y")


def stored(article):
    return Article.objects.get(pk=article.pk)


def change_article(client, article, **overrides):
    """POST the admin change form of `article` as it stands, with `overrides`."""
    return client.post(
        f"{ARTICLES}{article.pk}/change/", admin_article_form_data(stored(article), **overrides)
    )


def saved(response):
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def review_form_data(article, outcome=APPROVED, note="Checked against current guidance.", **fields):
    """The review add form as it is sent after opening it with ?article=<id>."""
    data = {
        "article": str(article.pk),
        "outcome": outcome,
        "note": note,
        "seen_digest": stored(article).content_digest,
    }
    data.update(fields)
    return data


def record_review(client, article, **fields):
    return client.post(f"{REVIEWS}add/", review_form_data(article, **fields))


def restore(client, article, version):
    """Restore `version` of `article` through its history page, as an editor does (the side
    effects of the tests' articles do not change between revisions)."""
    fields = version.field_dict
    data = admin_article_form_data(
        stored(article), title=fields["title"], summary=fields["summary"], body=fields["body"]
    )
    saved(client.post(f"{ARTICLES}{article.pk}/history/{version.pk}/", data))


def versions_oldest_first(article):
    return sorted(Version.objects.get_for_object(article), key=lambda version: version.pk)


class ChangelistRows(HTMLParser):
    """The admin changelist's result table: `headings` {column: heading} and by_title()
    {title: {column: text}} of its rows (a boolean's icon as its alt text)."""

    def __init__(self, html):
        super().__init__()
        self.rows, self.headings, self.cell, self.heading, self.in_results = [], {}, None, None, False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "result_list":
            self.in_results = True
        elif self.in_results and tag == "tr":
            self.rows.append({})
        elif self.in_results and tag in ("td", "th"):
            classes = (attrs.get("class") or "").split()
            headings = [name.removeprefix("column-") for name in classes if name.startswith("column-")]
            if headings:
                self.heading = headings[0]
                self.headings[self.heading] = ""
            columns = [name.removeprefix("field-") for name in classes if name.startswith("field-")]
            self.cell = columns[0] if columns else None
            if self.cell:
                self.rows[-1][self.cell] = ""
        elif self.cell and tag == "img":
            self.rows[-1][self.cell] += attrs.get("alt", "")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cell = self.heading = None
        elif tag == "table":
            self.in_results = False

    def handle_data(self, data):
        if self.cell:
            self.rows[-1][self.cell] += data
        elif self.heading:
            self.headings[self.heading] += data.strip()

    def by_title(self):
        return {
            row["title"].strip(): {column: " ".join(text.split()) for column, text in row.items()}
            for row in self.rows
            if "title" in row
        }


def changelist(client, query=""):
    response = client.get(ARTICLES + query)
    assert response.status_code == 200
    return ChangelistRows(response.content.decode()).by_title()


@pytest.fixture
def reviewer_author(reviewer):
    """The author profile the reviewer's account acts as: “Dr Ada Reviewer, MD, dermatologist”."""
    return reviewer.author_profile


@pytest.fixture
def superuser_client(db):
    browser = Client()
    browser.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return browser


@pytest.fixture
def admin_article(editor_client):
    """A published article added through the admin, so it has a saved revision: "Healing after SMP"."""
    saved(editor_client.post(f"{ARTICLES}add/", admin_article_form_data()))
    return Article.objects.get(slug="healing-after-smp")


@pytest.fixture
def review_required(settings):
    settings.ARTICLES_REVIEW_REQUIRED = True


# --- Reviewers: read everything, record reviews, change nothing ------------------------------


def test_reviewers_group_may_read_articles_add_reviews_and_answer_comments_only():
    permissions = set(Group.objects.get(name="Reviewers").permissions.values_list("codename", flat=True))

    assert permissions == {
        "answer_comment",
        "view_article",
        "view_sideeffect",
        "view_author",
        "view_reference",
        "view_review",
        "view_topic",
        "view_image",
        "add_review",
    }


def test_reviewer_cannot_change_article_content(reviewer_client, article):
    body = article.body

    response = change_article(reviewer_client, article, title="Vandalised", body="Rewritten.")

    assert response.status_code == 403
    assert stored(article).title == article.title
    assert stored(article).body == body


def test_reviewer_sees_the_article_change_page_read_only(reviewer_client, article):
    response = reviewer_client.get(f"{ARTICLES}{article.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert article.title in html
    assert 'name="_save"' not in html


def test_article_change_page_links_a_reviewer_to_record_a_review(reviewer_client, article):
    html = reviewer_client.get(f"{ARTICLES}{article.pk}/change/").content.decode()

    assert f'<a href="{REVIEWS}add/?article={article.pk}">Record a medical review</a>' in html


def test_article_change_page_offers_no_review_to_an_editor(editor_client, article):
    html = editor_client.get(f"{ARTICLES}{article.pk}/change/").content.decode()

    assert "Record a medical review" not in html


def test_reviewer_previews_a_draft_on_the_site(reviewer_client, client):
    draft = ArticleFactory(title="Unfinished advice", status=Article.Status.DRAFT)

    response = reviewer_client.get(f"/articles/{draft.slug}/")

    assert response.status_code == 200
    assert "Unfinished advice" in response.content.decode()
    assert "Preview: not visible to readers." in response.content.decode()
    assert client.get(f"/articles/{draft.slug}/").status_code == 404


def test_review_form_opened_from_an_article_remembers_the_content_it_shows(reviewer_client, article):
    response = reviewer_client.get(f"{REVIEWS}add/?article={article.pk}")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'name="seen_digest" value="{stored(article).content_digest}"' in html
    assert 'name="reviewer"' not in html  # a reviewer reviews as themselves


def test_reviewer_records_a_review_of_the_article_as_it_stands(
    reviewer_client, reviewer, reviewer_author, admin_article
):
    response = record_review(reviewer_client, admin_article, note="Doses match the 2024 guidance.")

    saved(response)
    review = Review.objects.get()
    assert review.article == admin_article
    assert review.reviewer == reviewer_author
    assert review.recorded_by == reviewer
    assert review.outcome == APPROVED
    assert review.note == "Doses match the 2024 guidance."
    assert review.content_digest == stored(admin_article).content_digest
    assert review.version == Version.objects.get_for_object(admin_article).first()


def test_superuser_records_a_review_in_the_name_of_the_reviewer_they_pick(superuser_client, article):
    doctor = AuthorFactory(name="Dr Bo Second", slug="bo-second")

    saved(record_review(superuser_client, article, reviewer=str(doctor.pk)))

    assert Review.objects.get().reviewer == doctor


@pytest.mark.parametrize("role_client", ["reviewer_client", "editor_client"])
def test_nobody_but_a_superuser_can_change_a_review(request, role_client, reviewer_author, article):
    review = ReviewFactory(article=article, reviewer=reviewer_author, note="Fine as it is.")
    browser = request.getfixturevalue(role_client)

    response = browser.post(
        f"{REVIEWS}{review.pk}/change/",
        {"article": str(article.pk), "outcome": CHANGES_REQUESTED, "note": "Rewritten afterwards."},
    )

    assert response.status_code == 403
    review.refresh_from_db()
    assert (review.outcome, review.note) == (APPROVED, "Fine as it is.")


def test_superuser_can_correct_a_review(superuser_client, reviewer_author, article):
    review = ReviewFactory(article=article, reviewer=reviewer_author, note="Fine as it is.")

    saved(
        superuser_client.post(
            f"{REVIEWS}{review.pk}/change/",
            {
                "article": str(article.pk),
                "reviewer": str(reviewer_author.pk),
                "outcome": APPROVED,
                "note": "Fine as it is; typo fixed.",
            },
        )
    )

    review.refresh_from_db()
    assert review.note == "Fine as it is; typo fixed."


# --- The review line and structured data ----------------------------------------------------


def test_unreviewed_article_says_it_has_not_been_medically_reviewed(article):
    html = reader_page(article)

    assert review_line(html).startswith(NOT_REVIEWED)
    assert "reviewedBy" not in json_ld(html)
    assert "lastReviewed" not in json_ld(html)


def test_a_request_for_changes_is_not_a_medical_review(reviewer_author, article):
    ReviewFactory(article=article, reviewer=reviewer_author, outcome=CHANGES_REQUESTED, note="Fix the dose.")

    assert review_line(reader_page(article)).startswith(NOT_REVIEWED)


def test_approved_review_shows_the_reviewer_credentials_date_and_next_review(reviewer_author, article):
    ReviewFactory(article=article, reviewer=reviewer_author, reviewed_at=REVIEWED_ON)

    line = review_line(reader_page(article))

    assert line.startswith(
        "Medically reviewed by Dr Ada Reviewer, MD, dermatologist on 5 March 2024. "
        "Next review due March 2025."
    )


def test_review_recorded_in_the_admin_shows_on_the_article_page(reviewer_client, article):
    saved(record_review(reviewer_client, article))

    review = Review.objects.get()
    assert review_line(reader_page(article)).startswith(
        f"Medically reviewed by Dr Ada Reviewer, MD, dermatologist on {long_date(review.reviewed_at)}."
    )


def test_json_ld_names_the_reviewer_and_the_review_date(reviewer_author, article):
    ReviewFactory(article=article, reviewer=reviewer_author, reviewed_at=REVIEWED_ON)

    data = json_ld(reader_page(article))

    assert data["reviewedBy"]["@type"] == "Person"
    assert data["reviewedBy"]["name"] == "Dr Ada Reviewer"
    assert data["reviewedBy"]["jobTitle"] == "MD, dermatologist"
    assert data["reviewedBy"]["url"] == "http://testserver/authors/ada-reviewer/"
    assert data["lastReviewed"] == "2024-03-05"


def test_body_edited_after_the_review_says_updated_since_the_last_medical_review(
    editor_client, reviewer_author, article
):
    ReviewFactory(article=article, reviewer=reviewer_author, reviewed_at=REVIEWED_ON)

    saved(change_article(editor_client, article, body="A new paragraph on aftercare."))

    line = review_line(reader_page(article))
    assert line.startswith(
        "Updated since its last medical review on 5 March 2024 by Dr Ada Reviewer, MD, dermatologist."
    )
    assert "Medically reviewed" not in line


def test_json_ld_keeps_the_last_review_date_after_the_content_changed(
    editor_client, reviewer_author, article
):
    ReviewFactory(article=article, reviewer=reviewer_author, reviewed_at=REVIEWED_ON)

    saved(change_article(editor_client, article, body="A new paragraph on aftercare."))

    data = json_ld(reader_page(article))
    assert data["lastReviewed"] == "2024-03-05"
    assert data["reviewedBy"]["name"] == "Dr Ada Reviewer"


def edit_side_effect_in_the_admin(editor_client, article):
    saved(change_article(editor_client, article, **{"side_effects-0-advice": "See a doctor at once."}))


def add_reference(editor_client, article):
    ReferenceFactory(article=article, title="A newer study")


def delete_side_effect(editor_client, article):
    article.side_effects.first().delete()


def set_a_featured_image(editor_client, article):
    saved(change_article(editor_client, article, featured_image=str(library_image().pk)))


def give_a_side_effect_an_image(editor_client, article):
    effect = article.side_effects.first()
    effect.image = library_image()
    effect.save()


@pytest.mark.parametrize(
    "change",
    [edit_side_effect_in_the_admin, add_reference, delete_side_effect, set_a_featured_image,
     give_a_side_effect_an_image],
)  # fmt: skip
def test_side_effect_or_reference_change_after_the_review_says_updated_since(
    change, editor_client, reviewer_author, article
):
    ReviewFactory(article=article, reviewer=reviewer_author, reviewed_at=REVIEWED_ON)

    change(editor_client, article)

    assert review_line(reader_page(article)).startswith(
        "Updated since its last medical review on 5 March 2024"
    )


def test_byline_and_comment_changes_keep_the_review_current(editor_client, reviewer_author, article):
    ReviewFactory(article=article, reviewer=reviewer_author, reviewed_at=REVIEWED_ON)
    writer = AuthorFactory(name="Sam Writer", slug="sam-writer")

    saved(
        change_article(
            editor_client,
            article,
            comments_open="",
            **inline_form_data("author_links", [{"author": str(writer.pk), "order": "1"}]),
        )
    )

    html = reader_page(article)
    assert "Sam Writer" in html
    assert review_line(html).startswith(
        "Medically reviewed by Dr Ada Reviewer, MD, dermatologist on 5 March 2024."
    )


def test_approval_of_the_edited_content_makes_the_review_current_again(
    editor_client, reviewer_client, reviewer_author, article
):
    ReviewFactory(article=article, reviewer=reviewer_author, reviewed_at=REVIEWED_ON)
    saved(change_article(editor_client, article, body="A new paragraph on aftercare."))

    saved(record_review(reviewer_client, article))

    today = long_date(Review.objects.latest("reviewed_at").reviewed_at)
    assert review_line(reader_page(article)).startswith(
        f"Medically reviewed by Dr Ada Reviewer, MD, dermatologist on {today}."
    )


# --- "Updated" moves only when what readers see changes ----------------------------------------


@pytest.fixture
def published_yesterday(db):
    """An article published yesterday, its content last changed the day before."""
    article = ArticleFactory(side_effects=2, published_at=timezone.now() - timedelta(days=1))
    Article.objects.filter(pk=article.pk).update(updated_at=timezone.now() - timedelta(days=2))
    return stored(article)


def test_closing_comments_in_the_admin_leaves_the_updated_date(editor_client, published_yesterday):
    before = stored(published_yesterday).updated_at

    saved(change_article(editor_client, published_yesterday, comments_open=""))

    assert stored(published_yesterday).comments_open is False
    assert stored(published_yesterday).updated_at == before
    assert "Updated <time" not in reader_page(published_yesterday)


def test_admin_save_that_changes_nothing_leaves_the_updated_date(editor_client, published_yesterday):
    before = stored(published_yesterday).updated_at

    saved(change_article(editor_client, published_yesterday))

    assert stored(published_yesterday).updated_at == before


@pytest.mark.parametrize(
    "stored_fields",
    [
        {"content_revision": "older-template"},  # rendered before a deploy changed the templates
        {"content_revision": "", "content_digest": "", "header_html": ""},  # loaded in bulk
    ],
    ids=["stale", "bulk-loaded"],
)
def test_refresh_article_content_leaves_the_updated_date(stored_fields, published_yesterday):
    before = stored(published_yesterday).updated_at
    Article.objects.filter(pk=published_yesterday.pk).update(**stored_fields)
    output = io.StringIO()

    call_command("refresh_article_content", stdout=output)

    assert "Rendered 1 article again" in output.getvalue()
    refreshed = stored(published_yesterday)
    assert refreshed.content_digest
    assert refreshed.updated_at == before


def test_body_edit_in_the_admin_moves_the_updated_date(editor_client, published_yesterday):
    before = stored(published_yesterday).updated_at

    saved(change_article(editor_client, published_yesterday, body="A new paragraph on aftercare."))

    after = stored(published_yesterday).updated_at
    assert after > before
    html = reader_page(published_yesterday)
    assert re.search(rf"Updated <time datetime=\"[^\"]+\">{long_date(after)}</time>", html)
    assert parse_datetime(json_ld(html)["dateModified"]) == after.replace(
        microsecond=after.microsecond // 1000 * 1000
    )


def test_restoring_an_old_revision_moves_the_updated_date(editor_client, admin_article):
    saved(change_article(editor_client, admin_article, body="A second version of the text."))
    edited_at = stored(admin_article).updated_at

    restore(editor_client, admin_article, versions_oldest_first(admin_article)[0])

    restored = stored(admin_article)
    assert restored.body == "## First days\n\nSome *redness* is normal."
    # What readers see changed again: "Updated", dateModified and the sitemap must not go back.
    assert restored.updated_at > edited_at


# --- What the review form refuses ---------------------------------------------------------------


def test_reviewer_without_an_author_profile_cannot_record_a_review(article):
    browser = Client()
    browser.force_login(UserFactory(username="nameless", is_staff=True, groups=["Reviewers"]))

    response = record_review(browser, article)

    assert response.status_code == 200
    assert "Your account is not linked to an author profile" in response.content.decode()
    assert not Review.objects.exists()


def test_review_is_refused_when_the_article_changed_after_the_form_was_opened(
    reviewer_client, editor_client, article
):
    opened = reviewer_client.get(f"{REVIEWS}add/?article={article.pk}").content.decode()
    seen = re.search(r'name="seen_digest" value="([0-9a-f]+)"', opened).group(1)
    saved(change_article(editor_client, article, body="Changed while the reviewer was reading."))

    response = record_review(reviewer_client, article, seen_digest=seen)

    assert response.status_code == 200
    assert "The article changed after you opened this form." in response.content.decode()
    assert not Review.objects.exists()


def test_author_of_an_article_cannot_approve_it(reviewer_client, reviewer_author, article):
    article.authors.add(reviewer_author)

    response = record_review(reviewer_client, article, outcome=APPROVED)

    assert response.status_code == 200
    assert "An author of an article cannot approve it: another reviewer must." in response.content.decode()
    assert not Review.objects.exists()


def test_request_for_changes_needs_a_note(reviewer_client, article):
    response = record_review(reviewer_client, article, outcome=CHANGES_REQUESTED, note="  ")

    assert response.status_code == 200
    assert "Say what must change" in response.content.decode()
    assert not Review.objects.exists()


# --- "Changes requested" emails ----------------------------------------------------------------


@pytest.fixture
def article_with_authors(db, editor):
    """ "Blue dots" by an author with an account, one whose account is inactive and one
    without an account; the active editor and an inactive one."""
    article = ArticleFactory(title="Blue dots")
    writer = AuthorFactory(name="Sam Writer", slug="sam-writer", user=UserFactory(email="sam@clinic.example"))
    gone = AuthorFactory(
        name="Gone Writer", slug="gone-writer", user=UserFactory(email="gone@clinic.example", is_active=False)
    )
    guest = AuthorFactory(name="Guest Writer", slug="guest-writer")
    article.authors.add(writer, gone, guest)
    UserFactory(username="old-editor", email="old@clinic.example", is_active=False, groups=["Editors"])
    return article


def test_changes_requested_emails_the_authors_and_editors(
    reviewer_client, article_with_authors, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://smp.example/"

    with django_capture_on_commit_callbacks(execute=True):
        saved(
            record_review(
                reviewer_client, article_with_authors, outcome=CHANGES_REQUESTED, note="Cite the 2023 study."
            )
        )

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["editor@example.org", "sam@clinic.example"]
    assert message.subject == "[smpinfo] Changes requested to “Blue dots”"
    assert "Dr Ada Reviewer reviewed “Blue dots” and asks for changes." in message.body
    assert "Cite the 2023 study." in message.body
    assert f"https://smp.example/admin/articles/article/{article_with_authors.pk}/change/" in message.body


def test_changes_requested_email_is_queued_in_the_review_transaction(
    reviewer_client, article_with_authors, settings
):
    settings.EMAIL_BACKEND = "mailer.backend.DbBackend"  # the site's mail queue (tests/test_email_queue.py)

    saved(record_review(reviewer_client, article_with_authors, outcome=CHANGES_REQUESTED, note="Fix it."))

    assert mail.outbox == []
    assert Review.objects.count() == 1
    assert [message.subject for message in Message.objects.all()] == [
        "[smpinfo] Changes requested to “Blue dots”"
    ]


def test_correcting_a_request_for_changes_sends_no_second_email(
    reviewer_client,
    superuser_client,
    reviewer_author,
    article_with_authors,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        saved(record_review(reviewer_client, article_with_authors, outcome=CHANGES_REQUESTED, note="Fix it."))
        review = Review.objects.get()
        saved(
            superuser_client.post(
                f"{REVIEWS}{review.pk}/change/",
                {
                    "article": str(article_with_authors.pk),
                    "reviewer": str(reviewer_author.pk),
                    "outcome": CHANGES_REQUESTED,
                    "note": "Fix the dose, please.",
                },
            )
        )

    assert len(mail.outbox) == 1


def test_approval_sends_no_email(reviewer_client, article_with_authors, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        saved(record_review(reviewer_client, article_with_authors, outcome=APPROVED))

    assert Review.objects.get().outcome == APPROVED
    assert mail.outbox == []


def test_failing_mail_server_keeps_the_review_and_logs_the_failure(
    reviewer_client, article_with_authors, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.failing_email.FailingEmailBackend"

    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = record_review(
            reviewer_client, article_with_authors, outcome=CHANGES_REQUESTED, note="Keep me"
        )

    saved(response)
    assert Review.objects.get().note == "Keep me"
    assert f"Could not email the review of article {article_with_authors.pk}" in caplog.text


def test_article_title_with_line_breaks_cannot_break_the_subject(
    reviewer_client, editor, django_capture_on_commit_callbacks
):
    article = ArticleFactory(title="Title\r\nBcc: victim@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        saved(record_review(reviewer_client, article, outcome=CHANGES_REQUESTED, note="Fix it."))

    assert mail.outbox[0].subject == "[smpinfo] Changes requested to “Title Bcc: victim@example.org”"
    assert mail.outbox[0].bcc == []


# --- ARTICLES_REVIEW_REQUIRED ------------------------------------------------------------------


def publish(client, article, **overrides):
    return change_article(client, article, status=Article.Status.PUBLISHED, **overrides)


@pytest.fixture
def draft(db):
    return ArticleFactory(title="Draft on healing", status=Article.Status.DRAFT, side_effects=2)


def test_unreviewed_articles_are_published_when_review_is_not_required(editor_client, client):
    saved(editor_client.post(f"{ARTICLES}add/", admin_article_form_data()))

    assert stored(Article.objects.get(slug="healing-after-smp")).status == Article.Status.PUBLISHED
    assert client.get("/articles/healing-after-smp/").status_code == 200


def test_required_review_refuses_to_publish_a_new_article(editor_client, review_required):
    response = editor_client.post(f"{ARTICLES}add/", admin_article_form_data())

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"status"}
    html = response.content.decode()
    assert "This site publishes only medically reviewed content" in html
    assert "Some *redness* is normal." in html
    assert "Needles perforate the skin." in html
    assert not Article.objects.exists()


def test_required_review_refuses_to_publish_a_draft_changed_in_the_same_save(
    editor_client, reviewer_author, draft, review_required
):
    ReviewFactory(article=draft, reviewer=reviewer_author)

    response = publish(editor_client, draft, body="Changed as it is published.")

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"status"}
    assert "Changed as it is published." in response.content.decode()
    assert stored(draft).status == Article.Status.DRAFT
    assert stored(draft).body == draft.body


def request_changes(article, reviewer):
    ReviewFactory(article=article, reviewer=reviewer, outcome=CHANGES_REQUESTED, note="Fix it.")


def approve_then_edit(article, reviewer):
    ReviewFactory(article=article, reviewer=reviewer)
    article.side_effects.update(advice="Changed after the review.")


@pytest.mark.parametrize(
    "history",
    [None, request_changes, approve_then_edit],
    ids=["never-reviewed", "changes-requested", "edited"],
)
def test_required_review_refuses_to_publish_a_draft_without_an_approval_of_its_content(
    history, editor_client, reviewer_author, draft, review_required
):
    if history:
        history(draft, reviewer_author)

    response = publish(editor_client, draft)

    assert response.status_code == 200
    assert "This site publishes only medically reviewed content" in str(
        response.context["adminform"].form.errors["status"]
    )
    assert stored(draft).status == Article.Status.DRAFT


def test_required_review_publishes_a_draft_whose_content_was_approved(
    editor_client, client, reviewer_author, draft, review_required
):
    ReviewFactory(article=draft, reviewer=reviewer_author)

    saved(publish(editor_client, draft))

    assert stored(draft).status == Article.Status.PUBLISHED
    assert client.get(f"/articles/{draft.slug}/").status_code == 200


def test_required_review_keeps_a_draft_whose_side_effects_change_as_it_is_published(
    editor_client, reviewer_author, draft, review_required
):
    ReviewFactory(article=draft, reviewer=reviewer_author)

    response = publish(editor_client, draft, **{"side_effects-0-advice": "Changed as it is published."})

    saved(response)
    page = editor_client.get(response["Location"]).content.decode()
    assert "Saved as a draft, not published" in page
    assert stored(draft).status == Article.Status.DRAFT
    assert stored(draft).side_effects.first().advice == "Changed as it is published."


def run_publish_action(client, *articles):
    return client.post(
        ARTICLES,
        {"action": "publish_articles", ACTION_CHECKBOX_NAME: [str(article.pk) for article in articles]},
        follow=True,
    )


def test_publish_action_publishes_only_reviewed_drafts_and_names_the_others(
    editor_client, reviewer_author, review_required
):
    reviewed = ArticleFactory(title="Reviewed draft", status=Article.Status.DRAFT, side_effects=1)
    ReviewFactory(article=reviewed, reviewer=reviewer_author)
    unreviewed = ArticleFactory(title="Unreviewed draft", status=Article.Status.DRAFT)
    edited = ArticleFactory(title="Edited draft", status=Article.Status.DRAFT, side_effects=1)
    approve_then_edit(edited, reviewer_author)

    response = run_publish_action(editor_client, reviewed, unreviewed, edited)

    html = response.content.decode()
    assert "Published 1 article." in html
    assert "Not published, because no approved medical review saw their current content:" in html
    assert "“Unreviewed draft”" in html
    assert "“Edited draft”" in html
    assert stored(reviewed).status == Article.Status.PUBLISHED
    assert stored(unreviewed).status == Article.Status.DRAFT
    assert stored(edited).status == Article.Status.DRAFT


def test_publish_action_publishes_every_draft_when_review_is_not_required(editor_client):
    drafts = ArticleFactory.create_batch(2, status=Article.Status.DRAFT)

    response = run_publish_action(editor_client, *drafts)

    assert "Published 2 articles." in response.content.decode()
    assert {stored(draft).status for draft in drafts} == {Article.Status.PUBLISHED}


# --- History ------------------------------------------------------------------------------------


def test_history_page_lists_the_reviews_beside_the_revisions(editor_client, reviewer_client, admin_article):
    saved(record_review(reviewer_client, admin_article, note="Checked the healing times."))
    saved(change_article(editor_client, admin_article, body="A second version."))
    saved(record_review(reviewer_client, admin_article, outcome=CHANGES_REQUESTED, note="Cite a source."))
    other = ArticleFactory()
    ReviewFactory(article=other, reviewer=AuthorFactory(name="Dr Not Here", slug="not-here"))

    html = editor_client.get(f"{ARTICLES}{admin_article.pk}/history/").content.decode()

    assert html.count('name="version_id1"') == 2  # the two revisions
    reviews = html.split('id="medical-reviews"', 1)[1]
    assert reviews.count("Dr Ada Reviewer") == 2
    assert "Approved" in reviews
    assert "Checked the healing times." in reviews
    assert "Changes requested" in reviews
    assert "Cite a source." in reviews
    assert "No saved revision" not in reviews  # each names the revision it saw
    assert "Dr Not Here" not in reviews


def test_history_page_says_when_an_article_has_not_been_reviewed(editor_client, admin_article):
    html = editor_client.get(f"{ARTICLES}{admin_article.pk}/history/").content.decode()

    assert "This article has not been reviewed yet." in html.split('id="medical-reviews"', 1)[1]


def test_restoring_an_old_revision_keeps_every_review(editor_client, reviewer_client, admin_article):
    saved(change_article(editor_client, admin_article, body="A second version."))
    saved(record_review(reviewer_client, admin_article))

    restore(editor_client, admin_article, versions_oldest_first(admin_article)[0])

    assert Review.objects.filter(article=admin_article).count() == 1


def test_restoring_a_reviewed_revision_shows_its_review_again(editor_client, reviewer_client, admin_article):
    saved(record_review(reviewer_client, admin_article))
    reviewed_on = long_date(Review.objects.get().reviewed_at)
    saved(change_article(editor_client, admin_article, body="A second version."))
    assert review_line(reader_page(admin_article)).startswith("Updated since its last medical review")

    restore(editor_client, admin_article, versions_oldest_first(admin_article)[0])

    assert review_line(reader_page(admin_article)).startswith(
        f"Medically reviewed by Dr Ada Reviewer, MD, dermatologist on {reviewed_on}."
    )


def test_required_review_publishes_a_draft_restored_to_a_revision_a_review_approved(
    editor_client, reviewer_client, review_required
):
    saved(editor_client.post(f"{ARTICLES}add/", admin_article_form_data(status=Article.Status.DRAFT)))
    draft = Article.objects.get(slug="healing-after-smp")
    saved(record_review(reviewer_client, draft))
    saved(change_article(editor_client, draft, body="A second version."))
    restore(editor_client, draft, versions_oldest_first(draft)[0])

    saved(publish(editor_client, draft))

    assert stored(draft).status == Article.Status.PUBLISHED


def test_restoring_a_revision_no_review_saw_says_updated_since_the_review(
    editor_client, reviewer_client, admin_article
):
    saved(change_article(editor_client, admin_article, body="A second version."))
    saved(record_review(reviewer_client, admin_article))

    restore(editor_client, admin_article, versions_oldest_first(admin_article)[0])

    assert review_line(reader_page(admin_article)).startswith("Updated since its last medical review")


def test_restoring_a_reviewed_revision_after_a_later_review_shows_the_review_that_saw_it(
    editor_client, reviewer_client, reviewer_author, admin_article
):
    ReviewFactory(article=admin_article, reviewer=reviewer_author, reviewed_at=REVIEWED_ON)
    saved(change_article(editor_client, admin_article, body="A second version."))
    saved(record_review(reviewer_client, admin_article))  # today, of the second version

    restore(editor_client, admin_article, versions_oldest_first(admin_article)[0])

    assert review_line(reader_page(admin_article)).startswith(
        "Medically reviewed by Dr Ada Reviewer, MD, dermatologist on 5 March 2024."
    )


# --- The article changelist ---------------------------------------------------------------------


@pytest.fixture
def review_states(reviewer_author):
    """One article in each review state: {state: article}."""
    now = timezone.now()
    articles = {
        "never": ArticleFactory(title="Unreviewed article"),
        "changes": ArticleFactory(title="Article with changes requested"),
        "overdue": ArticleFactory(title="Article reviewed long ago"),
        "edited": ArticleFactory(title="Article edited after its review", side_effects=1),
        "current": ArticleFactory(title="Article reviewed recently"),
    }
    request_changes(articles["changes"], reviewer_author)
    ReviewFactory(
        article=articles["overdue"], reviewer=reviewer_author, reviewed_at=now - timedelta(days=400)
    )
    ReviewFactory(article=articles["edited"], reviewer=reviewer_author, reviewed_at=now - timedelta(days=10))
    articles["edited"].side_effects.update(advice="Changed after the review.")
    ReviewFactory(article=articles["current"], reviewer=reviewer_author, reviewed_at=now - timedelta(days=10))
    return articles


def test_changelist_shows_when_and_by_whom_each_article_was_reviewed(editor_client, review_states):
    table = ChangelistRows(editor_client.get(ARTICLES).content.decode())
    rows = table.by_title()

    review_columns = ("last_reviewed", "last_reviewer", "edited_since_review", "review_due")
    assert [table.headings[column] for column in review_columns] == [
        "Last reviewed",
        "Reviewer",
        "Edited since review",
        "Review due",
    ]
    assert [rows["Unreviewed article"][column] for column in review_columns] == [
        "Never",
        "–",
        "None",  # the admin's "unknown" icon
        "Now (never reviewed)",
    ]
    recent = Review.objects.get(article=review_states["current"])
    current = rows["Article reviewed recently"]
    assert current["last_reviewed"] == formats.localize(timezone.localtime(recent.reviewed_at).date())
    assert current["last_reviewer"] == "Dr Ada Reviewer"
    assert current["edited_since_review"] == "False"
    due = timezone.localtime(recent.reviewed_at + timedelta(days=365)).date()
    assert current["review_due"] == formats.localize(due)
    assert rows["Article edited after its review"]["edited_since_review"] == "True"
    old = Review.objects.get(article=review_states["overdue"])
    assert rows["Article reviewed long ago"]["review_due"] == (
        f"{timezone.localtime(old.reviewed_at + timedelta(days=365)).date()} (overdue)"
    )
    assert rows["Article with changes requested"]["last_reviewed"] == "Never"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("never", {"Unreviewed article", "Article with changes requested"}),
        ("due", {"Unreviewed article", "Article with changes requested", "Article reviewed long ago"}),
        ("edited", {"Article edited after its review"}),
        ("current", {"Article reviewed recently"}),
    ],
)
def test_review_filter_selects_the_articles_in_that_state(value, expected, editor_client, review_states):
    assert set(changelist(editor_client, f"?review={value}")) == expected


def test_review_filter_offers_each_state(editor_client, review_states):
    html = editor_client.get(ARTICLES).content.decode()

    assert "By medical review" in html
    for value, label in [
        ("never", "Never reviewed"),
        ("due", "Review due"),
        ("edited", "Edited since review"),
        ("current", "Reviewed, up to date"),
    ]:
        assert f'<a href="?review={value}">{label}</a>' in html


def test_changelist_query_count_is_the_same_for_3_and_for_12_articles(
    editor_client, reviewer_author, django_assert_max_num_queries
):
    def add_reviewed_articles(count):
        for article in ArticleFactory.create_batch(count, side_effects=2):
            ReviewFactory(article=article, reviewer=reviewer_author)
            request_changes(article, reviewer_author)

    add_reviewed_articles(3)
    few = count_uncached_queries(editor_client, ARTICLES)
    add_reviewed_articles(9)

    with django_assert_max_num_queries(12):  # the budget of the changelist in test_admin.py
        empty_caches()
        editor_client.get(ARTICLES)
    assert count_uncached_queries(editor_client, ARTICLES) == few
