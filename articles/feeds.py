"""RSS and Atom feeds of published articles."""

from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed

from articles.models import Article

FEED_SIZE = 20


class LatestArticlesFeed(Feed):
    title = "smpinfo: scalp micropigmentation explained"
    link = reverse_lazy("articles:list")
    description = "New and updated articles about scalp micropigmentation (SMP)."

    def items(self):
        return Article.objects.published().for_list()[:FEED_SIZE]

    def item_title(self, article):
        return article.title

    def item_description(self, article):
        return article.summary

    def item_pubdate(self, article):
        return article.published_at

    def item_updateddate(self, article):
        return article.updated_at


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed
    subtitle = LatestArticlesFeed.description
