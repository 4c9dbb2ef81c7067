"""The sitemap: the home page and every published article, with its last change."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles.models import Article


class HomeSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return ["articles:list"]

    def location(self, item):
        return reverse(item)

    def lastmod(self, item):
        latest = Article.objects.published().order_by("-updated_at").values_list("updated_at", flat=True)
        return latest.first()


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6
    limit = 5000

    def items(self):
        return Article.objects.published().only("slug", "updated_at").order_by("-published_at", "-pk")

    def lastmod(self, article):
        return article.updated_at


SITEMAPS = {"home": HomeSitemap, "articles": ArticleSitemap}
