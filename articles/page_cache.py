"""The readers' page cache, and the one place that knows which pages a change affects.

Anonymous readers get the home page, article pages, feeds and the sitemap from
Django's cache (local memory, or Redis shared by every app server). Pages are
never stale after a change a reader would see, because every cached page's key
includes the current version of what it shows:

- the `articles` scope: any article or side-effect change (publish, edit, thread
  opened or closed). Every page depends on it: lists, feeds, and each article
  page's "related articles".
- the `thread:<slug>` scope: the article's comments (posted, approved, rejected,
  marked as spam, deleted). Only that article's pages depend on it.

A change bumps its scope's version (`article_pages_changed`, `comment_thread_changed`),
which orphans every cached page built on the old one, all pages of a paginated list
at once. Changes that come with time, not a write (a scheduled article's publication,
a thread's close date), bound how long a page may be cached.

Each cached page keeps two holes filled per request: the CSRF token and the comment
form's signed token, which are personal or time-bound.
"""

import hashlib
import logging
import re
import uuid
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

logger = logging.getLogger(__name__)

ARTICLES_SCOPE = "articles"
KEY_PREFIX = "readers-page"
CSRF_HOLE = "\x00csrf-token\x00"
FORM_TOKEN_HOLE = "\x00form-token\x00"
CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
FORM_TOKEN_INPUT = re.compile(r'(name="form_token" value=")[^"]*(")')


def thread_scope(slug):
    return f"thread:{slug}"


# Invalidation --------------------------------------------------------------------


def bump(*scopes):
    """Give each scope a new version once the current transaction commits.

    Not before: a reader between the bump and the commit would cache the old
    content under the new version. A cache failure is logged, never raised.
    """

    def new_versions():
        try:
            cache.set_many({f"{KEY_PREFIX}:version:{scope}": uuid.uuid4().hex for scope in scopes}, None)
        except Exception:
            logger.exception("Page cache: could not invalidate %s", ", ".join(scopes))

    transaction.on_commit(new_versions)


def article_pages_changed():
    """An article, a side effect or a thread's open state changed: every page may show it."""
    bump(ARTICLES_SCOPE)


def article_saved_or_deleted(sender, instance, **kwargs):
    """Signal receiver for Article (and its proxies) and SideEffect."""
    article_pages_changed()


def comment_thread_changed(*slugs):
    """The public comments of these articles changed."""
    if slugs:
        bump(*(thread_scope(slug) for slug in set(slugs)))


# Serving -----------------------------------------------------------------------------


def is_shareable(request):
    """A request whose page is the same for every reader: anonymous, no message waiting."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and not request.user.is_authenticated
    )


def versions(scopes):
    keys = [f"{KEY_PREFIX}:version:{scope}" for scope in scopes]
    found = cache.get_many(keys)
    missing = {key: uuid.uuid4().hex for key in keys if key not in found}
    if missing:
        cache.set_many(missing, None)
        found.update(missing)
    return [found[key] for key in keys]


def next_publication(articles_version):
    """When the next scheduled article goes live, or None.

    It only changes when articles do, so it is cached under the articles version.
    """
    from articles.models import Article

    key = f"{KEY_PREFIX}:next-publication:{articles_version}"
    cached = cache.get(key)
    if cached is not None and (cached == "none" or cached > timezone.now()):
        return None if cached == "none" else cached
    upcoming = (
        Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    cache.set(key, upcoming or "none", settings.PAGE_CACHE_SECONDS)
    return upcoming


def next_timed_change(articles_version, extra=None):
    """The next moment a page may change without a write: a scheduled publication or `extra`."""
    moments = [moment for moment in (next_publication(articles_version), extra) if moment is not None]
    return min(moments) if moments else None


def cache_seconds(changes_at):
    timeout = settings.PAGE_CACHE_SECONDS
    if changes_at is not None:
        timeout = min(timeout, (changes_at - timezone.now()) / timedelta(seconds=1))
    return max(int(timeout), 0)


def cache_for_readers(scopes_for):
    """Serve a view's page from the cache to anonymous readers.

    `scopes_for(**view_kwargs)` names the scopes the page depends on besides
    `articles`. The view's response may carry `page_changes_at` (a datetime) and
    `comment_form_article` (the article whose comment form the page holds).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not settings.PAGE_CACHE_SECONDS or not is_shareable(request):
                return view(request, *args, **kwargs)
            try:
                scope_versions = versions([ARTICLES_SCOPE, *scopes_for(**kwargs)])
                key = page_key(request, scope_versions)
                entry = cache.get(key)
            except Exception:
                logger.exception("Page cache unavailable; serving %s uncached", request.path)
                return view(request, *args, **kwargs)
            if entry is not None:
                return respond(request, entry, "hit")
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            if response.status_code != 200 or response.streaming:
                return response
            entry = make_entry(response, scope_versions)
            try:
                changes_at = next_timed_change(scope_versions[0], getattr(response, "page_changes_at", None))
                timeout = cache_seconds(changes_at)
                if timeout:
                    cache.set(key, entry, timeout)
            except Exception:
                logger.exception("Page cache: could not store %s", request.path)
            return respond(request, entry, "miss")

        return wrapper

    return decorator


def page_key(request, scope_versions):
    # Only the query parameters the pages use are part of the key, so made-up
    # query strings cannot fill the cache.
    parts = [request.path, request.GET.get("page", "")]
    digest = hashlib.sha256("|".join(parts + scope_versions).encode()).hexdigest()
    return f"{KEY_PREFIX}:page:{digest}"


def make_entry(response, scope_versions):
    content = response.content.decode(response.charset)
    content = CSRF_INPUT.sub(lambda m: m.group(1) + CSRF_HOLE + m.group(2), content)
    content = FORM_TOKEN_INPUT.sub(lambda m: m.group(1) + FORM_TOKEN_HOLE + m.group(2), content)
    article = getattr(response, "comment_form_article", None)
    etag_source = content + "|".join(scope_versions)
    if article is not None:
        # A 304 makes the browser reuse its copy and its form token, which expires
        # after two hours: let such pages' ETag change every hour.
        etag_source += timezone.now().strftime("%Y%m%d%H")
    return {
        "content": content,
        "content_type": response["Content-Type"],
        "etag": '"' + hashlib.sha256(etag_source.encode()).hexdigest()[:32] + '"',
        "article_pk": article.pk if article is not None else None,
    }


def respond(request, entry, outcome):
    from comments.forms import make_form_token

    content = entry["content"]
    if CSRF_HOLE in content:
        content = content.replace(CSRF_HOLE, get_token(request))
    if FORM_TOKEN_HOLE in content:
        content = content.replace(FORM_TOKEN_HOLE, make_form_token_for(entry["article_pk"], make_form_token))
    response = HttpResponse(content, content_type=entry["content_type"])
    response["ETag"] = entry["etag"]
    # Browsers revalidate (a cheap 304); shared caches must not keep pages with tokens.
    response["Cache-Control"] = "private, no-cache"
    response["X-Page-Cache"] = outcome
    return response


def make_form_token_for(article_pk, make_form_token):
    class ArticleRef:
        pk = article_pk

    return make_form_token(ArticleRef)
