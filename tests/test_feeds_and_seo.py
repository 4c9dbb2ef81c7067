"""Feeds, sitemap, robots.txt, JSON-LD and the article page's reading aids."""

import hashlib
import io
import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import feedparser
import pytest
from django.core.management import call_command
from django.template.loader import get_template
from django.utils import timezone

from articles.models import Article, content_revision
from tests.factories import ArticleFactory, SideEffectFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def articles():
    now = timezone.now()
    return {
        "older": ArticleFactory(title="Older article", published_at=now - timedelta(days=2)),
        "newer": ArticleFactory(title="Newer article", published_at=now - timedelta(days=1)),
        "draft": ArticleFactory(title="Draft article", status=Article.Status.DRAFT),
        "scheduled": ArticleFactory(title="Scheduled article", published_at=now + timedelta(days=1)),
    }


def test_rss_feed_lists_published_articles_newest_first(client, articles):
    response = client.get("/feed/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    xml = response.content.decode()
    assert xml.index("Newer article") < xml.index("Older article")
    assert "Draft article" not in xml
    assert "Scheduled article" not in xml


def test_atom_feed_lists_published_articles_with_updated_dates(client, articles):
    response = client.get("/feed/atom/")

    assert response["Content-Type"].startswith("application/atom+xml")
    xml = response.content.decode()
    assert "Newer article" in xml
    assert "<updated>" in xml
    assert "Draft article" not in xml


@pytest.fixture
def feed_content(db):
    """The seed content (signed by the editorial team), an unsigned article and one whose
    title and summary hold characters XML must escape."""
    call_command("seed_content", verbosity=0)
    ArticleFactory(title="Unsigned article")
    ArticleFactory(title="Ink & needles: <b>bold</b> claims", summary="Q&A — “quotes” and <tags>")


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_site_feeds_parse_without_any_problem_in_feedparser(client, feed_content, url):
    response = client.get(url)

    feed = feedparser.parse(response.content, response_headers={"content-type": response["Content-Type"]})
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == {"/feed/": "rss20", "/feed/atom/": "atom10"}[url]
    expected = {"Unsigned article", "Ink & needles: <b>bold</b> claims", "What is scalp micropigmentation?"}
    assert expected <= {entry.title for entry in feed.entries}


def test_every_atom_entry_has_an_author_with_a_name(client, feed_content):
    root = ElementTree.fromstring(client.get("/feed/atom/").content)

    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == Article.objects.published().count()
    names = {}
    for entry in entries:
        authors = entry.findall(f"{ATOM}author")  # the entry's own, not only the feed's
        names[entry.findtext(f"{ATOM}title")] = [author.findtext(f"{ATOM}name") for author in authors]
    assert names["Unsigned article"] == ["smpinfo"]
    assert names["What is scalp micropigmentation?"] == ["smpinfo editorial team"]
    assert all(names.values()), names
    assert all(name for entry_names in names.values() for name in entry_names), names


def test_sitemap_lists_published_articles_with_lastmod(client, articles):
    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    xml = response.content.decode()
    assert f"http://testserver{articles['newer'].get_absolute_url()}" in xml
    assert "<lastmod>" in xml
    assert articles["draft"].slug not in xml
    assert articles["scheduled"].slug not in xml


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()
    assert "Disallow: /admin/" in response.content.decode()


def json_ld(html):
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    return json.loads(match.group(1))


def test_article_has_valid_json_ld_with_side_effects(client):
    call_command("seed_content")
    article = Article.objects.get(slug="side-effects-of-scalp-micropigmentation")

    data = json_ld(client.get(article.get_absolute_url()).content.decode())

    assert data["@type"] == "MedicalWebPage"
    assert data["headline"] == "Side Effects of Scalp Micropigmentation"
    assert data["dateModified"].startswith(str(article.updated_at.date()))
    outcomes = data["about"]["adverseOutcome"]
    assert [outcome["name"] for outcome in outcomes][:2] == ["Swollen lymph nodes", "Redness"]
    assert outcomes[1]["url"].endswith("/articles/side-effects-of-scalp-micropigmentation/#redness")


def test_json_ld_describes_each_side_effect_in_a_readable_sentence(client):
    article = ArticleFactory()
    SideEffectFactory(article=article, name="Redness", frequency="Common", duration="1-2 days",
                      advice="Keep it clean")  # fmt: skip
    SideEffectFactory(article=article, name="Itching", frequency="Some people", duration="",
                      advice="Do not scratch; it passes.")  # fmt: skip

    data = json_ld(client.get(article.get_absolute_url()).content.decode())

    assert [outcome["description"] for outcome in data["about"]["adverseOutcome"]] == [
        "How common: Common. How long it lasts: 1-2 days. What to do: Keep it clean.",
        "How common: Some people. What to do: Do not scratch; it passes.",
    ]


def test_json_ld_of_an_article_without_side_effects_says_what_it_is_about(client):
    article = ArticleFactory(title="What is scalp micropigmentation?")

    data = json_ld(client.get(article.get_absolute_url()).content.decode())

    assert data["about"] == {
        "@type": "TherapeuticProcedure",
        "name": "Scalp micropigmentation",
        "alternateName": "SMP",
    }


def test_refresh_article_content_stores_the_outline_of_articles_saved_by_the_previous_release(client):
    article = ArticleFactory(side_effects=1)
    effect = article.side_effects.get()
    # What the previous release stored: the side effect's facts joined by spaces, under a
    # revision that digested the page templates alone.
    templates_digest = hashlib.sha256()
    for name in ("articles/_article_content.html", "articles/_article_header.html",
                 "articles/_references.html"):  # fmt: skip
        templates_digest.update(get_template(name).template.source.encode())
    old_outline = [{"name": effect.name, "anchor": effect.anchor,
                    "summary": f"{effect.frequency} {effect.duration} {effect.advice}"}]  # fmt: skip
    Article.objects.filter(pk=article.pk).update(
        side_effect_outline=old_outline, content_revision=templates_digest.hexdigest()[:16]
    )

    call_command("refresh_article_content", stdout=io.StringIO())

    refreshed = Article.objects.get(pk=article.pk)
    assert refreshed.side_effect_outline == [effect.outline()] != old_outline
    assert refreshed.content_revision == content_revision()


def test_json_ld_cannot_be_broken_out_of(client):
    article = ArticleFactory(title="</script><script>alert(1)</script>", summary="<!-- & -->")

    html = client.get(article.get_absolute_url()).content.decode()

    assert "</script><script>alert(1)" not in html
    assert json_ld(html)["headline"] == "</script><script>alert(1)</script>"


def test_json_ld_names_the_address_and_host_the_page_is_read_at(client, settings):
    settings.ALLOWED_HOSTS = ["smp.example", "www.smp.example"]
    article = ArticleFactory(slug="aftercare", side_effects=1)
    effect = article.side_effects.get()

    first = json_ld(client.get("/articles/aftercare/", HTTP_HOST="smp.example").content.decode())
    second = json_ld(
        client.get("/articles/aftercare/", HTTP_HOST="www.smp.example", secure=True).content.decode()
    )

    assert first["url"] == first["@id"] == "http://smp.example/articles/aftercare/"
    assert first["publisher"]["url"] == "http://smp.example/"
    assert (
        first["about"]["adverseOutcome"][0]["url"]
        == f"http://smp.example/articles/aftercare/#{effect.anchor}"
    )
    assert second["url"] == "https://www.smp.example/articles/aftercare/"
    assert second["publisher"]["url"] == "https://www.smp.example/"
    assert "smp.example" not in Article.objects.get(pk=article.pk).structured_data


def test_json_ld_follows_a_new_slug_and_publication_time_set_without_a_save(client):
    article = ArticleFactory(slug="before")
    published = timezone.now().replace(microsecond=0) - timedelta(days=3)

    Article.objects.filter(pk=article.pk).update(slug="after", published_at=published, updated_at=published)
    data = json_ld(client.get("/articles/after/").content.decode())

    assert data["url"] == "http://testserver/articles/after/"
    assert data["datePublished"] == data["dateModified"] == published.isoformat().replace("+00:00", "Z")


def test_text_of_an_article_cannot_open_a_hole_in_its_json_ld(client):
    article = ArticleFactory(title="\x01origin\x01 and \\u0001page\\u0001", summary="\x01published\x01")

    data = json_ld(client.get(article.get_absolute_url()).content.decode())

    assert data["headline"] == "origin and \\u0001page\\u0001"
    assert data["description"] == "published"


def test_article_shows_dates_reading_time_and_table_of_contents(client):
    article = ArticleFactory(
        body="## Before treatment\n\n" + "word " * 450 + "\n\n## After treatment\n\ntext",
        published_at=timezone.now() - timedelta(days=2),
    )
    SideEffectFactory(article=article, name="Redness")  # a change of content, days after publication

    html = client.get(article.get_absolute_url()).content.decode()

    assert "Published <time" in html
    assert "Updated <time" in html
    assert "3 min read" in html
    toc = html.split('class="table-of-contents')[1].split("</nav>")[0]
    assert '<a href="#before-treatment">Before treatment</a>' in toc
    assert '<a href="#after-treatment">After treatment</a>' in toc
    assert '<a href="#redness">Redness</a>' in toc


def test_reading_time_follows_side_effect_changes():
    article = ArticleFactory(body="short")
    assert Article.objects.get(pk=article.pk).reading_minutes == 1

    SideEffectFactory(article=article, description="word " * 700)

    assert Article.objects.get(pk=article.pk).reading_minutes == 4


def test_related_articles_are_other_published_articles(client, articles):
    html = client.get(articles["older"].get_absolute_url()).content.decode()

    related = html.split('class="related-articles')[1].split("</aside>")[0]
    assert "Newer article" in related
    assert "Older article" not in related
    assert "Draft article" not in related


def test_styled_404_page(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "site-header" in response.content.decode()
