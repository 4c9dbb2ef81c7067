"""Property-based tests (hypothesis): whatever a reader, a bot or a broken client sends, the site
answers with a documented status, never a 5xx, and saves a comment only when it says so (303).

Everything goes through Django's test client, the public surface. Each property runs its examples
inside one test (and one database transaction), so the article is made once per test; comments
saved by earlier examples stay, which also exercises the duplicate check.

No example database (`database=None`): a failure is reproduced from the example hypothesis
prints (add it with `@example(...)`), not from a local directory of saved examples.
"""

import re
import uuid
from collections import Counter
from urllib.parse import quote, urlencode

import pytest
from django.template.defaultfilters import linebreaksbr
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils.html import escape
from hypothesis import example, given
from hypothesis import strategies as st

from articles.models import Article
from articles.search import clean_query
from comments import thread
from comments.models import Comment
from tests.caches import empty_caches
from tests.factories import ArticleFactory, CommentFactory, SideEffectFactory, comment_form_data
from tests.strategies import NASTY_STRINGS, fuzz_settings

pytestmark = pytest.mark.django_db

# The comment endpoint's documented answers (README, "Comments and moderation"; the docstring of
# comments.views.post_comment), 303 for a saved comment and 405 for anything but a POST.
COMMENT_STATUSES = {303, 400, 403, 404, 405, 429}


# Strategies --------------------------------------------------------------------------------------

nasty_text = st.one_of(st.text(max_size=300), st.sampled_from(NASTY_STRINGS))

# A field's valid value, or no such field at all (strings, so that failing examples read well).
KEEP, MISSING = "<the valid value>", "<field left out>"
field_value = st.one_of(
    st.just(KEEP),
    st.just(MISSING),
    nasty_text,
    st.lists(nasty_text, min_size=2, max_size=3),  # the field sent two or three times
)
COMMENT_FIELDS = ["author_name", "author_email", "body", "honeypot", "form_token"]
extra_fields = st.dictionaries(
    st.text(min_size=1, max_size=30).filter(lambda name: name not in COMMENT_FIELDS),
    st.one_of(nasty_text, st.lists(nasty_text, max_size=3)),
    max_size=3,
)
page_values = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.sampled_from(["", "0", "-1", "1.5", "1e3", "last", "١", " 2 ", "99999999999999999999", "9" * 5000]),
)


# Helpers -------------------------------------------------------------------------------------------


def new_visitor(client):
    """The test's one client, as a first-time visitor: no cookie (session, messages, CSRF) kept.

    One client per test, not per example: each new client builds the middleware again, and
    WhiteNoise scans every static file when it starts.
    """
    client.cookies.clear()
    return client


def form_fields(values, valid):
    """The fields to send: KEEP takes the valid form's value, MISSING leaves the field out."""
    data = {}
    for name, value in values.items():
        if value == KEEP:
            data[name] = valid[name]
        elif value != MISSING:
            data[name] = value
    return data


def comment_url(article):
    return f"/articles/{article.slug}/comments/"


def assert_human_readable_400(response):
    html = response.content.decode()
    if response.context is not None and "comment_form" in response.context:
        form = response.context["comment_form"]
        assert form.errors, "a 400 with the form must say what is wrong"
        # Every error a reader can act on is on the page: the form's own and each visible field's.
        # (A hidden field's error always comes with a form error: see CommentForm.check_form_token.)
        shown = list(form.non_field_errors())
        shown += [message for field in form.visible_fields() for message in field.errors]
        assert shown
        assert all(escape(message) in html for message in shown)
    else:
        # The site's 400 page for a body it cannot parse at all (no form to show again).
        assert "The site could not read what your browser sent" in html


