"""What a search engine or a link preview (a chat app, a social network) reads of each reader
page: its title, description, canonical address, Open Graph and Twitter tags, and the
JSON-LD of the home and topic pages."""

import json
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test.utils import override_script_prefix
from django.utils import timezone

from articles.models import Article
from tests.factories import ArticleFactory, AuthorFactory, TopicFactory, comment_form_data

pytestmark = pytest.mark.django_db

SEED_ARTICLE = "/articles/side-effects-of-scalp-micropigmentation/"
READER_PAGES = [
    "/",
    "/?page=2",
    SEED_ARTICLE,
    "/authors/sam-writer/",
    "/topics/",
    "/topics/aftercare/",
    "/topics/aftercare/?page=2",
    "/about/",
    "/editorial-policy/",
    "/search/?q=redness",
    "/search/",
]


class Head(HTMLParser):
    """The <head> as a crawler reads it: the title, <meta> tags by property or name (values
    unescaped), the canonical link and the JSON-LD."""

    def __init__(self, html):
        super().__init__()
        self.title, self.meta, self.canonical, self.json_ld = "", {}, None, []
        self.reading = None
        self.feed(html.split("</head>")[0])

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self.reading = "title"
        elif tag == "meta" and (attrs.get("property") or attrs.get("name")):
            self.meta[attrs.get("property") or attrs.get("name")] = attrs["content"]
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical = attrs["href"]
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self.reading = "json_ld"

    def handle_data(self, data):
        if self.reading == "title":
            self.title += data
        elif self.reading == "json_ld":
            self.json_ld.append(json.loads(data))

    def handle_endtag(self, tag):
        self.reading = None


def head_of(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200, url
    return Head(response.content.decode())


@pytest.fixture
def aftercare(db):
    return TopicFactory(name="Aftercare", slug="aftercare", summary="Caring for the scalp after a session.")


@pytest.fixture
def site(aftercare):
    """The seed content, an author with a bio, and twelve aftercare articles (two pages of
    the topic and of the home page)."""
    call_command("seed_content", verbosity=0)
    article = Article.objects.get(slug="side-effects-of-scalp-micropigmentation")
    article.authors.add(
        AuthorFactory(name="Sam Writer", slug="sam-writer", bio="Sam writes about *aftercare*.")
    )
    now = timezone.now()
    for number in range(12):
        ArticleFactory(
            title=f"Aftercare tip {number:02}",
            topics=[aftercare],
            published_at=now - timedelta(days=number + 1),
        )


@pytest.mark.parametrize("url", READER_PAGES)
def test_every_reader_page_has_a_title_description_canonical_address_and_preview_tags(client, site, url):
    head = head_of(client, url)

    assert head.title.strip()
    assert head.meta["description"].strip()
    assert head.canonical.startswith("http://testserver/")
    assert head.meta["og:url"] == head.canonical
    assert head.meta["og:site_name"] == "smpinfo"
    assert head.meta["og:type"] in ("website", "article", "profile")
    assert head.meta["og:title"].strip()
    assert head.meta["og:description"] == head.meta["description"]
    assert head.meta["twitter:card"] == "summary"  # no image yet
    assert head.meta["twitter:title"] == head.meta["og:title"]
    assert head.meta["twitter:description"] == head.meta["description"]


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("/topics/aftercare/", "http://testserver/topics/aftercare/"),
        ("/topics/aftercare/?page=1", "http://testserver/topics/aftercare/"),
        ("/topics/aftercare/?page=2", "http://testserver/topics/aftercare/?page=2"),
        ("/?page=2&utm_source=newsletter", "http://testserver/?page=2"),
        (f"{SEED_ARTICLE}?utm_source=newsletter&page=2", f"http://testserver{SEED_ARTICLE}"),
        ("/search/?q=redness&utm_source=newsletter", "http://testserver/search/?q=redness"),
    ],
)
def test_canonical_address_keeps_only_what_makes_the_page(client, site, url, canonical):
    head = head_of(client, url)

    assert head.canonical == canonical
    assert head.meta["og:url"] == canonical


def test_article_preview_shows_its_title_and_summary_as_written(client):
    article = ArticleFactory(title='Ink & "needles": the <truth>', summary="Q&A — “quotes” and <tags>")

    head = head_of(client, article.get_absolute_url())

    assert head.meta["og:type"] == "article"
    assert head.meta["og:title"] == head.meta["twitter:title"] == 'Ink & "needles": the <truth>'
    assert head.meta["description"] == head.meta["twitter:description"] == "Q&A — “quotes” and <tags>"
    assert head.meta["article:published_time"]


