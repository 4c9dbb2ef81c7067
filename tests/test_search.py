"""/search/: ranked results with highlighted snippets over published articles and side effects."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from articles.models import Article
from tests.factories import ArticleFactory, SideEffectFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL search; CI runs it")


def result_titles(response):
    return re.findall(r'<h2 class="h5 mb-1"><a href="[^"]+">([^<]+)</a></h2>', response.content.decode())


@pytest.fixture
def seeded(db):
    call_command("seed_content")


def test_search_finds_the_article_by_a_side_effect_word(client, seeded):
    response = client.get("/search/", {"q": "blue"})

    assert response.status_code == 200
    assert result_titles(response)[0] == "Side Effects of Scalp Micropigmentation"
    assert "<mark>" in response.content.decode().split('class="search-results')[1]


def test_search_finds_words_only_in_side_effect_details(client):
    article = ArticleFactory(title="Plain title", body="Nothing special here.")
    SideEffectFactory(article=article, name="Tingling", cause="Caused by unusual pigments from abroad.")
    ArticleFactory(title="Unrelated", body="Nothing to see.")

    assert result_titles(client.get("/search/", {"q": "pigments"})) == ["Plain title"]


def test_search_never_shows_drafts_or_scheduled_articles(client):
    ArticleFactory(title="Draft about redness", body="redness", status=Article.Status.DRAFT)
    ArticleFactory(title="Future redness", body="redness", published_at=timezone.now() + timedelta(days=1))
    ArticleFactory(title="Published redness", body="redness")

    assert result_titles(client.get("/search/", {"q": "redness"})) == ["Published redness"]


def test_title_matches_rank_first(client):
    ArticleFactory(title="General healing", body="Some itching may happen while healing.")
    ArticleFactory(
        title="Itching explained", body="All about it.", published_at=timezone.now() - timedelta(days=30)
    )

    assert result_titles(client.get("/search/", {"q": "itching"}))[0] == "Itching explained"


def test_no_results_gives_a_friendly_message(client, seeded):
    response = client.get("/search/", {"q": "xylophone"})

    assert response.status_code == 200
    assert "No articles match “xylophone”" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        '"',
        "-",
        "!!!",
        "((( )))",
        "a & | ! :*",
        "\x00\x01",
        "'; DROP TABLE articles_article; --",
        "😀" * 50,
    ],
)
def test_odd_queries_never_fail(client, seeded, query):
    response = client.get("/search/", {"q": query})

    assert response.status_code == 200
    assert Article.objects.count() == 2


def test_empty_query_explains_what_to_type(client):
    assert "Type a word or two" in client.get("/search/").content.decode()


def test_very_long_query_is_shortened_with_a_notice(client, seeded):
    response = client.get("/search/", {"q": "redness " * 500})

    assert response.status_code == 200
    assert "only its first 200 characters were used" in response.content.decode()


def test_query_is_echoed_escaped(client):
    response = client.get("/search/", {"q": "<script>alert(1)</script>"})

    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_snippet_escapes_editor_text_and_marks_only_matches(client):
    ArticleFactory(title="Escaping", summary="Tom & Jerry <b>bold</b> redness notes", body="redness")

    html = client.get("/search/", {"q": "redness"}).content.decode()
    snippet = html.split('class="search-snippet')[1].split("</p>")[0]

    assert "<b>" not in snippet
    assert "<mark>redness</mark>" in snippet.lower()


def test_results_are_paginated(client):
    for number in range(12):
        ArticleFactory(title=f"Redness note {number}", body="redness")

    first = client.get("/search/", {"q": "redness"})
    second = client.get("/search/", {"q": "redness", "page": 2})

    assert len(result_titles(first)) == 10
    assert len(result_titles(second)) == 2
    assert "12 results" in first.content.decode()


def test_search_box_is_in_the_header(client):
    html = client.get("/").content.decode()

    assert 'role="search"' in html
    assert 'action="/search/"' in html


def test_search_page_query_count_is_fixed(client, django_assert_max_num_queries):
    for number in range(15):
        ArticleFactory(title=f"Redness note {number}", body="redness", side_effects=2)

    with django_assert_max_num_queries(4):
        assert client.get("/search/", {"q": "redness"}).status_code == 200


@on_postgresql
def test_postgres_websearch_syntax_excludes_words(client):
    ArticleFactory(title="Redness and itching", body="redness itching")
    ArticleFactory(title="Only redness", body="redness")

    assert result_titles(client.get("/search/", {"q": "redness -itching"})) == ["Only redness"]


@on_postgresql
def test_postgres_stems_words(client):
    ArticleFactory(title="Healing", body="The scalp heals within days.")

    assert result_titles(client.get("/search/", {"q": "healing"})) == ["Healing"]


@on_postgresql
def test_postgres_typo_falls_back_to_similar_words(client, seeded):
    response = client.get("/search/", {"q": "bluness"})

    assert "Side Effects of Scalp Micropigmentation" in result_titles(response)
    assert "showing articles with similar words" in response.content.decode()