def assert_saved_only_on_303(response, before):
    """The rule of every comment POST: one new row for a 303, none for anything else."""
    after = Comment.objects.count()
    assert response.status_code < 500
    assert response.status_code in COMMENT_STATUSES
    if response.status_code == 303:
        assert after == before + 1
        saved = Comment.objects.order_by("-pk").first()
        saved.full_clean()  # nothing invalid reaches the database
        assert "\x00" not in saved.author_name + saved.author_email + saved.body
    else:
        assert after == before
    if response.status_code == 400:
        assert_human_readable_400(response)


@pytest.fixture
def open_article(db, settings):
    settings.COMMENTS_RATE_LIMIT = "0"
    return ArticleFactory(slug="open-thread", side_effects=2, comments_open=True)


# The comment endpoint ----------------------------------------------------------------------------------


def test_any_form_post_gets_a_documented_answer_and_saves_only_on_303(client, open_article):
    statuses = Counter()

    @fuzz_settings(200)
    @given(
        values=st.fixed_dictionaries(dict.fromkeys(COMMENT_FIELDS, field_value)),
        extras=extra_fields,
        encoding=st.sampled_from(["multipart", "urlencoded"]),
    )
    @example(values=dict.fromkeys(COMMENT_FIELDS, KEEP), extras={}, encoding="multipart")
    @example(
        values={**dict.fromkeys(COMMENT_FIELDS, KEEP), "author_name": ["First name", "Second name"]},
        extras={"status": "approved", "unknown[]": ["a", "b"]},
        encoding="urlencoded",
    )
    def post(values, extras, encoding):
        empty_caches()
        valid = comment_form_data(open_article, body=f"A fresh comment {uuid.uuid4()}")
        data = {**extras, **form_fields(values, valid)}
        before = Comment.objects.count()
        if encoding == "multipart":
            response = new_visitor(client).post(comment_url(open_article), data)
        else:
            body = urlencode(data, doseq=True)
            response = new_visitor(client).post(
                comment_url(open_article), body, content_type="application/x-www-form-urlencoded"
            )
        statuses[response.status_code] += 1
        assert response.status_code in {303, 400}  # open thread, no rate limit
        assert_saved_only_on_303(response, before)
        if response.status_code == 303:
            assert response["Location"].startswith(open_article.get_absolute_url())
            # Saved as sent (the last value of a repeated field), only trimmed; the email lowercased.
            saved = Comment.objects.order_by("-pk").first()
            sent = {
                name: value[-1] if isinstance(value, list) else value
                for name, value in data.items()
                if name in ("author_name", "author_email", "body")
            }
            assert saved.author_name == sent["author_name"].strip()
            assert saved.body == sent["body"].strip()
            assert saved.author_email == sent["author_email"].strip().lower()

    post()
    # The strategies reach both sides of the property.
    assert statuses[303] and statuses[400], statuses


def test_field_by_field_garbage_in_an_otherwise_valid_post(client, open_article):
    """One field at a time replaced by garbage: saved (303) or refused with the reader's text kept."""

    @fuzz_settings(150)
    @given(field=st.sampled_from(["author_name", "author_email", "body"]), value=nasty_text)
    def post(field, value):
        empty_caches()
        data = comment_form_data(open_article, body=f"Comment {uuid.uuid4()}")
        data[field] = value
        before = Comment.objects.count()
        response = new_visitor(client).post(
            comment_url(open_article), urlencode(data), content_type="application/x-www-form-urlencoded"
        )
        assert_saved_only_on_303(response, before)
        assert response.status_code in {303, 400}
        if response.status_code == 400:
            # The reader's text comes back in the form (escaped), to be corrected rather than retyped.
            assert response.context["comment_form"].data.get(field) == value
            if value.strip():
                assert escape(value) in response.content.decode()

    post()


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "multipart/form-data",  # no boundary at all
        f"multipart/form-data; boundary={BOUNDARY}",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "",
        "garbage/;;;==",
    ],
)
def test_raw_bodies_of_any_content_type(client, open_article, content_type):
    @fuzz_settings(40)
    @given(body=st.one_of(st.binary(max_size=2000), nasty_text.map(lambda text: text.encode())))
    def post(body):
        empty_caches()
        before = Comment.objects.count()
        response = new_visitor(client).generic(
            "POST", comment_url(open_article), body, content_type=content_type
        )
        assert response.status_code == 400  # nothing here carries a valid signed form token
        assert_saved_only_on_303(response, before)

    post()


