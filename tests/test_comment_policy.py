"""Each branch of the moderation policy, through the comment endpoint, with the recorded reason."""

import pytest

from comments.models import BlockedPhrase, Comment
from comments.moderation import find_blocked_phrase, normalize_text
from tests.factories import ArticleFactory, CommentFactory, comment_form_data, post_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_article():
    return ArticleFactory(slug="open-thread", comments_open=True)


def post(client, article, user_agent="Mozilla/5.0 (reader)", **data):
    response = post_comment(client, article, request={"HTTP_USER_AGENT": user_agent}, **data)
    assert response.status_code == 303, response.content.decode()[:3000]
    return Comment.objects.order_by("-pk").first()


# COMMENTS_MODERATION ------------------------------------------------------------


def test_moderation_all_holds_every_comment(client, open_article, settings):
    settings.COMMENTS_MODERATION = "all"
    CommentFactory(author_email="sam@example.org", status=Comment.Status.APPROVED)

    comment = post(client, open_article)

    assert comment.status == Comment.Status.PENDING
    assert comment.status_reason == "Every new comment is held for moderation."


def test_moderation_none_publishes_at_once_and_links_to_the_comment(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"

    response = client.post(
        "/articles/open-thread/comments/", comment_form_data(open_article, body="Live now")
    )

    comment = Comment.objects.get()
    assert comment.status == Comment.Status.APPROVED
    assert comment.status_reason == "Moderation is off: published at once."
    assert response["Location"] == f"/articles/open-thread/#comment-{comment.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "Your comment is published." in page
    assert "Live now" in page


def test_first_time_holds_a_new_email(client, open_article, settings):
    settings.COMMENTS_MODERATION = "first-time"

    comment = post(client, open_article)

    assert comment.status == Comment.Status.PENDING
    assert comment.status_reason == "First comment from this email."


def test_first_time_approves_an_email_with_an_earlier_approved_comment(client, open_article, settings):
    settings.COMMENTS_MODERATION = "first-time"
    CommentFactory(author_email="sam@example.org", status=Comment.Status.APPROVED)

    comment = post(client, open_article, author_email="Sam@Example.org")

    assert comment.status == Comment.Status.APPROVED
    assert comment.status_reason == "Approved automatically: this email has an approved comment."


@pytest.mark.parametrize(
    "earlier_status", [Comment.Status.PENDING, Comment.Status.REJECTED, Comment.Status.SPAM]
)
def test_first_time_still_holds_an_email_without_an_approved_comment(
    client, open_article, settings, earlier_status
):
    settings.COMMENTS_MODERATION = "first-time"
    CommentFactory(author_email="sam@example.org", status=earlier_status)

    assert post(client, open_article).status == Comment.Status.PENDING


# Bot signals -----------------------------------------------------------------


def test_filled_honeypot_is_kept_as_spam(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"

    comment = post(client, open_article, honeypot="http://spam.example")

    assert comment.status == Comment.Status.SPAM
    assert "hidden anti-spam field" in comment.status_reason


def test_form_sent_back_too_fast_is_kept_as_spam(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 2

    comment = post(client, open_article, seconds_ago=0.5)

    assert comment.status == Comment.Status.SPAM
    assert "minimum 2 s" in comment.status_reason


def test_form_sent_after_the_minimum_time_is_not_spam(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 2

    assert post(client, open_article, seconds_ago=3).status == Comment.Status.APPROVED


def test_spam_gets_the_same_answer_as_a_held_comment(client, open_article):
    response = client.post(
        "/articles/open-thread/comments/", comment_form_data(open_article, honeypot="bot"), follow=True
    )

    assert "Your comment is awaiting moderation" in response.content.decode()


# Links -----------------------------------------------------------------------


def test_more_links_than_allowed_holds_the_comment_even_without_moderation(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"
    settings.COMMENTS_MAX_LINKS = 2
    body = 'See https://a.example and www.b.example and <a href="//c.example">c</a>'

    comment = post(client, open_article, body=body)

    assert comment.status == Comment.Status.PENDING
    assert comment.status_reason == "Contains 3 links (more than 2)."


def test_links_up_to_the_limit_are_fine(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"
    settings.COMMENTS_MAX_LINKS = 2

    comment = post(client, open_article, body="Two links: https://a.example and http://b.example")

    assert comment.status == Comment.Status.APPROVED


# Blocklist -------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["body", "author_name", "author_email", "user_agent"],
)
def test_blocked_phrase_in_any_field_marks_spam(client, open_article, settings, field):
    settings.COMMENTS_MODERATION = "none"
    BlockedPhrase.objects.create(phrase="pillshop")
    values = {
        "body": {"body": "Visit PillShop today"},
        "author_name": {"author_name": "Pillshop Sales"},
        "author_email": {"author_email": "sales@pillshop.example"},
        "user_agent": {"user_agent": "Pillshop-bot/1.0"},
    }[field]

    comment = post(client, open_article, **values)

    assert comment.status == Comment.Status.SPAM
    assert comment.status_reason == "Contains the blocked phrase “pillshop”."


@pytest.mark.parametrize(
    "obfuscated",
    [
        "CHEAP PILLS",  # case
        "ｃｈｅａｐ ｐｉｌｌｓ",  # full-width letters (NFKC)
        "che\u200bap pi\u200dlls",  # zero-width space and joiner
        "cheap\u202e pills",  # bidi override
        "ch<b></b>eap <i>pills</i>",  # HTML tags
        "cheap\n\n   pills",  # white space
        "che\u00adap pills",  # soft hyphen
    ],
)
def test_obfuscated_blocked_phrase_is_still_caught(client, open_article, obfuscated):
    BlockedPhrase.objects.create(phrase="cheap pills")

    comment = post(client, open_article, body=f"Hello! {obfuscated} here")

    assert comment.status == Comment.Status.SPAM


def test_blocked_phrase_matches_whole_words_only(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"
    BlockedPhrase.objects.create(phrase="cialis")

    comment = post(client, open_article, body="My specialist said the redness would pass.")

    assert comment.status == Comment.Status.APPROVED


def test_normalize_text_folds_lookalikes():
    assert normalize_text("Ｆｒｅｅ\u200b <b>MONEY</b>\t now") == "free money now"


def test_find_blocked_phrase_reports_which_phrase_matched():
    assert (
        find_blocked_phrase(["nothing here", "a FREE\u2060 offer"], ["casino", "free offer"]) == "free offer"
    )
    assert find_blocked_phrase(["clean text"], ["casino"]) is None
