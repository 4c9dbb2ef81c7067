"""A reader posts a comment: every answer of the POST endpoint, in the order it is checked."""

from datetime import timedelta

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django.test import Client
from django.utils import timezone

from articles.models import Article
from comments.forms import CommentForm, render_comment_form
from comments.models import Comment
from tests.factories import ArticleFactory, CommentFactory, comment_form_data, post_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_article():
    return ArticleFactory(title="Healing after SMP", slug="healing", comments_open=True, side_effects=2)


def post(client, article, remote_addr="127.0.0.1", **data):
    return post_comment(client, article, request={"REMOTE_ADDR": remote_addr}, **data)


# Accepted ---------------------------------------------------------------------


def test_valid_comment_is_held_and_redirects_back_with_a_message(client, open_article):
    response = post(client, open_article)

    assert response.status_code == 303
    assert response["Location"] == "/articles/healing/#comments"
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert comment.status_reason == "Every new comment is held for moderation."
    assert comment.author_name == "Sam Reader"
    assert comment.ip_address == "127.0.0.1"
    page = client.get(response["Location"]).content.decode()
    assert "Your comment is awaiting moderation" in page


def test_held_comment_is_not_shown_to_readers(client, open_article):
    post(client, open_article, body="Not yet approved text")

    assert "Not yet approved text" not in Client().get("/articles/healing/").content.decode()
    # Its sender alone sees it, marked (tests/test_held_comments_shown_to_their_author.py).
    assert "Awaiting moderation" in client.get("/articles/healing/").content.decode()


def test_email_is_stored_in_lower_case_and_never_shown(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"

    post(client, open_article, author_email="Sam.Reader@Example.ORG")

    assert Comment.objects.get().author_email == "sam.reader@example.org"
    page = client.get("/articles/healing/").content.decode().lower()
    assert "sam.reader@example.org" not in page
    assert "Sam Reader".lower() in page


def test_comment_field_names_match_the_public_contract(client, open_article):
    html = client.get("/articles/healing/").content.decode()

    for name in ("author_name", "author_email", "body", "honeypot", "form_token", "csrfmiddlewaretoken"):
        assert f'name="{name}"' in html
    assert 'action="/articles/healing/comments/#comments"' in html


def test_unusual_unicode_is_stored_as_typed(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"
    body = "Merci ! 頭皮 😀 עברית e\u0301 \u202eevil\u202c — done"

    response = post(client, open_article, author_name="Zoë 李", body=body)

    assert response.status_code == 303
    assert Comment.objects.get().body == body
    assert "Zoë 李" in client.get("/articles/healing/").content.decode()


# Refused: method, CSRF, article, closed thread ------------------------------


def test_blank_comment_form_is_crispy_forms_markup_with_its_own_token(open_article):
    first, second = CommentForm(open_article), CommentForm(ArticleFactory())

    for form in (first, second):
        assert render_comment_form(form) == as_crispy_form(form)
    assert first.initial["form_token"] in render_comment_form(first)
    assert first.initial["form_token"] not in render_comment_form(second)


def test_get_on_the_comment_endpoint_is_not_allowed(client, open_article):
    assert client.get("/articles/healing/comments/").status_code == 405


def test_missing_csrf_token_is_refused_and_saves_nothing(open_article):
    strict_client = Client(enforce_csrf_checks=True)

    response = post(strict_client, open_article)

    assert response.status_code == 403
    assert "Please try again" in response.content.decode()
    assert not Comment.objects.exists()


def test_unknown_article_is_a_404_and_saves_nothing(client, open_article):
    response = client.post("/articles/no-such-article/comments/", comment_form_data(open_article))

    assert response.status_code == 404
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "unpublished",
    [
        {"status": Article.Status.DRAFT},
        {"published_at": timezone.now() + timedelta(days=1)},
    ],
    ids=["draft", "scheduled"],
)
def test_unpublished_article_is_a_404_and_saves_nothing(client, unpublished):
    article = ArticleFactory(**unpublished)

    response = post(client, article)

    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_closed_thread_refuses_post_and_saves_nothing(client):
    article = ArticleFactory(comments_open=False)

    response = post(client, article)

    assert response.status_code == 403
    assert "Comments are closed." in response.content.decode()
    assert not Comment.objects.exists()


def test_closed_thread_refuses_even_a_post_without_anti_spam_fields(client):
    article = ArticleFactory(comments_open=False)

    response = client.post(
        f"/articles/{article.slug}/comments/",
        {"author_name": "A", "author_email": "a@example.org", "body": "hi"},
    )

    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_thread_past_its_close_date_refuses_post(client):
    article = ArticleFactory(comments_close_at=timezone.now() - timedelta(seconds=1))

    assert post(client, article).status_code == 403
    assert not Comment.objects.exists()


def test_thread_closed_after_configured_days_refuses_post(client, settings):
    settings.COMMENTS_CLOSE_AFTER_DAYS = 14
    article = ArticleFactory(published_at=timezone.now() - timedelta(days=15))

    assert post(client, article).status_code == 403
    assert not Comment.objects.exists()


def test_closed_thread_page_shows_no_form(client):
    article = ArticleFactory(comments_open=False)

    html = client.get(article.get_absolute_url()).content.decode()

    assert "Comments are closed." in html
    assert 'id="comment-form"' not in html


# Rate limit -------------------------------------------------------------------


def test_rate_limit_answers_429_and_saves_nothing_more(client, open_article, settings):
    settings.COMMENTS_RATE_LIMIT = "2/10m"

    first = post(client, open_article, body="first")
    second = post(client, open_article, body="second")
    third = post(client, open_article, body="third")

    assert [first.status_code, second.status_code, third.status_code] == [303, 303, 429]
    assert third["Retry-After"] == "600"
    assert "Please slow down" in third.content.decode()
    assert sorted(Comment.objects.values_list("body", flat=True)) == ["first", "second"]


def test_rate_limit_counts_each_client_address_separately(client, open_article, settings):
    settings.COMMENTS_RATE_LIMIT = "1/10m"

    first = post(client, open_article, body="from one", remote_addr="198.51.100.1")
    other = post(client, open_article, body="from another", remote_addr="198.51.100.2")

    assert (first.status_code, other.status_code) == (303, 303)


def test_rate_limit_zero_turns_it_off(client, open_article, settings):
    settings.COMMENTS_RATE_LIMIT = "0"

    statuses = {post(client, open_article, body=f"comment {n}").status_code for n in range(8)}

    assert statuses == {303}
    assert Comment.objects.count() == 8


# Invalid form: 400, the form with its errors and the reader's text ------------


def test_missing_fields_answer_400_and_keep_what_was_typed(client, open_article):
    response = post(client, open_article, author_name="", author_email="", body="My words stay here")

    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("This field is required.") == 2
    assert "My words stay here" in html
    assert "<h1>Healing after SMP</h1>" in html
    assert not Comment.objects.exists()


def test_invalid_email_answers_400_with_a_clear_error(client, open_article):
    response = post(client, open_article, author_email="not-an-email")

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert 'value="not-an-email"' in response.content.decode()
    assert not Comment.objects.exists()


def test_body_over_5000_characters_is_refused(client, open_article):
    response = post(client, open_article, body="x" * 100_000)

    assert response.status_code == 400
    assert "at most 5000 characters (it has 100000)" in response.content.decode()
    assert not Comment.objects.exists()


def test_body_of_exactly_5000_characters_is_accepted(client, open_article):
    assert post(client, open_article, body="y" * 5000).status_code == 303


def test_nul_bytes_answer_400_not_500(client, open_article):
    response = post(client, open_article, author_name="Sam\x00", body="hello\x00world")

    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert not Comment.objects.exists()


def test_name_with_a_line_break_is_refused_so_it_cannot_reach_a_header(client, open_article):
    response = post(client, open_article, author_name="Sam\r\nBcc: victim@example.org")

    assert response.status_code == 400
    assert "can&#x27;t contain line breaks" in response.content.decode()
    assert not Comment.objects.exists()


def test_missing_form_token_is_refused_with_a_clear_message(client, open_article):
    response = post(client, open_article, form_token="")

    assert response.status_code == 400
    assert "missing its security token" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["garbage", "eyJhcnRpY2xlIjoxfQ:1abcde:forged"],
    ids=["garbage", "forged-signature"],
)
def test_tampered_form_token_is_refused(client, open_article, token):
    response = post(client, open_article, form_token=token)

    assert response.status_code == 400
    assert "expired or was changed" in response.content.decode()
    assert not Comment.objects.exists()


