"""Topics: their pages, the index, their feeds, links from articles, and pages that stay
right when an article's topics or a topic change.

Tests of the page cache's freshness use a transactional database: cached pages are
retired when a change commits, as on the real site.
"""

import re
from datetime import timedelta

import feedparser
import pytest
from django.utils import timezone

from articles.models import Article, Topic
from tests.factories import ArticleFactory, TopicFactory, UserFactory, admin_article_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def aftercare():
    return TopicFactory(name="Aftercare", slug="aftercare", summary="Caring for the scalp after a session.")


@pytest.fixture
def risks():
    return TopicFactory(name="Risks", slug="risks", summary="What can go wrong, and how often.")


def titles_on(response):
    """The article titles a list page shows, in order."""
    return re.findall(r'<h3 class="h4"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def test_topic_page_lists_its_published_articles_newest_first(client, aftercare, risks):
    now = timezone.now()
    ArticleFactory(title="Washing after SMP", topics=[aftercare], published_at=now - timedelta(days=2))
    ArticleFactory(title="Sleeping after SMP", topics=[aftercare], published_at=now - timedelta(days=1))
    ArticleFactory(title="Ink migration", topics=[risks])
    ArticleFactory(title="Aftercare draft", topics=[aftercare], status=Article.Status.DRAFT)
    ArticleFactory(title="Aftercare next week", topics=[aftercare], published_at=now + timedelta(days=7))

    response = client.get("/topics/aftercare/")

    assert response.status_code == 200
    assert titles_on(response) == ["Sleeping after SMP", "Washing after SMP"]
    html = response.content.decode()
    assert "<h1>Aftercare</h1>" in html
    assert "Articles about <strong>aftercare</strong>." in html  # its description, rendered
    assert '<meta name="description" content="Caring for the scalp after a session.">' in html


def test_topic_page_is_paginated(client, aftercare):
    for number in range(12):
        ArticleFactory(title=f"Aftercare tip {number:02}", topics=[aftercare])

    first = client.get("/topics/aftercare/")
    second = client.get("/topics/aftercare/?page=2")

    assert len(titles_on(first)) == 10
    assert len(titles_on(second)) == 2
    assert "Page 2 of 2" in second.content.decode()
    assert set(titles_on(first)).isdisjoint(titles_on(second))


def test_unknown_topic_is_404(client):
    assert client.get("/topics/no-such-topic/").status_code == 404
    assert client.get("/topics/no-such-topic/feed/").status_code == 404


def test_article_page_links_its_topics(client, aftercare, risks):
    article = ArticleFactory(topics=[risks, aftercare])

    html = client.get(article.get_absolute_url()).content.decode()

    topics = html.split('class="article-topics')[1].split("</p>")[0]
    assert re.findall(r'<a href="([^"]+)" rel="tag">([^<]+)</a>', topics) == [
        ("/topics/aftercare/", "Aftercare"),
        ("/topics/risks/", "Risks"),
    ]


def test_article_without_topics_shows_no_topic_line(client):
    article = ArticleFactory()

    assert 'class="article-topics' not in client.get(article.get_absolute_url()).content.decode()


def test_topics_index_lists_topics_with_published_articles_and_their_count(client, aftercare, risks):
    TopicFactory(name="Costs", slug="costs")  # no article yet: readers would find an empty page
    ArticleFactory.create_batch(2, topics=[aftercare])
    ArticleFactory(topics=[risks])
    ArticleFactory(topics=[risks], status=Article.Status.DRAFT)

    html = client.get("/topics/").content.decode()

    assert re.findall(r'<a class="h5" href="([^"]+)">([^<]+)</a>', html) == [
        ("/topics/aftercare/", "Aftercare"),
        ("/topics/risks/", "Risks"),
    ]
    assert "2 articles" in html
    assert "1 article<" in html
    assert "Costs" not in html
    assert "Caring for the scalp after a session." in html


def test_every_page_links_the_topics_index(client):
    assert '<a class="nav-link" href="/topics/">Topics</a>' in client.get("/").content.decode()


def test_topic_feed_carries_only_the_topics_published_articles(client, aftercare, risks):
    ArticleFactory(title="Washing after SMP", topics=[aftercare])
    ArticleFactory(title="Ink migration", topics=[risks])
    ArticleFactory(title="Aftercare draft", topics=[aftercare], status=Article.Status.DRAFT)

    response = client.get("/topics/aftercare/feed/")
    feed = feedparser.parse(response.content)

    assert response.status_code == 200
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "smpinfo: Aftercare"
    assert feed.feed.link == "http://testserver/topics/aftercare/"
    assert [entry.title for entry in feed.entries] == ["Washing after SMP"]


def test_topic_page_announces_its_feed(client, aftercare):
    html = client.get("/topics/aftercare/").content.decode()

    feeds = re.findall(
        r'<link rel="alternate" type="application/rss\+xml" title="([^"]+)" href="([^"]+)">', html
    )
    assert ("smpinfo: Aftercare (RSS)", "/topics/aftercare/feed/") in feeds


def test_sitemap_lists_topics_with_published_articles(client, aftercare, risks):
    ArticleFactory(topics=[aftercare])
    ArticleFactory(topics=[risks], status=Article.Status.DRAFT)

    xml = client.get("/sitemap.xml").content.decode()

    assert "<loc>http://testserver/topics/aftercare/</loc>" in xml
    assert "/topics/risks/" not in xml


def test_topic_page_stays_within_three_queries(client, aftercare, settings, django_assert_max_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    for _ in range(10):
        ArticleFactory(topics=[aftercare], side_effects=2)

    with django_assert_max_num_queries(3):
        response = client.get("/topics/aftercare/")

    assert len(titles_on(response)) == 10


def test_article_page_with_topics_and_related_articles_stays_within_budget(
    client, aftercare, risks, settings, django_assert_max_num_queries
):
    settings.PAGE_CACHE_SECONDS = 0
    ArticleFactory.create_batch(4, topics=[aftercare, risks])
    article = ArticleFactory(topics=[aftercare, risks], side_effects=3)

    with django_assert_max_num_queries(5):
        html = client.get(article.get_absolute_url()).content.decode()

    assert html.count('rel="tag"') == 2
    assert html.split('class="related-articles')[1].count("<li>") == 3


# Pages that show a topic stay right whatever changes it.
fresh = pytest.mark.django_db(transaction=True)


@fresh
def test_filing_an_article_under_a_topic_updates_both_topic_pages(client, aftercare, risks):
    article = ArticleFactory(title="Itching after SMP", topics=[aftercare])
    assert titles_on(client.get("/topics/aftercare/")) == ["Itching after SMP"]  # now cached
    assert titles_on(client.get("/topics/risks/")) == []

    article.topics.set([risks])

    assert titles_on(client.get("/topics/aftercare/")) == []
    assert titles_on(client.get("/topics/risks/")) == ["Itching after SMP"]
    assert "/topics/risks/" in client.get(article.get_absolute_url()).content.decode()


@fresh
def test_removing_a_topic_from_the_topic_side_updates_the_article_page(client, aftercare):
    article = ArticleFactory(topics=[aftercare])
    assert "/topics/aftercare/" in client.get(article.get_absolute_url()).content.decode()

    aftercare.articles.clear()

    assert "/topics/aftercare/" not in client.get(article.get_absolute_url()).content.decode()


@fresh
def test_renaming_a_topic_updates_the_pages_that_link_it(client, aftercare):
    article = ArticleFactory(topics=[aftercare])
    client.get(article.get_absolute_url())
    client.get("/topics/")

    aftercare.name = "Healing and aftercare"
    aftercare.save()

    assert ">Healing and aftercare</a>" in client.get(article.get_absolute_url()).content.decode()
    assert ">Healing and aftercare</a>" in client.get("/topics/").content.decode()


@fresh
def test_renaming_topics_in_bulk_updates_the_pages_that_link_them(client, aftercare):
    article = ArticleFactory(topics=[aftercare])
    client.get(article.get_absolute_url())

    Topic.objects.filter(pk=aftercare.pk).update(name="After the session")

    assert ">After the session</a>" in client.get(article.get_absolute_url()).content.decode()


@fresh
def test_deleting_a_topic_removes_its_links(client, aftercare):
    article = ArticleFactory(topics=[aftercare])
    client.get(article.get_absolute_url())

    aftercare.delete()

    assert Article.objects.get(pk=article.pk).topic_outline == []
    assert "/topics/aftercare/" not in client.get(article.get_absolute_url()).content.decode()


@fresh
def test_unpublishing_an_article_takes_it_off_its_topic_page(client, aftercare):
    article = ArticleFactory(title="Itching after SMP", topics=[aftercare])
    assert titles_on(client.get("/topics/aftercare/")) == ["Itching after SMP"]

    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)

    assert titles_on(client.get("/topics/aftercare/")) == []
    assert client.get("/topics/").content.decode().count("/topics/aftercare/") == 0


# Editors in the admin.


def test_editor_files_an_article_under_topics_in_the_admin(editor_client, aftercare, risks):
    article = ArticleFactory()

    response = editor_client.post(
        f"/admin/articles/article/{article.pk}/change/",
        admin_article_form_data(article, topics=[str(aftercare.pk), str(risks.pk)]),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(article.topics.all()) == {aftercare, risks}
    assert Article.objects.get(pk=article.pk).topic_outline == [aftercare.outline(), risks.outline()]


def test_editor_writes_a_topic_in_the_admin(editor_client, client):
    response = editor_client.post(
        "/admin/articles/topic/add/",
        {"name": "Costs", "slug": "costs", "summary": "What SMP costs.", "description": "Prices *vary*."},
    )

    assert response.status_code == 302
    ArticleFactory(topics=[Topic.objects.get(slug="costs")])
    assert "Prices <em>vary</em>." in client.get("/topics/costs/").content.decode()


def test_two_topics_cannot_share_a_slug(editor_client, aftercare):
    response = editor_client.post(
        "/admin/articles/topic/add/",
        {"name": "Aftercare tips", "slug": "aftercare", "summary": "", "description": ""},
    )

    assert response.status_code == 200
    assert "Topic with this Slug already exists." in response.content.decode()
    assert Topic.objects.count() == 1


def test_moderators_see_topics_but_cannot_change_them(aftercare):
    moderator = UserFactory(username="topic-moderator", is_staff=True, groups=["Moderators"])

    assert moderator.has_perm("articles.view_topic")
    assert not moderator.has_perm("articles.change_topic")
    assert not moderator.has_perm("articles.add_topic")
