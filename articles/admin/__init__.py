"""Admin for editors and reviewers: articles (article.py), authors, reviews and site pages
(editorial.py), redirects and the 404 report (navigation.py). An app above this one may
register a subclass of ArticleAdmin in its place."""

from articles.admin import editorial, navigation
from articles.admin.article import ArticleAdmin
from articles.admin.changelists import LenientChangeList, LenientChangeListMixin, as_id

__all__ = ["ArticleAdmin", "LenientChangeList", "LenientChangeListMixin", "as_id", "editorial", "navigation"]
