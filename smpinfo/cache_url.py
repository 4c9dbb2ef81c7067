"""Which cache the site uses: the one answer for settings.py and gunicorn.conf.py.

settings.py picks the cache backend from it; gunicorn.conf.py picks worker processes
or threads, since only a shared cache lets several processes share the comment rate
limits and cached pages. It imports nothing from Django when it is loaded: gunicorn reads
it before the site is.
"""

import os

SHARED_CACHE_SCHEMES = ("redis://", "rediss://", "unix://")


def cache_url():
    """CACHE_URL, else REDIS_URL, stripped; "" when neither is set (or both are blank)."""
    return os.environ.get("CACHE_URL", "").strip() or os.environ.get("REDIS_URL", "").strip()


def is_shared_cache(url):
    """Whether `url` names a Redis that every app process shares, not one process's memory."""
    return url.startswith(SHARED_CACHE_SCHEMES)


def page_cache_connected(connection):
    """`redis_connect_func` of the page cache's Redis connections (pagecache.outages):
    imported by name here, since settings.py cannot import the app before Django is set up."""
    from pagecache.outages import redis_connect_func

    redis_connect_func(connection)
