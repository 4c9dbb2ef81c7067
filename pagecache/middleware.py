"""Serve anonymous readers their cached pages before sessions, users and URLs."""

import logging
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import Resolver404, resolve

from pagecache import outages
from pagecache.decorators import CACHED_VIEW_MARK, is_shareable, respond
from pagecache.store import page_and_version_keys, page_and_versions, set_new_versions

logger = logging.getLogger(__name__)


class PageCacheMiddleware:
    """Answer from the page cache with a single cache round trip.

    Sits below CsrfViewMiddleware (which sets the CSRF cookie a filled-in token needs)
    and ConditionalGetMiddleware (which turns a matching ETag into a 304). Only the
    addresses of views that `cache_for_readers` wraps are looked up: a health check or
    a search never waits on the cache. One get_many fetches the page and the current
    versions of every scope a page can depend on (or, with PAGE_CACHE_VERSIONS_FILE, the
    page from the cache and the versions from the shared file); a page whose recorded
    versions are all current is served, once the invalidations the cache may have missed
    are applied.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            not settings.PAGE_CACHE_SECONDS
            or not is_shareable(request)
            or outages.is_skipped()
            or not serves_cached_pages(request.path_info, getattr(request, "urlconf", None))
        ):
            return self.get_response(request)
        keys = page_and_version_keys(request)
        try:
            settled = outages.settled_doubts()
            found = page_and_versions(keys)
            if not outages.is_trusted(settled):
                outages.apply_missed(set_new_versions)
                found = {}  # it may have been read before the missed versions were given
        except Exception:
            outages.cache_failed("Page cache unavailable; serving %s uncached", request.path)
            return self.get_response(request)
        entry = found.pop(keys[0], None)
        if entry is not None and all(found.get(key) == version for key, version in entry["versions"].items()):
            try:
                return respond(request, entry, "hit")
            except Exception:
                logger.exception("Page cache: could not fill in %s; serving it uncached", request.path)
        request.page_cache_versions = found  # cache_for_readers need not read them again
        return self.get_response(request)


@lru_cache(maxsize=1024)
def serves_cached_pages(path_info, urlconf=None):
    """Whether the view at `path_info` is one that `cache_for_readers` wraps (for a
    class-based view, its `get`)."""
    try:
        match = resolve(path_info, urlconf or settings.ROOT_URLCONF)
    except Resolver404:
        return False
    view = getattr(getattr(match.func, "view_class", None), "get", match.func)
    return getattr(view, CACHED_VIEW_MARK, False) or getattr(match.func, CACHED_VIEW_MARK, False)


@receiver(setting_changed)
def forget_views(setting, **kwargs):
    if setting == "ROOT_URLCONF":
        serves_cached_pages.cache_clear()
