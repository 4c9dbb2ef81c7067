"""The readers' page cache, and the one place that knows which pages a change affects.

Anonymous readers get the home page, article pages, feeds and the sitemap from
Django's cache (local memory, or Redis shared by every app server). Pages are
never stale after a change a reader would see, because every cached page records
the versions of what it shows, and is served only while they are current:

- the `articles` scope: any article or side-effect change (publish, edit, thread
  opened or closed). Every page depends on it: lists, feeds, and each article
  page's "related articles".
- the thread scope of an article page (named after the page's path): its comments
  (posted, approved, rejected, marked as spam, deleted, anonymized).

A change bumps its scope's version (`article_pages_changed`, `comment_thread_changed`)
once its transaction commits, which retires every cached page built on the old
one, all pages of a paginated list at once. Changes that come with time, not a
write (a scheduled article's publication, a thread's close date), bound how long a
page may be cached.

Cached pages are also kept per release (`release()`: a digest of the code,
templates and static files), so a deploy never serves a page the previous
release built.

Pages are stored by the `cache_for_readers` view decorator and served by
`ReadersPageCacheMiddleware`, early in the middleware stack and with a single
cache round trip (the page and the versions it needs, in one get_many). Each
cached page keeps two holes filled per request: the CSRF token and the comment
form's signed token, which are personal or time-bound.
"""

import hashlib
import logging
import re
import uuid
from datetime import timedelta
from functools import lru_cache, wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone

logger = logging.getLogger(__name__)

ARTICLES_SCOPE = "articles"
KEY_PREFIX = "readers-page"
CSRF_HOLE = "\x00csrf-token\x00"
FORM_TOKEN_HOLE = "\x00form-token\x00"
CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
FORM_TOKEN_INPUT = re.compile(r'(name="form_token" value=")[^"]*(")')


def thread_scope(slug):
    """The scope of an article's comments."""
    return thread_scope_of_path(reverse("articles:detail", kwargs={"slug": slug}))


def thread_scope_of_path(path):
    """Named after the article page's path, so that the middleware names it from the request alone."""
    return f"thread:{path}"


def version_key(scope):
    return f"{KEY_PREFIX}:version:{scope}"


def page_key(request):
    """The key of the page a request asks for.

    The address the reader used is part of it (pages carry absolute URLs: canonical
    link, Open Graph, structured data). Of the query string only the parameter the
    pages use is, so made-up query strings cannot fill the cache.
    """
    address = f"{request.scheme}://{request.get_host()}{request.path}|{request.GET.get('page', '')}"
    return f"{KEY_PREFIX}:page:{release()}:{hashlib.sha256(address.encode()).hexdigest()}"


# What makes a page besides the data: the project's code, its templates and the
# static files' hashed names. Pages are cached per release, so after a deploy no app
# server serves a page built by the previous release, and during a rolling deploy
# servers of each release keep their own pages.
RELEASE_FILES = ["articles/**/*.py", "comments/**/*.py", "smpinfo/**/*.py", "templates/**/*.*"]


@lru_cache(maxsize=1)
def release():
    digest = hashlib.sha256()
    files = {path for pattern in RELEASE_FILES for path in settings.BASE_DIR.glob(pattern)}
    files.add(Path(settings.STATIC_ROOT) / "staticfiles.json")
    for path in sorted(files):
        if path.is_file() and "migrations" not in path.parts:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


# Invalidation --------------------------------------------------------------------


def bump(*scopes):
    """Give each scope a new version once the current transaction commits.

    Not before: a reader between the bump and the commit would cache the old
    content under the new version. A cache failure is logged, never raised.
    """

    def new_versions():
        try:
            cache.set_many({version_key(scope): uuid.uuid4().hex for scope in scopes}, None)
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


# Storing ---------------------------------------------------------------------------


def is_shareable(request):
    """A request whose page is the same for every reader: anonymous, no message waiting.

    Decided from cookies alone: without a session cookie there is no logged-in user.
    """
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def current_versions(request, scopes):
    """{version key: version} for the scopes, creating the versions not set yet.

    Versions the middleware already read for this request (a miss) are not read again.
    """
    keys = [version_key(scope) for scope in scopes]
    known = getattr(request, "page_cache_versions", {})
    found = {key: known[key] for key in keys if key in known}
    if len(found) < len(keys):
        found.update(cache.get_many([key for key in keys if key not in found]))
    missing = {key: uuid.uuid4().hex for key in keys if key not in found}
    if missing:
        cache.set_many(missing, None)
        found.update(missing)
    return {key: found[key] for key in keys}


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


