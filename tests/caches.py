"""Emptying the site's caches between steps of a test: the counters and the readers' pages."""

from django.core.cache import caches

from pagecache import outages


def empty_caches():
    """Empty every configured cache and forget what the page cache knew of their health."""
    for cache in caches.all(initialized_only=False):
        cache.clear()
    outages.reset()
