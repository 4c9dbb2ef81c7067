"""RSS and Atom feeds of published articles, with their bylines."""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed

from articles.models import Article, Topic

FEED_SIZE = 20
PUBLISHER = "smpinfo"


class BylineAtomFeed(Atom1Feed):
    """Atom with one <author> per name of the byline (RFC 4287 allows several)."""

    def add_item_elements(self, handler, item):
        names = item.pop("byline_names", None) or []
        if names and item.get("author_name"):
            item["author_name"] = None
        super().add_item_elements(handler, item)
        for name in names:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.endElement("author")


class LatestArticlesFeed(Feed):
    title = "smpinfo: scalp micropigmentation explained"
    link = reverse_lazy("articles:list")
    description = "New and updated articles about scalp micropigmentation (SMP)."
    # The feed's own author: RFC 4287 wants one for an entry that names none.
    author_name = PUBLISHER

    def items(self):
        return Article.objects.published().for_list()[:FEED_SIZE]

    def item_title(self, article):
        return article.title

    def item_description(self, article):
        return article.summary

    def item_author_name(self, article):
        """The byline as one line: RSS gets it as dc:creator (no email is ever published)."""
        return ", ".join(author["name"] for author in article.byline) or PUBLISHER

    def item_pubdate(self, article):
        return article.published_at

    def item_updateddate(self, article):
        return article.last_changed_at


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = BylineAtomFeed
    subtitle = LatestArticlesFeed.description

    def item_extra_kwargs(self, article):
        return {"byline_names": [author["name"] for author in article.byline]}


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
        return Article.objects.published().filter(topics=topic).for_list()[:FEED_SIZE]
