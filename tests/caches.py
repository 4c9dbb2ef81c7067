"""The site's caches in tests: emptying them between steps, and CACHES for a Redis of a test's own."""

from django.core.cache import caches

from pagecache import outages, tracking


def empty_caches():
    """Empty every configured cache and forget what the page cache knew of their health."""
    for cache in caches.all(initialized_only=False):
        cache.clear()
    outages.reset()
    tracking.forget_mirrors()


def redis_caches(url, timeout=1.0):
    """CACHES as settings.py makes them for a Redis at `url`."""

    def redis_cache(**pool_options):
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "smpinfo",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": timeout,
                "SOCKET_TIMEOUT": timeout,
                "CONNECTION_POOL_KWARGS": pool_options,
            },
        }

    return {"default": redis_cache(), "pages": redis_cache(redis_connect_func=outages.redis_connect_func)}
