"""Feeds carry the whole article, as a feed reader shows it away from the site: its stored
HTML with every address absolute, each name of its byline and its topics."""

import re
from xml.etree import ElementTree

import feedparser
import pytest

from articles.feeds import with_absolute_urls
from tests.factories import ArticleFactory, AuthorFactory, ReferenceFactory, SideEffectFactory, TopicFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
ARTICLE_URL = "http://testserver/articles/healing-after-smp/"
FEEDS = ["/feed/", "/feed/atom/", "/topics/aftercare/feed/"]

BODY = """See [what SMP is](/articles/what-is-scalp-micropigmentation/), [redness](#redness),
[a study](https://example.org/study) and [write to us](mailto:team@clinic.example).

![A healed scalp](/media/healed-scalp.png)

As one study found [@doe2020].

## Washing

Wait three days."""


@pytest.fixture
def aftercare():
    return TopicFactory(name="Aftercare", slug="aftercare")


@pytest.fixture
def risks():
    return TopicFactory(name="Risks & side effects", slug="risks")


@pytest.fixture
def healing(aftercare, risks):
    """An article by two authors in two topics, whose body links within the site, within
    itself, elsewhere and to an email address, with an image, a side effect and a reference."""
    article = ArticleFactory(title="Healing after SMP", slug="healing-after-smp", topics=[aftercare, risks])
    # In byline order: added together, with the same order, they would follow the ids of
    # their byline rows, which add() inserts in no set order.
    article.authors.add(AuthorFactory(name="Amy Adams"), through_defaults={"order": 1})
    article.authors.add(AuthorFactory(name="Ben Brown"), through_defaults={"order": 2})
    SideEffectFactory(article=article, name="Redness", description="Pink skin for a day.")
    ReferenceFactory(article=article, key="doe2020", url="https://example.org/study")
    article.body = BODY
    article.save()
    return article


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return feedparser.parse(response.content, response_headers={"content-type": response["Content-Type"]})


def entry_titled(feed, title):
    return next(entry for entry in feed.entries if entry.title == title)


def addresses(html):
    return re.findall(r'\s(?:href|src)="([^"]*)"', html)


def test_rss_item_carries_the_whole_article_as_content_encoded(client, healing):
    content = entry_titled(parse(client, "/feed/"), "Healing after SMP").content[0]

    assert content.type == "text/html"
    html = content.value
    assert "Wait three days." in html  # the body
    assert 'id="redness"' in html and "Pink skin for a day." in html  # its side effect
    assert 'id="references"' in html and "A study of pigment" in html  # its references
    assert 'id="toc-heading"' in html  # its contents


def test_every_link_and_image_of_the_feed_content_is_absolute(client, healing):
    html = entry_titled(parse(client, "/feed/"), "Healing after SMP").content[0].value

    found = addresses(html)
    assert "http://testserver/articles/what-is-scalp-micropigmentation/" in found
    assert "http://testserver/media/healed-scalp.png" in found
    assert f"{ARTICLE_URL}#redness" in found
    assert f"{ARTICLE_URL}#ref-1" in found  # the citation
    assert f"{ARTICLE_URL}#washing" in found  # the contents
    assert "https://example.org/study" in found
    assert "mailto:team@clinic.example" in found
    assert all(address.startswith(("http://testserver/", "https://", "mailto:")) for address in found), found


def test_atom_entry_carries_the_same_html_as_content_of_type_html(client, healing):
    rss = ElementTree.fromstring(client.get("/feed/").content)
    atom = ElementTree.fromstring(client.get("/feed/atom/").content)

    item = next(item for item in rss.iter("item") if item.findtext("title") == "Healing after SMP")
    entry = next(
        entry for entry in atom.iter(f"{ATOM}entry") if entry.findtext(f"{ATOM}title") == "Healing after SMP"
    )
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert content.text == item.findtext(f"{CONTENT}encoded")
    assert f'href="{ARTICLE_URL}#redness"' in content.text


def test_rss_declares_the_content_and_dublin_core_namespaces_once_on_its_root(client, healing):
    xml = client.get("/feed/").content.decode()

    root_tag = xml[xml.index("<rss") : xml.index(">", xml.index("<rss"))]
    assert 'xmlns:content="http://purl.org/rss/1.0/modules/content/"' in root_tag
    assert 'xmlns:dc="http://purl.org/dc/elements/1.1/"' in root_tag
    assert xml.count("xmlns:dc=") == 1


