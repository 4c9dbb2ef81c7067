"""`cache_for_readers`: store a view's pages for anonymous readers; `page_changes_at`, `page_shows`."""

import hashlib
import time
from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from pagecache import outages
from pagecache.compression import accepted_encodings, compressed_forms, spliced_gzip
from pagecache.holes import cut_holes, fill_holes, hole_values, marker
from pagecache.store import (
    cache_seconds,
    current_versions,
    next_timed_change,
    page_and_version_keys,
    page_cache,
    query_parameters,
)

# Set on the views `cache_for_readers` wraps, so the middleware looks up only their pages.
CACHED_VIEW_MARK = "serves_cached_pages"


def page_changes_at(request, moment):
    """Tell the page cache that the page being built for `request` changes by itself at
    `moment` (a comment thread's close date): it is not kept beyond it.

    Called by whatever renders part of the page: a view, or a template tag.
    """
    if moment is None:
        return
    earlier = getattr(request, "page_cache_changes_at", None)
    request.page_cache_changes_at = moment if earlier is None else min(earlier, moment)


def page_shows(request, **values):
    """Tell the page cache which page of a list the view shows: `page_shows(request, page=3)`.

    Of the query parameters that make another page (PAGE_CACHE_QUERY_PARAMETERS), a page
    is stored only when the request named each as the view shows it (`?page=3`) or not at
    all. `?page=03`, `?page=last`, a page past the end shown as the last one, or a page
    number on a view that has no pages is served as the view gives it, but never stored:
    made-up values cannot fill the cache.
    """
    shown = getattr(request, "page_cache_query", {})
    request.page_cache_query = {**shown, **{name: str(value) for name, value in values.items()}}


def asks_for_what_it_shows(request):
    shown = getattr(request, "page_cache_query", {})
    for name in query_parameters():
        asked = request.GET.getlist(name)
        if asked and asked != [shown.get(name)]:
            return False
    return True


def is_shareable(request):
    """A request whose page is the same for every reader: anonymous, no message waiting,
    none of the PAGE_CACHE_PERSONAL_COOKIES (the site's own reasons for a page of one's own).

    Decided from cookies alone: without a session cookie there is no logged-in user.
    """
    cookies = request.COOKIES
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
        and not any(name in cookies for name in getattr(settings, "PAGE_CACHE_PERSONAL_COOKIES", ()))
    )