def test_a_valid_multipart_post_with_bytes_spliced_in(client, open_article):
    """A real form, damaged in transit: garbage inserted anywhere in the multipart body."""

    @fuzz_settings(150)
    @given(
        where=st.floats(0, 1),
        cut=st.integers(0, 40),
        garbage=st.one_of(
            st.binary(max_size=200), st.sampled_from([b"\r\n", b"--", b'"', b"\x00", b"\xff\xfe"])
        ),
    )
    def post(where, cut, garbage):
        empty_caches()
        fields = comment_form_data(open_article, body=f"Comment {uuid.uuid4()}")
        body = encode_multipart(BOUNDARY, fields)
        position = int(where * len(body))
        damaged = body[:position] + garbage + body[position + cut :]
        before = Comment.objects.count()
        response = new_visitor(client).generic(
            "POST", comment_url(open_article), damaged, content_type=MULTIPART_CONTENT
        )
        assert response.status_code in {303, 400}
        assert_saved_only_on_303(response, before)

    post()


def test_other_methods_are_refused_with_405(client, open_article):
    @fuzz_settings(60)
    @given(
        method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]),
        body=st.binary(max_size=500),
        content_type=st.sampled_from(["application/x-www-form-urlencoded", MULTIPART_CONTENT, "text/plain"]),
    )
    def request(method, body, content_type):
        before = Comment.objects.count()
        response = new_visitor(client).generic(
            method, comment_url(open_article), body, content_type=content_type
        )
        assert response.status_code == 405
        assert "POST" in response["Allow"]
        assert_saved_only_on_303(response, before)

    request()


def test_a_valid_form_post_with_any_method_but_post_saves_nothing(client, open_article):
    data = urlencode(comment_form_data(open_article))
    for method in ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]:
        response = new_visitor(client).generic(
            method, comment_url(open_article), data, "application/x-www-form-urlencoded"
        )
        assert response.status_code == 405, method
    assert Comment.objects.count() == 0


def test_closed_draft_and_missing_threads_refuse_anything(client, settings):
    settings.COMMENTS_RATE_LIMIT = "0"
    articles = {
        "closed": ArticleFactory(slug="closed-thread", comments_open=False),
        "draft": ArticleFactory(slug="draft-thread", status=Article.Status.DRAFT),
        "missing": ArticleFactory.build(pk=10**6, slug="no-such-article"),  # never saved
    }

    @fuzz_settings(80)
    @given(
        target=st.sampled_from(["closed", "draft", "missing"]),
        values=st.fixed_dictionaries(dict.fromkeys(COMMENT_FIELDS, field_value)),
    )
    def post(target, values):
        empty_caches()
        article = articles[target]
        data = form_fields(values, comment_form_data(article, body=f"Hi {uuid.uuid4()}"))
        before = Comment.objects.count()
        response = new_visitor(client).post(comment_url(article), data)
        assert response.status_code == (403 if target == "closed" else 404)
        assert_saved_only_on_303(response, before)

    post()


def test_over_the_rate_limit_any_post_is_a_429_and_saves_nothing(client, open_article, settings):
    """Rate-limited posts (429) save nothing, whatever they hold."""
    settings.COMMENTS_RATE_LIMIT = "2/1h"

    @fuzz_settings(40)
    @given(values=st.fixed_dictionaries(dict.fromkeys(COMMENT_FIELDS, field_value)))
    def post(values):
        empty_caches()
        new_visitor(client)
        for _ in range(2):  # use up the allowance with garbage
            client.post(comment_url(open_article), {"body": "x"})
        data = form_fields(values, comment_form_data(open_article, body=f"Hi {uuid.uuid4()}"))
        before = Comment.objects.count()
        response = client.post(comment_url(open_article), data)
        assert response.status_code == 429
        assert_saved_only_on_303(response, before)

    post()


