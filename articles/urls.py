from django.contrib.sitemaps.views import sitemap
from django.urls import path

from articles import views
from articles.feeds import LatestArticlesAtomFeed, LatestArticlesFeed, TopicArticlesFeed
from articles.sitemaps import SITEMAPS
from pagecache import cache_for_readers

app_name = "articles"

urlpatterns = [
    path("", views.ArticleListView.as_view(), name="list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("search/", views.search, name="search"),
    path("feed/", cache_for_readers(LatestArticlesFeed()), name="feed"),
    path("feed/atom/", cache_for_readers(LatestArticlesAtomFeed()), name="atom_feed"),
    path(
        "sitemap.xml",
        cache_for_readers(sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("authors/<slug:slug>/", views.AuthorDetailView.as_view(), name="author"),
    path("topics/", views.TopicListView.as_view(), name="topics"),
    path("topics/<slug:slug>/", views.TopicDetailView.as_view(), name="topic"),
    path("topics/<slug:slug>/feed/", cache_for_readers(TopicArticlesFeed()), name="topic_feed"),
    # Last: a site page's address is any slug no other page of the site has taken.
    path("<slug:slug>/", views.SitePageView.as_view(), name="site_page"),
]