def test_form_token_signed_for_another_article_is_refused(client, open_article):
    other = ArticleFactory()
    data = comment_form_data(other)

    response = client.post(f"/articles/{open_article.slug}/comments/", data)

    assert response.status_code == 400
    assert "expired or was changed" in response.content.decode()
    assert not Comment.objects.exists()


def test_form_older_than_two_hours_is_refused_and_a_fresh_one_works(client, open_article):
    stale = post(client, open_article, seconds_ago=2 * 60 * 60 + 5, body="Typed long ago")

    assert stale.status_code == 400
    assert "expired or was changed" in stale.content.decode()
    assert "Typed long ago" in stale.content.decode()
    fresh_token = stale.context["comment_form"].data["form_token"]
    retry = client.post(
        "/articles/healing/comments/",
        comment_form_data(open_article, body="Typed long ago", form_token=fresh_token),
    )
    # Re-sent at once, the fresh form is "too fast", so it is kept as spam, not lost.
    assert retry.status_code == 303
    assert Comment.objects.get().body == "Typed long ago"


def test_same_comment_twice_is_refused_as_a_duplicate(client, open_article):
    first = post(client, open_article, body="Exactly the same words")
    second = post(client, open_article, body="Exactly the same words", author_email="SAM@example.org")

    assert first.status_code == 303
    assert second.status_code == 400
    assert "already posted this comment" in second.content.decode()
    assert Comment.objects.count() == 1


def test_same_comment_weeks_later_is_still_a_duplicate_but_not_on_another_article(client, open_article):
    CommentFactory(
        article=open_article,
        author_email="sam@example.org",
        body="Same again",
        created_at=timezone.now() - timedelta(weeks=3),
    )

    assert post(client, open_article, body="Same again").status_code == 400
    assert post_comment(client, ArticleFactory(comments_open=True), body="Same again").status_code == 303


# Shown escaped -------------------------------------------------------------


def test_html_in_name_and_body_is_shown_escaped(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"

    post(
        client,
        open_article,
        author_name="<script>alert('name')</script>",
        body='<img src=x onerror="alert(1)">\n<b>bold?</b>',
    )

    html = client.get("/articles/healing/").content.decode()
    assert "<script>alert('name')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;<br>&lt;b&gt;bold?&lt;/b&gt;" in html


def test_invalid_form_redisplay_escapes_what_was_typed(client, open_article):
    response = post(client, open_article, author_email="bad", body="</textarea><script>alert(1)</script>")

    html = response.content.decode()
    assert "</textarea><script>alert(1)</script>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
