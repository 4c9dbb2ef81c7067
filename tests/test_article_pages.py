"""What readers see on the home page and on an article page."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Article, SideEffect
from tests.commands import call
from tests.factories import ArticleFactory, SideEffectFactory, UserFactory
from tests.queries import count_uncached_queries as count_queries

pytestmark = pytest.mark.django_db


def test_home_lists_only_published_articles_newest_first(client):
    now = timezone.now()
    older = ArticleFactory(title="Older article", published_at=now - timedelta(days=2))
    newer = ArticleFactory(title="Newer article", published_at=now - timedelta(days=1))
    ArticleFactory(title="Secret draft", status=Article.Status.DRAFT)
    ArticleFactory(title="Scheduled article", published_at=now + timedelta(days=1))

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(newer.title) < html.index(older.title)
    assert "Secret draft" not in html
    assert "Scheduled article" not in html


def test_home_is_paginated(client):
    now = timezone.now()
    for days in range(12):
        ArticleFactory(title=f"Article from {days} days ago", published_at=now - timedelta(days=days + 1))

    first = client.get("/")
    second = client.get("/?page=2")

    assert "Article from 0 days ago" in first.content.decode()
    assert "Article from 11 days ago" not in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()
    assert "Article from 11 days ago" in second.content.decode()
    assert "Page 2 of 2" in second.content.decode()


@pytest.mark.parametrize("page", ["99", "abc", "-1"])
def test_home_page_number_out_of_range_is_a_404(client, page):
    ArticleFactory()

    response = client.get(f"/?page={page}")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_article_page_shows_title_intro_table_and_side_effects_in_order(client):
    article = ArticleFactory(title="Side effects of SMP", body="The introduction.")
    SideEffectFactory(article=article, name="Redness", order=2, frequency="Most common")
    SideEffectFactory(article=article, name="Swollen lymph nodes", order=1, duration="")
    SideEffectFactory(article=article, name="Itchy scalp", order=3)

    response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Side effects of SMP</h1>" in html
    assert "The introduction." in html
    headings = re.findall(r'<h2 id="([^"]+)">([^<]+)</h2>', html)
    assert [
        name for anchor, name in headings if anchor not in {"side-effects-at-a-glance", "comments-heading"}
    ] == [
        "Swollen lymph nodes",
        "Redness",
        "Itchy scalp",
    ]
    table_links = re.findall(r'<th scope="row"><a href="#([^"]+)">', html)
    assert table_links == ["swollen-lymph-nodes", "redness", "itchy-scalp"]
    assert "Most common" in html


def test_article_content_rendered_by_an_older_template_is_rendered_again_at_deploy(client):
    article = ArticleFactory(side_effects=2)
    names = [effect.name for effect in article.side_effects.all()]
    # As a deploy that changed templates/articles/_article_content.html leaves it:
    Article.objects.filter(pk=article.pk).update(
        content_html="<p>Old layout</p>", content_revision="outdated"
    )

    assert "Rendered 1 article again" in call("refresh_article_content")
    html = client.get(article.get_absolute_url()).content.decode()

    assert "Old layout" not in html
    assert all(f'<h2 id="{slugify(name)}">{name}</h2>' in html for name in names)
    article.refresh_from_db()
    assert "Old layout" not in article.content_html
    assert article.content_revision != "outdated"


def test_page_view_shows_content_of_the_current_template_and_writes_nothing(client):
    article = ArticleFactory(side_effects=1)
    stale = {"content_html": "<p>Old layout</p>", "content_revision": "outdated"}
    Article.objects.filter(pk=article.pk).update(**stale)
    name = article.side_effects.get().name

    html = client.get(article.get_absolute_url()).content.decode()

    assert "Old layout" not in html
    assert f'<h2 id="{slugify(name)}">{name}</h2>' in html
    assert Article.objects.get(pk=article.pk).content_revision == "outdated"


def test_refreshing_article_content_leaves_current_articles_alone(article):
    before = Article.objects.values_list("content_html", "content_revision").get(pk=article.pk)

    assert "Rendered 0 articles again" in call("refresh_article_content")
    assert Article.objects.values_list("content_html", "content_revision").get(pk=article.pk) == before


def test_article_loaded_in_bulk_shows_its_side_effects(client):
    (article,) = Article.objects.bulk_create(
        [
            Article(
                title="Loaded in bulk",
                slug="bulk",
                summary="S.",
                body="B.",
                body_html="<p>B.</p>",
                status=Article.Status.PUBLISHED,
            )
        ]
    )
    SideEffect.objects.bulk_create(
        [SideEffect(article=article, name="Scabbing", description="D.", frequency="Rare")]
    )

    html = client.get("/articles/bulk/").content.decode()

    assert '<h2 id="scabbing">Scabbing</h2>' in html
    assert '"name": "Scabbing"' in html  # structured data


def test_deleted_side_effects_leave_the_page_one_by_one_or_in_bulk(client):
    article = ArticleFactory()
    for name in ["Redness", "Swelling", "Scabbing"]:
        SideEffectFactory(article=article, name=name)

    article.side_effects.get(name="Redness").delete()
    SideEffect.objects.filter(article=article, name="Swelling").delete()

    html = client.get(article.get_absolute_url()).content.decode()
    assert "Redness" not in html
    assert "Swelling" not in html
    assert '<h2 id="scabbing">Scabbing</h2>' in html
    article.refresh_from_db()
    assert [effect["name"] for effect in article.side_effect_outline] == ["Scabbing"]
    assert "Swelling" not in article.search_document


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_deleting_an_article_deletes_its_side_effects_without_rendering_it_again(how, monkeypatch):
    article = ArticleFactory(side_effects=3)

    def refresh(self):
        raise AssertionError("an article being deleted was rendered again")

    monkeypatch.setattr(Article, "refresh_derived_fields", refresh)
    if how == "instance":
        article.delete()
    else:
        Article.objects.filter(pk=article.pk).delete()

    assert not Article.objects.exists()
    assert not SideEffect.objects.exists()


def test_unknown_slug_is_a_404_in_the_site_style(client):
    response = client.get("/articles/no-such-article/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_draft_is_a_404_for_anonymous_readers(client):
    draft = ArticleFactory(status=Article.Status.DRAFT)

    assert client.get(draft.get_absolute_url()).status_code == 404


def test_scheduled_article_is_a_404_for_anonymous_readers(client):
    scheduled = ArticleFactory(published_at=timezone.now() + timedelta(days=3))

    assert client.get(scheduled.get_absolute_url()).status_code == 404


def test_draft_is_a_404_for_logged_in_non_staff_users(client):
    draft = ArticleFactory(status=Article.Status.DRAFT)
    client.force_login(UserFactory())

    assert client.get(draft.get_absolute_url()).status_code == 404


def test_staff_preview_a_draft_with_a_banner_and_no_caching(editor_client):
    draft = ArticleFactory(title="Work in progress", status=Article.Status.DRAFT, side_effects=2)

    response = editor_client.get(draft.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Work in progress</h1>" in html
    assert "Preview: not visible to readers." in html
    assert "This article is a draft." in html
    assert "no-store" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in html


def test_staff_preview_a_scheduled_article_with_its_date(editor_client):
    scheduled = ArticleFactory(published_at=timezone.now() + timedelta(days=3))

    response = editor_client.get(scheduled.get_absolute_url())

    assert response.status_code == 200
    assert "It is scheduled for" in response.content.decode()


def test_published_article_has_no_draft_banner(editor_client, article):
    response = editor_client.get(article.get_absolute_url())

    assert "Preview: not visible to readers." not in response.content.decode()


def test_closed_thread_says_comments_are_closed_in_the_comments_section(client):
    article = ArticleFactory(comments_open=False)

    html = client.get(article.get_absolute_url()).content.decode()

    comments = html[html.index('id="comments"') :]
    assert "Comments are closed." in comments


def test_open_thread_does_not_say_comments_are_closed(client):
    article = ArticleFactory(comments_open=True)

    html = client.get(article.get_absolute_url()).content.decode()

    assert 'id="comments"' in html
    assert "Comments are closed." not in html


def test_thread_past_its_close_date_is_closed(client):
    article = ArticleFactory(comments_open=True, comments_close_at=timezone.now() - timedelta(minutes=1))

    assert "Comments are closed." in client.get(article.get_absolute_url()).content.decode()


def test_thread_closes_after_configured_days(client, settings):
    settings.COMMENTS_CLOSE_AFTER_DAYS = 30
    old = ArticleFactory(published_at=timezone.now() - timedelta(days=31))
    recent = ArticleFactory(published_at=timezone.now() - timedelta(days=29))

    assert "Comments are closed." in client.get(old.get_absolute_url()).content.decode()
    assert "Comments are closed." not in client.get(recent.get_absolute_url()).content.decode()


def test_article_page_has_meta_description_canonical_and_open_graph(client):
    article = ArticleFactory(summary="What you should know before treatment.")

    html = client.get(article.get_absolute_url()).content.decode()

    assert '<meta name="description" content="What you should know before treatment.">' in html
    assert f'<link rel="canonical" href="http://testserver{article.get_absolute_url()}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert "Health information, not medical advice." in html


def test_reader_text_in_title_and_summary_is_escaped(client):
    article = ArticleFactory(title="<script>alert(1)</script>", summary='"><img src=x onerror=alert(1)>')

    html = client.get(article.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x onerror" not in html


def test_article_page_query_count_does_not_grow_with_side_effects(client, django_assert_max_num_queries):
    one = ArticleFactory(side_effects=1)
    thirty = ArticleFactory(side_effects=30)

    with django_assert_max_num_queries(5):
        client.get(thirty.get_absolute_url())
    assert count_queries(client, one.get_absolute_url()) == count_queries(client, thirty.get_absolute_url())


def test_article_page_reads_stored_content_not_side_effects(client, settings):
    settings.PAGE_CACHE_SECONDS = 0
    article = ArticleFactory(side_effects=30)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(article.get_absolute_url())

    assert response.content.decode().count('class="side-effect"') == 30
    # The article alone: related articles and the comment count are stored with it, and
    # a thread without approved comments has no page of comments to fetch.
    assert len(queries) == 1
    assert not [query for query in queries if "articles_sideeffect" in query["sql"]]


def test_home_page_query_count_is_fixed(client, django_assert_max_num_queries):
    ArticleFactory.create_batch(10, side_effects=2)

    with django_assert_max_num_queries(3):
        response = client.get("/")
    assert response.status_code == 200