def test_a_post_cannot_set_the_fields_the_form_does_not_have(client, open_article):
    other = ArticleFactory()
    extras = {
        "status": "approved",
        "status_reason": "trusted",
        "article": str(other.pk),
        "ip_address": "203.0.113.9",
        "user_agent": "forged",
        "moderated_by": "1",
        "created_at": "2000-01-01 00:00",
    }

    response = client.post(
        comment_url(open_article), {**comment_form_data(open_article), **extras}, HTTP_USER_AGENT="real"
    )

    assert response.status_code == 303
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING  # COMMENTS_MODERATION is "all" by default
    assert comment.article == open_article
    assert (comment.ip_address, comment.user_agent, comment.moderated_by) == ("127.0.0.1", "real", None)
    assert comment.created_at.year > 2000


def test_without_a_csrf_token_a_valid_comment_is_refused(open_article):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(comment_url(open_article), comment_form_data(open_article))

    assert response.status_code == 403
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("charset", ["rot13", "base64", "hex", "zlib", "undefined", "idna"])
def test_a_multipart_post_with_a_non_text_charset_is_a_400(open_article, charset):
    body = encode_multipart(BOUNDARY, comment_form_data(open_article))
    browser = Client(raise_request_exception=False)

    response = browser.generic(
        "POST", comment_url(open_article), body, content_type=f"{MULTIPART_CONTENT}; charset={charset}"
    )

    assert response.status_code == 400
    assert Comment.objects.count() == 0


# Search and article URLs ---------------------------------------------------------------------------------

XSS_TAG = re.compile(r"<(script|img|svg|iframe)\b[^<]*xss", re.IGNORECASE)
search_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(NASTY_STRINGS),
    st.builds(
        lambda before, payload, after: before + payload + after,
        st.text(max_size=30),
        st.sampled_from(
            [
                "<script>alert('xss')</script>",
                "<img src=x onerror=alert('xss')>",
                '"><svg onload=alert("xss")>',
                "'><iframe src=javascript:alert('xss')>",
            ]
        ),
        st.text(max_size=30),
    ),
)


def test_search_answers_200_and_echoes_the_query_escaped(client, db):
    ArticleFactory(title="Redness after a session", summary="<img src=x onerror=alert('xss')> redness")
    ArticleFactory(title="Itching", body="Some itching, some <script>alert('xss')</script> text.")

    @fuzz_settings(200)
    @given(query=search_text, page=page_values)
    def search(query, page):
        response = new_visitor(client).get("/search/", {"q": query, "page": page})
        assert response.status_code == 200
        html = response.content.decode()
        echoed = clean_query(query).text
        if echoed:
            assert escape(echoed) in html
        assert not XSS_TAG.search(html)

    search()


def test_article_urls_and_the_home_page_answer_200_or_404(client, db):
    ArticleFactory(slug="real-article", side_effects=1)
    ArticleFactory.create_batch(12)

    @fuzz_settings(150)
    @given(slug=st.one_of(st.text(max_size=80), st.sampled_from(["real-article", "..", "%2F", "a" * 300])))
    def article(slug):
        # Quoted so that it stays one path segment ("/" inside would make another URL altogether).
        response = new_visitor(client).get(f"/articles/{quote(slug, safe='')}/")
        assert response.status_code in {200, 404}
        assert response.status_code == 200 or "Page not found" in response.content.decode()

    @fuzz_settings(150)
    @given(page=page_values)
    def home(page):
        empty_caches()
        response = new_visitor(client).get("/", {"page": page})
        assert response.status_code in {200, 404}

    article()
    home()


