"""A local-memory cache bounded by the bytes it holds, for pages (a page is 5 to 60 KB, a counter
a few bytes: a limit on entries alone bounds neither).

Django's LocMemCache with one more option, MAX_BYTES: when what it holds passes it, the least
recently used entries go first, one at a time, until it fits again (LocMemCache alone drops a
third of its entries at once when it has MAX_ENTRIES).
"""

from django.core.cache.backends.locmem import LocMemCache

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class Sizes(dict):
    """{key: bytes} of one cache's entries, with their running total."""

    total = 0

    def put(self, key, size):
        self.total += size - self.get(key, 0)
        self[key] = size

    def drop(self, key):
        self.total -= self.pop(key, 0)

    def clear(self):
        super().clear()
        self.total = 0


# Per cache name, shared like LocMemCache's own stores.
_sizes = {}


class BoundedLocMemCache(LocMemCache):
    def __init__(self, name, params):
        super().__init__(name, params)
        self._max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", DEFAULT_MAX_BYTES))
        self._sizes = _sizes.setdefault(name, Sizes())

    @property
    def held_bytes(self):
        return self._sizes.total

    def _set(self, key, value, timeout=None):
        super()._set(key, value, timeout)
        self._sizes.put(key, len(value))
        while self._sizes.total > self._max_bytes and len(self._cache) > 1:
            self._evict_least_recently_used()

    def _cull(self):
        while len(self._cache) >= self._max_entries:
            self._evict_least_recently_used()

    def _evict_least_recently_used(self):
        key, _ = self._cache.popitem()  # the most recently used are kept at the front
        del self._expire_info[key]
        self._sizes.drop(key)

    def _delete(self, key):
        self._sizes.drop(key)
        return super()._delete(key)

    def incr(self, key, delta=1, version=None):
        value = super().incr(key, delta, version)
        with self._lock:
            stored_key = self.make_and_validate_key(key, version=version)
            if stored_key in self._cache:
                self._sizes.put(stored_key, len(self._cache[stored_key]))
        return value

    def clear(self):
        with self._lock:
            self._cache.clear()
            self._expire_info.clear()
            self._sizes.clear()
