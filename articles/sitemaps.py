"""The sitemap: the home page, every published article with its last change, the topics and
the authors' profiles that list published articles, and the site pages."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Greatest
from django.urls import reverse

from articles.models import Article, ArticleAuthor, Author, SitePage, Topic


class HomeSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return ["articles:list"]

    def location(self, item):
        return reverse(item)

    def lastmod(self, item):
        latest = Article.objects.published().aggregate(
            published=Max("published_at"), updated=Max("updated_at")
        )
        return max(filter(None, latest.values()), default=None)


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6
    limit = 5000

    def items(self):
        return (
            Article.objects.published()
            .only("slug", "published_at", "updated_at")
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, article):
        return article.last_changed_at


class AuthorSitemap(Sitemap):
    """Profiles of the authors with at least one published article."""

    changefreq = "monthly"
    priority = 0.4

    def items(self):
        published = ArticleAuthor.objects.filter(
            author=OuterRef("pk"), article__in=Article.objects.published()
        )
        return Author.objects.filter(Exists(published)).only("slug").order_by("name", "pk")


class TopicSitemap(Sitemap):
    """Pages of the topics with at least one published article, changed when one of them did."""

    changefreq = "weekly"
    priority = 0.5

    def items(self):
        published = Q(articles__in=Article.objects.published())
        return (
            Topic.objects.annotate(
                last_published=Max("articles__published_at", filter=published),
                last_updated=Max("articles__updated_at", filter=published),
            )
            .filter(last_published__isnull=False)
            .annotate(last_changed=Greatest("last_published", "last_updated"))
            .only("slug")
            .order_by("name", "pk")
        )

    def lastmod(self, topic):
        return topic.last_changed


class SitePageSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.3

    def items(self):
        return SitePage.objects.only("slug", "updated_at").order_by("slug")

    def lastmod(self, page):
        return page.updated_at


SITEMAPS = {
    "home": HomeSitemap,
    "articles": ArticleSitemap,
    "topics": TopicSitemap,
    "authors": AuthorSitemap,
    "pages": SitePageSitemap,
}