def test_rss_item_has_a_dc_creator_per_byline_name_and_a_category_per_topic(client, healing):
    ArticleFactory(title="Unsigned")
    root = ElementTree.fromstring(client.get("/feed/").content)

    items = {item.findtext("title"): item for item in root.iter("item")}
    assert [creator.text for creator in items["Healing after SMP"].findall(f"{DC}creator")] == [
        "Amy Adams",
        "Ben Brown",
    ]
    assert [creator.text for creator in items["Unsigned"].findall(f"{DC}creator")] == ["smpinfo"]
    assert [category.text for category in items["Healing after SMP"].findall("category")] == [
        "Aftercare",
        "Risks & side effects",
    ]
    assert items["Unsigned"].findall("category") == []


def test_atom_entry_has_an_author_per_byline_name_and_a_labelled_category_per_topic(client, healing):
    entry = entry_titled(parse(client, "/feed/atom/"), "Healing after SMP")

    assert [author["name"] for author in entry.authors] == ["Amy Adams", "Ben Brown"]
    assert [(tag.term, tag.label, tag.scheme) for tag in entry.tags] == [
        ("aftercare", "Aftercare", "http://testserver/topics/"),
        ("risks", "Risks & side effects", "http://testserver/topics/"),
    ]


def test_topic_feed_items_carry_the_whole_article_too(client, healing):
    entry = entry_titled(parse(client, "/topics/aftercare/feed/"), "Healing after SMP")

    assert f'href="{ARTICLE_URL}#redness"' in entry.content[0].value
    assert [author["name"] for author in entry.authors] == ["Amy Adams", "Ben Brown"]
    assert [tag.term for tag in entry.tags] == ["Aftercare", "Risks & side effects"]


@pytest.mark.parametrize("url", FEEDS)
def test_full_content_feeds_parse_without_any_problem_with_content_categories_and_authors(
    client, healing, url
):
    ArticleFactory(
        title="Ink & needles: <b>bold</b> claims",
        summary="Q&A — “quotes” and <tags>",
        topics=[healing.topics.first()],
    )

    feed = parse(client, url)

    assert not feed.bozo, feed.get("bozo_exception")
    assert len(feed.entries) == 2
    for entry in feed.entries:
        assert entry.content[0].value, entry.title
        assert entry.tags, entry.title
        assert all(author["name"] for author in entry.authors), entry.title


@pytest.mark.parametrize(
    ("url", "budget"), [("/feed/", 2), ("/feed/atom/", 2), ("/topics/aftercare/feed/", 3)]
)
def test_feeds_run_a_few_queries_whatever_the_number_of_items(
    client, django_assert_max_num_queries, aftercare, url, budget
):
    # Budget: the articles (and the topic), and what the page cache asks once: the next
    # scheduled publication. More articles than a feed shows, each with a byline and topics.
    for number in range(25):
        article = ArticleFactory(topics=[aftercare], side_effects=1)
        article.authors.add(AuthorFactory(name=f"Writer {number}"))

    with django_assert_max_num_queries(budget):
        feed = parse(client, url)

    assert len(feed.entries) == 20
    assert all(entry.content[0].value for entry in feed.entries)


def test_addresses_are_resolved_as_a_browser_on_the_article_would():
    html = (
        '<a href="/about/">a</a> <a href="#ref-1">b</a> <a href="other/">c</a> <a href="https://x.example/">d</a>'
        ' <a href="mailto:a@b.example">e</a> <img src="/media/a.png" alt="">'
        ' <img srcset="/media/a-480.webp 480w, /media/a-960.webp 960w" alt="">'
    )

    assert addresses(with_absolute_urls(html, ARTICLE_URL)) == [
        "http://testserver/about/",
        f"{ARTICLE_URL}#ref-1",
        f"{ARTICLE_URL}other/",
        "https://x.example/",
        "mailto:a@b.example",
        "http://testserver/media/a.png",
    ]
    assert 'srcset="http://testserver/media/a-480.webp 480w, http://testserver/media/a-960.webp 960w"' in (
        with_absolute_urls(html, ARTICLE_URL)
    )