def test_an_article_page_with_any_comment_page_number_answers_200(client, db):
    article = ArticleFactory(slug="with-comments")
    CommentFactory.create_batch(3, article=article)

    @fuzz_settings(100)
    @given(page=page_values)
    @example(page="99999999999999999999")
    def article_page(page):
        empty_caches()
        response = new_visitor(client).get(article.get_absolute_url(), {"page": page})
        assert response.status_code == 200

    article_page()


@fuzz_settings(500)
@given(text=st.one_of(st.text(), st.sampled_from(NASTY_STRINGS), st.text(alphabet="<>&\"'\r\n x")))
@example(text="<b>one</b>\r\ntwo\rthree\n\nfour & 'five' \"six\"")
def test_the_threads_escaping_is_djangos(text):
    """A comment's name and text are escaped as Django's `escape` and `linebreaksbr` would
    (comments/thread.py calls them without their lazy-text wrappers)."""
    assert thread.escape(text) == escape(text)
    assert thread.linebreaksbr(text) == linebreaksbr(text)


# Hand-picked injections --------------------------------------------------------------------------

NAME_PAYLOAD = "<script>alert('xss-name')</script>"
BODY_PAYLOAD = "<img src=x onerror=alert('xss-body')>\n\"><svg onload=alert('xss-body')>"


def test_html_in_a_published_comment_is_shown_escaped(client, open_article, settings):
    settings.COMMENTS_MODERATION = "none"
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0

    response = new_visitor(client).post(
        comment_url(open_article),
        comment_form_data(open_article, author_name=NAME_PAYLOAD, body=BODY_PAYLOAD),
    )
    assert response.status_code == 303
    assert Comment.objects.get().status == Comment.Status.APPROVED

    html = new_visitor(client).get(open_article.get_absolute_url()).content.decode()
    assert escape(NAME_PAYLOAD) in html
    assert escape("<img src=x onerror=alert('xss-body')>") in html
    assert not XSS_TAG.search(html)


def test_html_in_a_refused_comment_is_shown_escaped_in_the_form(client, open_article):
    response = new_visitor(client).post(
        comment_url(open_article),
        comment_form_data(
            open_article, author_name=NAME_PAYLOAD, body=BODY_PAYLOAD, author_email="not-an-email"
        ),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert escape(NAME_PAYLOAD) in html
    assert not XSS_TAG.search(html)


@pytest.mark.parametrize("query", ["<script>alert('xss')</script>", '"><svg onload=alert("xss")>'])
def test_search_echo_and_snippets_are_escaped(client, db, query):
    ArticleFactory(title="Scarring", summary="xss <img src=x onerror=alert('xss')> scarring")
    SideEffectFactory(name="Scarring", cause="<script>alert('xss')</script> rarely")

    for text in [query, "scarring", "xss", "onerror"]:
        response = client.get("/search/", {"q": text})
        html = response.content.decode()
        assert response.status_code == 200
        assert escape(text) in html
        assert not XSS_TAG.search(html), text


def test_html_in_comments_and_titles_is_escaped_in_the_moderation_admin(moderator_client):
    article = ArticleFactory(title="<script>alert('xss-title')</script> Healing")
    CommentFactory(
        article=article,
        author_name="<img src=x onerror=alert(1)>",
        body="<script>alert('xss-body')</script>",
        status=Comment.Status.PENDING,
    )

    queue = moderator_client.get("/admin/comments/comment/").content.decode()
    threads = moderator_client.get("/admin/comments/commentthread/").content.decode()

    assert escape("<img src=x onerror=alert(1)>") in queue
    assert "<img src=x onerror" not in queue
    assert escape("<script>alert('xss-body')</script>") in queue
    assert "<script>alert(" not in queue + threads
    assert escape("<script>alert('xss-title')</script> Healing") in threads