def cache_seconds(changes_at):
    timeout = settings.PAGE_CACHE_SECONDS
    if changes_at is not None:
        timeout = min(timeout, (changes_at - timezone.now()) / timedelta(seconds=1))
    return max(int(timeout), 0)


def cache_for_readers(scopes_for):
    """Store a view's page in the cache for anonymous readers (the middleware serves it).

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
                versions = current_versions(request, [ARTICLES_SCOPE, *scopes_for(**kwargs)])
            except Exception:
                logger.exception("Page cache unavailable; serving %s uncached", request.path)
                return view(request, *args, **kwargs)
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            if response.status_code != 200 or response.streaming:
                return response
            entry = make_entry(response, versions)
            try:
                articles_version = versions[version_key(ARTICLES_SCOPE)]
                changes_at = next_timed_change(articles_version, getattr(response, "page_changes_at", None))
                timeout = cache_seconds(changes_at)
                if timeout:
                    cache.set(page_key(request), entry, timeout)
            except Exception:
                logger.exception("Page cache: could not store %s", request.path)
            return respond(request, entry, "miss")

        return wrapper

    return decorator


def next_timed_change(articles_version, extra=None):
    """The next moment a page may change without a write: a scheduled publication or `extra`."""
    moments = [moment for moment in (next_publication(articles_version), extra) if moment is not None]
    return min(moments) if moments else None


def make_entry(response, versions):
    content = response.content.decode(response.charset)
    content = CSRF_INPUT.sub(lambda m: m.group(1) + CSRF_HOLE + m.group(2), content)
    content = FORM_TOKEN_INPUT.sub(lambda m: m.group(1) + FORM_TOKEN_HOLE + m.group(2), content)
    article = getattr(response, "comment_form_article", None)
    etag_source = content + "|".join(versions.values())
    if article is not None:
        # A 304 makes the browser reuse its copy and its form token, which expires
        # after two hours: let such pages' ETag change every hour.
        etag_source += timezone.now().strftime("%Y%m%d%H")
    return {
        "content": content,
        "content_type": response["Content-Type"],
        "etag": '"' + hashlib.sha256(etag_source.encode()).hexdigest()[:32] + '"',
        "article_pk": article.pk if article is not None else None,
        "versions": versions,
    }


# Serving ---------------------------------------------------------------------------


class ReadersPageCacheMiddleware:
    """Answer anonymous readers from the page cache before sessions, users and URLs.

    Sits below CsrfViewMiddleware (which sets the CSRF cookie the filled-in token
    needs) and ConditionalGetMiddleware (which turns a matching ETag into a 304).
    One get_many fetches the page and the current versions of the two scopes a page
    can depend on; a page whose recorded versions are all current is served.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.PAGE_CACHE_SECONDS or not is_shareable(request):
            return self.get_response(request)
        keys = hit_keys(request)
        try:
            found = cache.get_many(keys)
        except Exception:
            logger.exception("Page cache unavailable; serving %s uncached", request.path)
            return self.get_response(request)
        entry = found.pop(keys[0], None)
        if entry is not None and all(found.get(k) == v for k, v in entry["versions"].items()):
            return respond(request, entry, "hit")
        request.page_cache_versions = found  # the view's cache_for_readers need not read them again
        return self.get_response(request)


def hit_keys(request):
    """The page's key and the version keys of the two scopes a page can depend on."""
    return [page_key(request), version_key(ARTICLES_SCOPE), version_key(thread_scope_of_path(request.path))]


def respond(request, entry, outcome):
    from comments.forms import make_form_token

    content = entry["content"]
    if CSRF_HOLE in content:
        content = content.replace(CSRF_HOLE, get_token(request))
    if FORM_TOKEN_HOLE in content:
        content = content.replace(FORM_TOKEN_HOLE, make_form_token(entry["article_pk"]))
    response = HttpResponse(content, content_type=entry["content_type"])
    response["ETag"] = entry["etag"]
    # Browsers revalidate (a cheap 304); shared caches must not keep pages with tokens.
    response["Cache-Control"] = "private, no-cache"
    response["X-Page-Cache"] = outcome
    return response
