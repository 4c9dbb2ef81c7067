"""Whatever query string the site's admin changelists and reader pages get, from any role, they
answer without a 500: a bad filter value shows an empty or unfiltered list, or Django's own
"invalid lookup" page (property-based, hypothesis)."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from articles.models import SitePage
from tests.factories import ArticleFactory, AuthorFactory, CommentFactory, UserFactory
from tests.strategies import NASTY_STRINGS, fuzz_settings

pytestmark = pytest.mark.django_db

# The parameters a changelist reads (filters, search, paging, ordering, the date hierarchy) and
# field lookups anyone can type, on the site's models.
PARAMETERS = [
    "q", "p", "o", "e", "all", "_to_field", "_popup",
    "status", "status__exact", "article", "article__id__exact", "article_id",
    "comments_open__exact", "published_at__year", "published_at__month", "published_at__day",
    "created_at__gte", "id__in", "pk", "author_email", "title__icontains",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        [*NASTY_STRINGS, "²", "-1", "0", "99999999999999999999999", "1,2,x", "2026-13-45", "pending", "bogus"]
    ),
    st.text(max_size=20),
    st.integers().map(str),
)
QUERIES = st.dictionaries(
    st.one_of(st.sampled_from([*PARAMETERS, "page"]), st.text(max_size=12)), VALUES, max_size=3
)

ROLES = {
    "superuser": {"is_superuser": True},
    "editor": {"groups": ["Editors"]},
    "moderator": {"groups": ["Moderators"]},
    "reviewer": {"groups": ["Reviewers"]},
}


def changelists():
    """The changelists of the site's own models (Django's user and group admins are Django's)."""
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in {"articles", "comments"}
    ]


@pytest.mark.parametrize("role", ROLES)
def test_no_query_string_makes_an_admin_changelist_fail(role):
    article = ArticleFactory(side_effects=1)
    CommentFactory(article=article, status="pending")
    browser = Client(raise_request_exception=False)
    browser.force_login(UserFactory(username=role, is_staff=True, **ROLES[role]))
    urls = changelists()

    @fuzz_settings(60)
    @given(url=st.sampled_from(urls), query=QUERIES)
    @example(url="/admin/comments/comment/", query={"article": "²"})
    @example(url="/admin/comments/comment/", query={"article": "99999999999999999999999"})
    @example(url="/admin/comments/comment/", query={"status": "bogus"})
    @example(url="/admin/comments/comment/", query={"article": "-1"})
    @example(url="/admin/comments/comment/", query={"status__exact": "\x00"})
    @example(url="/admin/comments/comment/", query={"q": "x" * 60_000})
    @example(url="/admin/comments/commentthread/", query={"title__icontains": "x" * 60_000})
    @example(url="/admin/articles/article/", query={"published_at__year": "99999999999999999999999"})
    @example(url="/admin/comments/commentthread/", query={"published_at__year": "-1"})
    @example(url="/admin/comments/commentthread/", query={"published_at__year": "99999999999"})
    def changelist(url, query):
        response = browser.get(url, query)
        assert response.status_code < 500, (url, query)

    changelist()


@pytest.mark.parametrize("role", [None, *ROLES])
def test_no_query_string_makes_a_reader_page_fail(role):
    author = AuthorFactory()
    article = ArticleFactory(side_effects=1, comments_open=True)
    article.authors.add(author)
    CommentFactory(article=article, status="approved")
    site_page = SitePage.objects.create(slug="about-us", title="About us", body="Who we are.")
    browser = Client(raise_request_exception=False)
    if role:
        browser.force_login(UserFactory(username=role, is_staff=True, **ROLES[role]))
    urls = [
        "/", article.get_absolute_url(), author.get_absolute_url(), site_page.get_absolute_url(),
        "/search/", "/feed/", "/feed/atom/", "/sitemap.xml", "/robots.txt", "/healthz",
    ]  # fmt: skip

    @fuzz_settings(40)
    @given(url=st.sampled_from(urls), query=QUERIES)
    @example(url="/", query={"page": "²"})
    @example(url="/", query={"page": "99999999999999999999999"})
    @example(url="/search/", query={"q": "\x00", "page": "-1"})
    @example(url="/feed/", query={"page": "last"})
    def reader_page(url, query):
        response = browser.get(url, query)
        assert response.status_code < 500, (url, query)

    reader_page()


@pytest.mark.parametrize(
    "query", ["article=%C2%B2", "article=99999999999999999999999", "article=-1", "status=bogus"]
)
def test_an_impossible_filter_shows_an_empty_moderation_queue(moderator_client, query):
    CommentFactory(body="A held comment", status="pending")

    response = moderator_client.get(f"/admin/comments/comment/?{query}")

    assert response.status_code == 200
    assert "A held comment" not in response.content.decode()
    assert "0 comments" in response.content.decode()


def test_a_nul_character_in_an_admin_address_is_refused_with_a_reason(editor_client):
    response = editor_client.get("/admin/articles/article/?title__icontains=%00")

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_query_value_longer_than_any_admin_link_is_refused_with_a_reason(moderator_client):
    response = moderator_client.get("/admin/comments/comment/", {"q": "x" * 60_000})

    assert response.status_code == 400
    assert "60,000 characters" in response.content.decode()