def test_topic_preview_describes_the_topic(client, site):
    head = head_of(client, "/topics/aftercare/")

    assert head.meta["og:title"] == "Aftercare"
    assert head.meta["description"] == "Caring for the scalp after a session."


def test_author_preview_describes_the_author_in_plain_text(client, site):
    head = head_of(client, "/authors/sam-writer/")

    assert head.meta["og:type"] == "profile"
    assert head.meta["og:title"] == "Sam Writer"
    assert head.meta["description"] == "Sam writes about aftercare."


def test_article_shown_again_with_comment_errors_keeps_the_articles_address(client):
    article = ArticleFactory()
    response = client.post(
        f"{article.get_absolute_url()}comments/", comment_form_data(article, author_email="nope")
    )

    assert response.status_code == 400
    assert Head(response.content.decode()).canonical == f"http://testserver{article.get_absolute_url()}"


def test_error_and_refusal_pages_name_no_canonical_address(client):
    closed = ArticleFactory(comments_open=False)
    pages = [
        client.get("/no/such/page/"),
        client.post(f"{closed.get_absolute_url()}comments/", comment_form_data(closed)),
    ]

    assert [page.status_code for page in pages] == [404, 403]
    for page in pages:
        head = Head(page.content.decode())
        assert head.canonical is None
        assert "og:url" not in head.meta


def test_home_page_describes_the_website_and_its_search_in_json_ld(client, site):
    (website,) = head_of(client, "/").json_ld

    assert website["@context"] == "https://schema.org"
    assert website["@type"] == "WebSite"
    assert website["url"] == "http://testserver/"
    action = website["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"]["@type"] == "EntryPoint"
    assert action["target"]["urlTemplate"] == "http://testserver/search/?q={search_term_string}"
    assert action["query-input"] == "required name=search_term_string"


def test_the_search_action_finds_articles(client, site):
    (website,) = head_of(client, "/").json_ld
    search = website["potentialAction"]["target"]["urlTemplate"].replace("{search_term_string}", "redness")

    html = client.get(search).content.decode()

    assert "Side Effects of Scalp Micropigmentation" in html


def test_topic_page_is_a_collection_page_of_the_website_listing_the_articles_it_shows(client, site):
    head = head_of(client, "/topics/aftercare/")

    (page,) = head.json_ld
    assert page["@type"] == "CollectionPage"
    assert page["url"] == page["@id"] == head.canonical
    assert page["name"] == "Aftercare"
    assert page["description"] == "Caring for the scalp after a session."
    assert page["isPartOf"]["@type"] == "WebSite"
    assert page["isPartOf"]["url"] == "http://testserver/"
    assert page["isPartOf"]["potentialAction"]["@type"] == "SearchAction"
    items = page["mainEntity"]["itemListElement"]
    assert page["mainEntity"]["@type"] == "ItemList"
    assert [item["@type"] for item in items] == ["ListItem"] * 10
    assert [item["position"] for item in items] == list(range(1, 11))
    assert [item["name"] for item in items] == [f"Aftercare tip {number:02}" for number in range(10)]
    assert (
        items[0]["url"]
        == f"http://testserver{Article.objects.get(title='Aftercare tip 00').get_absolute_url()}"
    )


def test_second_page_of_a_topic_numbers_its_articles_on_from_the_first_page(client, site):
    head = head_of(client, "/topics/aftercare/?page=2")

    (page,) = head.json_ld
    assert page["url"] == "http://testserver/topics/aftercare/?page=2" == head.canonical
    items = page["mainEntity"]["itemListElement"]
    assert [(item["position"], item["name"]) for item in items] == [
        (11, "Aftercare tip 10"),
        (12, "Aftercare tip 11"),
    ]


def test_json_ld_addresses_follow_the_path_the_site_is_served_under(client, site):
    with override_script_prefix("/smp/"):
        head = head_of(client, "/", SCRIPT_NAME="/smp")

    (website,) = head.json_ld
    assert head.canonical == "http://testserver/smp/"
    assert website["url"] == "http://testserver/smp/"
    assert (
        website["potentialAction"]["target"]["urlTemplate"]
        == "http://testserver/smp/search/?q={search_term_string}"
    )
