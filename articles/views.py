"""Reader-facing pages of articles: home, article, search, robots.txt."""

from itertools import islice

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView

from articles.models import Article, Author, SitePage, Topic, page_query
from articles.search import add_snippets, clean_query, search_articles
from articles.structured_data import article_json_ld, collection_page_json_ld, website_json_ld
from pagecache import cache_for_readers, page_shows

RELATED_ARTICLES = 3
SEARCH_RESULTS_PER_PAGE = 10


class CachedListMixin:
    """A paginated list whose pages the page cache stores only under their own number."""

    def paginate_queryset(self, queryset, page_size):
        paginator, page, objects, is_paginated = super().paginate_queryset(queryset, page_size)
        page_shows(self.request, page=page.number)
        return paginator, page, objects, is_paginated


@method_decorator(cache_for_readers, name="get")
class ArticleListView(CachedListMixin, ListView):
    """The home page: published articles, newest first."""

    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = 10

    def get_queryset(self):
        return Article.objects.published().for_list()

    def get_context_data(self, **kwargs):
        return super().get_context_data(json_ld=website_json_ld(self.request), **kwargs)


@method_decorator(cache_for_readers, name="get")
class ArticleDetailView(DetailView):
    """One article with its side effects; staff may preview drafts and scheduled articles.

    The template shows the comment thread through the comments app's template tag.
    """

    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_object(self, queryset=None):
        """Staff see any article at its address; readers a published one, by the page's query
        compiled once per process (articles.models.PageQuery)."""
        if self.request.user.is_staff:
            return super().get_object(Article.objects.for_page())
        article = page_query.get(self.kwargs["slug"])
        if article is None:
            raise Http404("No published article has this address.")
        return article

    def get_context_data(self, **kwargs):
        article = self.object
        article.show_current_content()
        context = super().get_context_data(**kwargs)
        context["is_preview"] = not article.is_published
        context["related_articles"] = related_articles(article)
        context["json_ld"] = article_json_ld(self.request, article)
        context["preview_image"] = preview_image(self.request, article)
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if context["is_preview"]:
            # A draft must never sit in a browser or proxy cache where a reader could find it.
            add_never_cache_headers(response)
        return response


def preview_image(request, article):
    """The featured image as link previews show it, with its absolute address, or None."""
    preview = article.image_outline.get("preview")
    return {**preview, "absolute_url": request.build_absolute_uri(preview["url"])} if preview else None


@method_decorator(cache_for_readers, name="get")
class AuthorDetailView(CachedListMixin, ListView):
    """An author's profile and the published articles of their byline, newest first."""

    template_name = "articles/author_detail.html"
    context_object_name = "articles"
    paginate_by = 10

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return Article.objects.published().by_author(self.author).for_list()

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, **kwargs)


@method_decorator(cache_for_readers, name="get")
class TopicListView(ListView):
    """Every topic with published articles, by name, with how many it has."""

    template_name = "articles/topic_list.html"
    context_object_name = "topics"

    def get_queryset(self):
        published = Q(articles__in=Article.objects.published())
        return (
            Topic.objects.annotate(article_count=Count("articles", filter=published, distinct=True))
            .filter(article_count__gt=0)
            .only("name", "slug", "summary")
        )


@method_decorator(cache_for_readers, name="get")
class TopicDetailView(CachedListMixin, ListView):
    """A topic's description and its published articles, newest first."""

    template_name = "articles/topic_detail.html"
    context_object_name = "articles"
    paginate_by = 10

    def get_queryset(self):
        self.topic = get_object_or_404(Topic, slug=self.kwargs["slug"])
        return Article.objects.published().filter(topics=self.topic).for_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(topic=self.topic, **kwargs)
        context["json_ld"] = collection_page_json_ld(self.request, self.topic, context["page_obj"])
        return context


@method_decorator(cache_for_readers, name="get")
class SitePageView(DetailView):
    """A page about the site: About, Editorial policy, Privacy."""

    model = SitePage
    template_name = "articles/site_page.html"
    context_object_name = "page"


def related_articles(article):
    """The related articles the page lists: the first few of those ranked and stored with
    the article (articles.related) that readers can see now. A scheduled one is stored
    with its publication time and appears when it comes (the page cache knows that moment
    from the "articles" scope)."""
    now = timezone.now()
    visible = (entry for entry in article.related_outline if parse_datetime(entry["published_at"]) <= now)
    return list(islice(visible, RELATED_ARTICLES))


def render_article(request, article, *, status=200, **extra_context):
    """The page of `article` as ArticleDetailView shows it, with `extra_context` added.

    For other apps that answer on the article's behalf: the comments app shows the
    page again with the reader's form and its errors.
    """
    view = ArticleDetailView(extra_context=extra_context)
    view.setup(request, slug=article.slug)
    view.object = article
    return view.render_to_response(view.get_context_data(object=article), status=status)


@require_safe
def search(request):
    """`/search/?q=…`: ranked results with highlighted snippets, ten to a page."""
    query = clean_query(request.GET.get("q", ""))
    results, used_similar_words = search_articles(query.text)
    page = Paginator(results, SEARCH_RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    articles = add_snippets(list(page.object_list), query.text)
    return render(
        request,
        "articles/search.html",
        {
            "search_query": query.text,
            "query_was_shortened": query.was_shortened,
            "used_similar_words": used_similar_words,
            "page_obj": page,
            "articles": articles,
        },
    )


@require_safe
def robots_txt(request):
    sitemap_url = request.build_absolute_uri(reverse("articles:sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /search/", f"Sitemap: {sitemap_url}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
