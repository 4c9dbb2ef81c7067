"""Comments, round two of reliability (issue 16): text that cannot trip the moderation, a
blocklist that look-alike spellings cannot slip past, form tokens good for one comment from
one browser, emails compared in any letter case, and moderator links from the site's address."""

import io
import logging
import re
from importlib import import_module

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from comments.models import BlockedPhrase, Comment
from comments.moderation import find_blocked_phrase
from tests.factories import ArticleFactory, CommentFactory, post_comment
from tests.strategies import NASTY_STRINGS, fuzz_settings

pytestmark = pytest.mark.django_db

HELD = "Every new comment is held for moderation."


@pytest.fixture
def open_article(settings):
    settings.COMMENTS_RATE_LIMIT = "0"
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    return ArticleFactory(title="Healing after SMP", slug="healing", comments_open=True)


def comment_url(article):
    return f"/articles/{article.slug}/comments/"


def page_form(client, article):
    """GET the article page as a browser does: the form's CSRF token and form token."""
    html = client.get(article.get_absolute_url()).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    token = re.search(r'name="form_token" value="([^"]+)"', html).group(1)
    return {"csrfmiddlewaretoken": csrf, "form_token": token}


def reader_fields(**fields):
    return {
        "author_name": "Sam Reader",
        "author_email": "sam@example.org",
        "body": "Thanks, this helped me prepare for my first session.",
        "honeypot": "",
        **fields,
    }


def form_tokens_in(response):
    return re.findall(r'name="form_token" value="([^"]+)"', response.content.decode())


# Text lost on an odd body -----------------------------------------------------------------------


def test_a_body_of_unclosed_tags_is_moderated_and_stored(client, open_article):
    body = "<a" * 2500

    response = post_comment(client, open_article, body=body)

    assert response.status_code == 303
    comment = Comment.objects.get()
    assert comment.body == body
    assert comment.status == Comment.Status.PENDING


@fuzz_settings(150)
@given(text=st.one_of(st.text(max_size=5000), st.sampled_from([*NASTY_STRINGS, "<a" * 2500, "<" * 5000])))
def test_the_blocklist_reads_any_text_without_error(text):
    assert find_blocked_phrase([text], ["viagra", "cheap pills"]) in (None, "viagra", "cheap pills")


def test_a_failure_in_the_policy_gives_the_form_back_with_the_text(client, open_article, monkeypatch, caplog):
    def broken_policy(*args, **kwargs):
        raise ValueError("a bug in the policy")

    monkeypatch.setattr("comments.views.moderate", broken_policy)

    response = post_comment(client, open_article, body="Words I do not want to type again")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Your comment could not be checked" in html
    assert "Words I do not want to type again" in html
    assert not Comment.objects.exists()
    assert "Could not moderate a comment" in caplog.text


# Blocklist evasion --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "vi\u034fagra",  # COMBINING GRAPHEME JOINER
        "vi\ufe0fagra",  # VARIATION SELECTOR-16
        "vi\u3164agra",  # HANGUL FILLER
        "vi\u2800agra",  # BRAILLE PATTERN BLANK inside the word
        "buy\u2800viagra\u2800today",  # ... and as the space around it
        "vi\u0430gr\u0430",  # Cyrillic a (U+0430)
        "v\u0456agra",  # Cyrillic i (U+0456)
        "vi\u00e1gra",  # á, one code point
        "via\u0301gra",  # a and a combining acute accent
        "&#118;iagra",  # a decimal character reference
        "&#x76;i&aacute;gra",  # hexadecimal and named ones
        "<!-- viagra -->",  # inside an HTML comment, shown to readers as written
        "VIAGRA",
    ],
    ids=[
        "grapheme-joiner",
        "variation-selector",
        "hangul-filler",
        "braille-blank-inside",
        "braille-blank-around",
        "cyrillic-a",
        "cyrillic-i",
        "precomposed-acute",
        "combining-acute",
        "decimal-reference",
        "hex-and-named-references",
        "html-comment",
        "capitals",
    ],
)
def test_an_evasive_spelling_of_a_blocked_phrase_is_spam(client, open_article, spelling):
    BlockedPhrase.objects.create(phrase="viagra")

    post_comment(client, open_article, body=f"Hello! {spelling} here")

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.SPAM
    assert comment.status_reason == "Contains the blocked phrase “viagra”."


