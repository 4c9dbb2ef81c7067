"""Serve anonymous readers their cached pages before sessions, users and URLs."""

import logging

from django.conf import settings
from django.core.cache import cache

from pagecache.decorators import is_shareable, respond
from pagecache.store import page_and_version_keys

logger = logging.getLogger(__name__)


class PageCacheMiddleware:
    """Answer from the page cache with a single cache round trip.

    Sits below CsrfViewMiddleware (which sets the CSRF cookie a filled-in token needs)
    and ConditionalGetMiddleware (which turns a matching ETag into a 304). One get_many
    fetches the page and the current versions of every scope a page can depend on; a
    page whose recorded versions are all current is served.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.PAGE_CACHE_SECONDS or not is_shareable(request):
            return self.get_response(request)
        keys = page_and_version_keys(request)
        try:
            found = cache.get_many(keys)
        except Exception:
            logger.exception("Page cache unavailable; serving %s uncached", request.path)
            return self.get_response(request)
        entry = found.pop(keys[0], None)
        if entry is not None and all(found.get(key) == version for key, version in entry["versions"].items()):
            try:
                return respond(request, entry, "hit")
            except Exception:
                logger.exception("Page cache: could not fill in %s; serving it uncached", request.path)
        request.page_cache_versions = found  # cache_for_readers need not read them again
        return self.get_response(request)
