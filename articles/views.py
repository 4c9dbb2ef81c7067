"""Reader-facing pages of articles."""

from django.utils.cache import add_never_cache_headers
from django.views.generic import DetailView, ListView

from articles.models import Article
from comments.thread import comment_section


class ArticleListView(ListView):
    """The home page: published articles, newest first."""

    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = 10

    def get_queryset(self):
        return Article.objects.published().only("title", "slug", "summary", "published_at", "updated_at")


class ArticleDetailView(DetailView):
    """One article with its side effects; staff may preview drafts and scheduled articles."""

    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        articles = Article.objects.all() if self.request.user.is_staff else Article.objects.published()
        return articles.prefetch_related("side_effects")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        article = self.object
        context["side_effects"] = list(article.side_effects.all())
        context["is_preview"] = not article.is_published
        context.update(comment_section(self.request, article, form=kwargs.get("comment_form")))
        return context

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if context["is_preview"]:
            # A draft must never sit in a browser or proxy cache where a reader could find it.
            add_never_cache_headers(response)
        return response
