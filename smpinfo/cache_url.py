"""Which cache the site uses: the one answer for settings.py and gunicorn.conf.py.

settings.py picks the cache backend from it; gunicorn.conf.py picks worker processes
or threads, since only a shared cache lets several processes share the comment rate
limits and cached pages. It imports nothing from Django: gunicorn reads it before the
site is loaded.
"""

import os

SHARED_CACHE_SCHEMES = ("redis://", "rediss://", "unix://")


def cache_url():
    """CACHE_URL, else REDIS_URL, stripped; "" when neither is set (or both are blank)."""
    return os.environ.get("CACHE_URL", "").strip() or os.environ.get("REDIS_URL", "").strip()


def is_shared_cache(url):
    """Whether `url` names a Redis that every app process shares, not one process's memory."""
    return url.startswith(SHARED_CACHE_SCHEMES)
