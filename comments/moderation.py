"""The comment policy: the one place that decides whether a thread is open.

Views, templates and the admin ask `thread_is_open(article)`; none re-derives it.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone


def thread_closes_at(article):
    """The moment the article's thread closes by date, or None when no date closes it.

    The earlier of the article's own `comments_close_at` and, when
    COMMENTS_CLOSE_AFTER_DAYS is set, that many days after publication.
    """
    moments = []
    if article.comments_close_at is not None:
        moments.append(article.comments_close_at)
    days = settings.COMMENTS_CLOSE_AFTER_DAYS
    if days is not None and article.published_at is not None:
        moments.append(article.published_at + timedelta(days=days))
    return min(moments) if moments else None


def thread_is_open(article, now=None):
    """True when readers may comment on `article` now."""
    if not article.comments_open:
        return False
    closes_at = thread_closes_at(article)
    return closes_at is None or (now or timezone.now()) < closes_at
