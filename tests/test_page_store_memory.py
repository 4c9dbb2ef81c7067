"""The local-memory page store is bounded by the bytes it holds: the least recently used pages go
first, one at a time, and counters in another cache are never touched."""

from django.core.cache import caches

from pagecache.backends import BoundedLocMemCache


def store(max_bytes, name="bounded-test"):
    cache = BoundedLocMemCache(name, {"OPTIONS": {"MAX_BYTES": max_bytes, "MAX_ENTRIES": 10_000}})
    cache.clear()
    return cache


def test_the_store_never_holds_more_bytes_than_its_limit():
    pages = store(100_000)

    for number in range(50):
        pages.set(f"page-{number}", "x" * 10_000)

    assert pages.held_bytes <= 100_000
    assert 8 <= sum(pages.has_key(f"page-{number}") for number in range(50)) <= 10


def test_the_least_recently_used_page_goes_first():
    pages = store(35_000)
    for name in ("a", "b", "c"):
        pages.set(name, "x" * 10_000)
    pages.get("a")  # read: now the most recently used

    pages.set("d", "x" * 10_000)

    assert [pages.has_key(name) for name in "abcd"] == [True, False, True, True]


def test_deleting_replacing_and_clearing_keep_the_count_of_bytes_right():
    pages = store(1_000_000)
    pages.set("a", "x" * 10_000)
    pages.set("a", "x" * 20_000)
    pages.set("b", "x" * 5_000)
    pages.delete("b")
    assert 20_000 < pages.held_bytes < 21_000

    pages.clear()

    assert pages.held_bytes == 0


def test_an_expired_page_read_again_gives_its_bytes_back():
    pages = store(1_000_000)
    pages.set("old", "x" * 10_000, timeout=-1)

    assert pages.get("old") is None
    assert pages.held_bytes == 0


def test_the_sites_pages_never_evict_its_counters():
    counters, pages = caches["default"], caches["pages"]
    counters.set("comments:rate:203.0.113.9", 3, 600)

    for number in range(2_000):
        pages.set(f"flood-{number}", "x" * 50_000)

    assert counters.get("comments:rate:203.0.113.9") == 3
    assert pages.held_bytes <= 64 * 1024 * 1024