def cache_for_readers(view):
    """Store the view's successful pages for anonymous readers; the middleware serves them.

    A page depends on the site scopes (PAGE_CACHE_SCOPES) and on its own path's scope.
    If the cache fails, the page is served uncached and the failure logged.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.PAGE_CACHE_SECONDS or not is_shareable(request) or outages.is_skipped():
            return view(request, *args, **kwargs)
        keys = page_and_version_keys(request)
        try:
            versions = current_versions(request, keys[1:])
            rendering = render_lock(keys[0], versions)
        except Exception:
            outages.cache_failed("Page cache unavailable; serving %s uncached", request.path)
            return view(request, *args, **kwargs)
        if rendering is None:  # another request is rendering this page: wait for it
            entry = wait_for_page(keys[0], versions)
            if entry is not None:
                return respond(request, entry, "hit")
        try:
            return render_and_store(request, view, args, kwargs, keys[0], versions)
        finally:
            if rendering is not None:
                release(rendering)

    setattr(wrapper, CACHED_VIEW_MARK, True)
    return wrapper


def render_and_store(request, view, args, kwargs, key, versions):
    response = view(request, *args, **kwargs)
    if hasattr(response, "render"):
        response.render()
    if response.status_code != 200 or response.streaming or not asks_for_what_it_shows(request):
        return response
    entry = make_entry(response, versions)
    try:
        changes_at = next_timed_change(versions, getattr(request, "page_cache_changes_at", None))
        timeout = cache_seconds(changes_at)
        if timeout:
            # Its end, for the copies kept in processes' memory (pagecache.tracking).
            entry["expires"] = time.time() + timeout
            page_cache().set(key, entry, timeout)
    except Exception:
        outages.cache_failed("Page cache: could not store %s", request.path)
    return respond(request, entry, "miss")


# No stampede: when a page is missing (after a deploy, every page is), the first request
# renders it and the others asking for it meanwhile wait for that page for as long as its
# renderer holds the lock: a render slowed by a busy machine is still the only one (with a
# bound of 2 s, a burst that took longer had waiters render the same page again).
RENDER_LOCK_SECONDS = 10  # a renderer that died frees its lock after this
RENDER_POLL_SECONDS = 0.01


def render_lock_key(key, versions):
    return f"{key}:rendering:{hashlib.sha256('|'.join(versions.values()).encode()).hexdigest()[:16]}"


def render_lock(key, versions):
    """The lock to render the page at `key` for these versions, or None when another request
    holds it."""
    lock = render_lock_key(key, versions)
    return lock if page_cache().add(lock, 1, RENDER_LOCK_SECONDS) else None


def release(lock):
    try:
        page_cache().delete(lock)
    except Exception:
        outages.cache_failed("Page cache: could not release %s", lock)


def wait_for_page(key, versions):
    """The page another request is rendering, once it is stored for these versions; None when
    the renderer stored nothing (an error page, a page not stored) or its lock expired."""
    lock = render_lock_key(key, versions)
    deadline = time.monotonic() + RENDER_LOCK_SECONDS
    try:
        while time.monotonic() < deadline:
            time.sleep(RENDER_POLL_SECONDS)
            found = page_cache().get_many([key, lock])
            entry = found.get(key)
            if entry is not None and entry["versions"] == versions:
                return entry
            if lock not in found:
                return None
    except Exception:
        outages.cache_failed("Page cache: could not wait for %s", key)
    return None


def make_entry(response, versions):
    """What the cache keeps of a page: its text with holes cut out, compressed once
    (pagecache.compression), and what it was built from."""
    content, holes = cut_holes(response.content.decode(response.charset))
    etag_source = content + "|".join(versions.values())
    if holes:
        # A 304 makes the browser reuse its copy and the values of its holes, which may
        # expire (a form token does, after two hours): such pages' ETag changes every hour.
        etag_source += timezone.now().strftime("%Y%m%d%H")
    return {
        "content": content,
        "content_type": response["Content-Type"],
        "etag": '"' + hashlib.sha256(etag_source.encode()).hexdigest()[:32] + '"',
        "holes": holes,
        "versions": versions,
        "charset": response.charset,
        **compressed_forms(content, [marker(number) for number in range(len(holes))], response.charset),
    }


def respond(request, entry, outcome):
    """The page of `entry` for this request: its holes filled, in the best content coding the
    browser accepts of those stored (Brotli or gzip), else as it is."""
    values = hole_values(request, entry["holes"])
    text = fill_holes(request, entry["content"], entry["holes"], values)
    encodings = accepted_encodings(request)
    charset = entry.get("charset", "utf-8")
    if "br" in encodings and "br" in entry:
        coding, body = "br", entry["br"]
    elif "gzip" in encodings and "gzip" in entry:
        coding, body = "gzip", entry["gzip"]
    elif "gzip" in encodings and "gzip_parts" in entry:
        values = [value.encode(charset) for value in values]
        coding, body = "gzip", spliced_gzip(entry["gzip_parts"], values, text.encode(charset))
    else:
        coding, body = None, text.encode(charset)
    response = HttpResponse(body, content_type=entry["content_type"])
    patch_vary_headers(response, ["Accept-Encoding"])
    # One tag per representation: a browser's copy in one coding is never taken for another.
    response["ETag"] = entry["etag"] if coding is None else f'{entry["etag"][:-1]}-{coding}"'
    if coding:
        response["Content-Encoding"] = coding
    # Browsers revalidate (a cheap 304); shared caches must not keep pages with tokens.
    response["Cache-Control"] = "private, no-cache"
    response["X-Page-Cache"] = outcome
    return response
