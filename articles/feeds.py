"""RSS and Atom feeds of published articles: each whole article, its byline and its topics.

The article's content is the HTML stored when it was saved (Article.content_html), with
its addresses made absolute: a feed item renders no Markdown and runs no query of its own.
"""

import re
from urllib.parse import urljoin

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse, reverse_lazy
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from articles.models import Article, Topic

FEED_SIZE = 20
PUBLISHER = "smpinfo"
# What a feed item shows beyond a list's fields (LIST_FIELDS): the content and the topics.
FEED_FIELDS = ("content_html", "topic_outline")

CONTENT_NAMESPACE = "http://purl.org/rss/1.0/modules/content/"
DUBLIN_CORE_NAMESPACE = "http://purl.org/dc/elements/1.1/"

# The stored content is written by our templates and the Markdown sanitizer (nh3), which
# quote every attribute with double quotes.
URL_ATTRIBUTE = re.compile(r'(\s(?:href|src)=")([^"]*)(")')
SRCSET_ATTRIBUTE = re.compile(r'(\ssrcset=")([^"]*)(")')


def with_absolute_urls(html, page_url):
    """`html` with every link and image address resolved against `page_url` (the article's
    absolute address), as a browser on that page would resolve them.

    A feed reader shows the content away from the site: "/about/" becomes the site's
    scheme, host and path, "#ref-1" the article's address with that fragment; absolute
    addresses and mailto: links stay as they are.
    """

    def absolute(match):
        return f"{match[1]}{urljoin(page_url, match[2])}{match[3]}"

    def absolute_srcset(match):
        candidates = []
        for candidate in match[2].split(","):
            url, _, descriptor = candidate.strip().partition(" ")
            candidates.append(f"{urljoin(page_url, url)} {descriptor}".strip())
        return f"{match[1]}{', '.join(candidates)}{match[3]}"

    return SRCSET_ATTRIBUTE.sub(absolute_srcset, URL_ATTRIBUTE.sub(absolute, html))


def creators(item):
    """The names an item is by: each name of the byline, else the one author Django was given."""
    return item["byline_names"] or [name for name in [item["author_name"]] if name]


class FullContentRssFeed(Rss201rev2Feed):
    """RSS 2.0 with the whole article (content:encoded), one dc:creator per name of its
    byline, and a <category> per topic (Django writes those from item_categories)."""

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": CONTENT_NAMESPACE,
            "xmlns:dc": DUBLIN_CORE_NAMESPACE,
        }

    def add_item_elements(self, handler, item):
        # Django writes a single dc:creator (and its own namespace declaration): we write one per name.
        super().add_item_elements(handler, {**item, "author_name": None})
        for name in creators(item):
            handler.addQuickElement("dc:creator", name)
        if item["content_html"]:
            handler.addQuickElement("content:encoded", with_absolute_urls(item["content_html"], item["link"]))


class FullContentAtomFeed(Atom1Feed):
    """Atom with the whole article (<content type="html">), one <author> per name of its
    byline (RFC 4287 allows several), and a <category> per topic: the topic's slug as the
    term within the scheme of the site's topic pages, its name as the label."""

    def add_item_elements(self, handler, item):
        names = item["byline_names"]
        # The item's own categories (topic names, for RSS) give way to the labelled ones below.
        super().add_item_elements(
            handler, {**item, "author_name": None if names else item["author_name"], "categories": ()}
        )
        for name in names:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")
        if item["content_html"]:
            content = with_absolute_urls(item["content_html"], item["link"])
            handler.addQuickElement("content", content, {"type": "html"})
        scheme = urljoin(item["link"], reverse("articles:topics"))
        for topic in item["topics"]:
            attributes = {"term": topic["slug"], "scheme": scheme, "label": topic["name"]}
            handler.addQuickElement("category", "", attributes)


class LatestArticlesFeed(Feed):
    feed_type = FullContentRssFeed
    title = "smpinfo: scalp micropigmentation explained"
    link = reverse_lazy("articles:list")
    description = "New and updated articles about scalp micropigmentation (SMP)."
    # The feed's own author: RFC 4287 wants one for an entry that names none.
    author_name = PUBLISHER

    def items(self):
        return Article.objects.published().for_list(*FEED_FIELDS)[:FEED_SIZE]

    def item_title(self, article):
        return article.title

    def item_description(self, article):
        return article.summary

    def item_author_name(self, article):
        """The byline as one line, for an item that names no one else (no email is ever published)."""
        return ", ".join(author["name"] for author in article.byline) or PUBLISHER

    def item_pubdate(self, article):
        return article.published_at

    def item_updateddate(self, article):
        return article.last_changed_at

    def item_categories(self, article):
        return [topic["name"] for topic in article.topic_outline]

    def item_extra_kwargs(self, article):
        """What both feed types write of an article beyond Django's fields (see
        FullContentRssFeed and FullContentAtomFeed), all of it stored with the article."""
        return {
            "byline_names": [author["name"] for author in article.byline],
            "topics": article.topic_outline,
            "content_html": article.content_html.strip(),
        }


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = FullContentAtomFeed
    subtitle = LatestArticlesFeed.description


class TopicArticlesFeed(LatestArticlesFeed):
    """RSS of a topic's published articles: /topics/<slug>/feed/."""

    def get_object(self, request, slug):
        return get_object_or_404(Topic, slug=slug)

    def title(self, topic):
        return f"smpinfo: {topic.name}"

    def link(self, topic):
        return topic.get_absolute_url()

    def description(self, topic):
        return topic.summary or f"New and updated articles about {topic.name} on smpinfo."

    def items(self, topic):
        return Article.objects.published().filter(topics=topic).for_list(*FEED_FIELDS)[:FEED_SIZE]