def test_readers_words_with_accents_and_in_cyrillic_are_not_spam(client, open_article):
    for phrase in ("viagra", "cialis", "casino", "cafe au lait"):
        BlockedPhrase.objects.create(phrase=phrase)
    body = (
        "Le café était délicieux; une question naïve sur la crème. "
        "Привет! Спасибо за статью, мой дерматолог согласен. "
        "My spe\u0441ialist (a Cyrillic с) said the redness would pass."
    )

    post_comment(client, open_article, body=body)

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert comment.status_reason == HELD


def test_a_blocked_phrase_written_in_cyrillic_catches_its_look_alikes(client, open_article):
    BlockedPhrase.objects.create(phrase="казино")

    post_comment(client, open_article, body="Лучшее kaзино online")

    assert Comment.objects.get().status == Comment.Status.SPAM


# Form tokens ----------------------------------------------------------------------------------------


def test_a_form_token_used_by_another_browser_is_refused_and_the_text_kept(open_article):
    shown_to = Client(enforce_csrf_checks=True)
    other = Client(enforce_csrf_checks=True)
    token = page_form(shown_to, open_article)["form_token"]
    others_form = page_form(other, open_article)

    response = other.post(
        comment_url(open_article),
        {**others_form, **reader_fields(body="Borrowed token"), "form_token": token},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "This form has expired or was changed" in html
    assert "Borrowed token" in html
    assert not Comment.objects.exists()


def test_a_form_token_sent_twice_is_refused_the_second_time_with_the_text_kept(open_article):
    reader = Client(enforce_csrf_checks=True)
    form = page_form(reader, open_article)

    first = reader.post(comment_url(open_article), {**form, **reader_fields(body="My first comment")})
    again = reader.post(
        comment_url(open_article), {**form, **reader_fields(body="Sent with the back button")}
    )

    assert first.status_code == 303
    assert again.status_code == 400
    html = again.content.decode()
    assert "This form was already sent once" in html
    assert "Sent with the back button" in html
    assert list(Comment.objects.values_list("body", flat=True)) == ["My first comment"]


def test_a_form_shown_again_with_errors_carries_a_new_token_that_posts(open_article):
    reader = Client(enforce_csrf_checks=True)
    form = page_form(reader, open_article)

    refused = reader.post(comment_url(open_article), {**form, **reader_fields(author_email="not an email")})
    new_token = form_tokens_in(refused)[-1]
    retried = reader.post(comment_url(open_article), {**form, **reader_fields(), "form_token": new_token})

    assert refused.status_code == 400
    assert new_token != form["form_token"]
    assert retried.status_code == 303
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("cached", [True, False], ids=["cached-page", "uncached-page"])
def test_a_reader_posts_from_the_article_page(open_article, settings, cached):
    if not cached:
        settings.PAGE_CACHE_SECONDS = 0
    Client().get(open_article.get_absolute_url())  # the first reader stores the page, if cached
    reader = Client(enforce_csrf_checks=True)
    page = reader.get(open_article.get_absolute_url())
    assert page.get("X-Page-Cache") == ("hit" if cached else None)

    form = page_form(reader, open_article)
    response = reader.post(comment_url(open_article), {**form, **reader_fields()})

    assert response.status_code == 303
    assert Comment.objects.get().status == Comment.Status.PENDING


def test_tokens_are_still_accepted_when_the_cache_is_down(client, open_article, monkeypatch, caplog):
    def cache_down(*args, **kwargs):
        raise ConnectionError("the cache did not answer")

    monkeypatch.setattr("comments.forms.cache.add", cache_down)

    with caplog.at_level(logging.WARNING, logger="comments.forms"):
        response = post_comment(client, open_article)

    assert response.status_code == 303
    assert Comment.objects.count() == 1
    assert "without its single-use check" in caplog.text


# Duplicates, as the database refuses them -------------------------------------------------------------


def test_a_duplicate_is_refused_with_the_text_and_a_fresh_token(open_article):
    reader = Client(enforce_csrf_checks=True)
    reader.post(comment_url(open_article), {**page_form(reader, open_article), **reader_fields(body="Twice")})

    again = reader.post(
        comment_url(open_article), {**page_form(reader, open_article), **reader_fields(body="Twice")}
    )
    retried = reader.post(
        comment_url(open_article),
        {
            **page_form(reader, open_article),
            **reader_fields(body="Twice, with more"),
            "form_token": form_tokens_in(again)[-1],
        },
    )

    assert again.status_code == 400
    assert "You have already posted this comment on this article." in again.content.decode()
    assert "Twice" in again.content.decode()
    assert retried.status_code == 303
    assert Comment.objects.count() == 2


def test_the_same_text_with_other_white_space_is_a_duplicate(client, open_article):
    post_comment(client, open_article, body="Line one.\r\nLine  two.")

    assert post_comment(client, open_article, body="Line one. Line two.").status_code == 400
    assert Comment.objects.count() == 1


def test_erased_commenters_comments_never_collide_and_their_text_may_come_again(client, open_article):
    post_comment(client, open_article, author_email="sam@example.org", body="Same words")
    post_comment(
        client, ArticleFactory(comments_open=True), author_email="sam@example.org", body="Same words"
    )
    CommentFactory(article=open_article, author_email="kim@example.org", body="Same words")

    call_command("erase_commenter", "sam@example.org", stdout=io.StringIO())
    call_command("erase_commenter", "kim@example.org", stdout=io.StringIO())

    assert set(Comment.objects.values_list("author_email", "fingerprint")) == {("", None)}
    assert (
        post_comment(client, open_article, author_email="sam@example.org", body="Same words").status_code
        == 303
    )


# Email case ---------------------------------------------------------------------------------------------


def fill_fingerprints():
    """Run the data migration that lowers stored emails and fills the fingerprints."""
    import_module("comments.migrations.0006_fill_comment_fingerprints").fill_fingerprints(apps, None)


def as_stored_before_the_fingerprint(comment, email):
    """The row as a release before this one left it: the email as typed, no fingerprint."""
    Comment.objects.filter(pk=comment.pk).update(author_email=email, fingerprint=None)


def test_first_time_trusts_an_approved_email_stored_in_mixed_case_before(client, open_article, settings):
    settings.COMMENTS_MODERATION = "first-time"
    earlier = CommentFactory(status=Comment.Status.APPROVED)
    as_stored_before_the_fingerprint(earlier, "Sam@Example.ORG")
    fill_fingerprints()

    post_comment(client, open_article, author_email="sam@example.org")

    comment = Comment.objects.latest("pk")
    assert comment.status == Comment.Status.APPROVED
    assert comment.status_reason == "Approved automatically: this email has an approved comment."


def test_the_migration_lowers_emails_and_leaves_later_duplicates_without_a_fingerprint(open_article):
    first = CommentFactory(article=open_article, body="Hello there")
    later = CommentFactory(article=open_article, body="Hello  there")
    elsewhere = CommentFactory(body="Hello there")
    erased = CommentFactory(article=open_article, body="Hello there")
    for comment, email in [
        (first, "Sam@Example.org"),
        (later, "SAM@example.org"),
        (elsewhere, "sam@example.org"),
    ]:
        as_stored_before_the_fingerprint(comment, email)
    as_stored_before_the_fingerprint(erased, "")

    fill_fingerprints()  # with the unique constraint in place: duplicates would fail it

    rows = {row.pk: row for row in Comment.objects.all()}
    assert {row.author_email for row in rows.values()} == {"sam@example.org", ""}
    assert rows[first.pk].fingerprint is not None
    assert rows[later.pk].fingerprint is None
    assert rows[elsewhere.pk].fingerprint == rows[first.pk].fingerprint
    assert rows[erased.pk].fingerprint is None
    assert [row.body for row in Comment.objects.order_by("pk")] == [
        "Hello there",
        "Hello  there",
        "Hello there",
        "Hello there",
    ]


def test_a_duplicate_of_a_comment_stored_in_mixed_case_before_is_refused(client, open_article):
    earlier = CommentFactory(article=open_article, body="Exactly these words")
    as_stored_before_the_fingerprint(earlier, "Sam@Example.ORG")
    fill_fingerprints()

    response = post_comment(client, open_article, author_email="sam@example.org", body="Exactly these words")

    assert response.status_code == 400
    assert Comment.objects.count() == 1


# The moderator's link --------------------------------------------------------------------------------------


def test_moderator_email_links_to_the_site_address_not_the_posted_host(
    client, open_article, settings, django_capture_on_commit_callbacks
):
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    settings.SITE_URL = "https://smpinfo.example"
    settings.COMMENTS_NOTIFY_EMAILS = ["desk@clinic.example"]

    with django_capture_on_commit_callbacks(execute=True):
        response = post_comment(client, open_article, request={"HTTP_HOST": "evil.example"})

    assert response.status_code == 303
    comment = Comment.objects.get()
    links = re.findall(r"https?://\S+", mail.outbox[0].body)
    assert f"https://smpinfo.example/admin/comments/comment/{comment.pk}/change/" in links
    assert len(links) == 4  # the queue, and Approve, Reject and Spam
    assert all(link.startswith("https://smpinfo.example/") for link in links)
