"""Counting the SQL queries a page costs, for query-budget tests."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_uncached_queries(client, url):
    """SQL queries of one uncached page view (the page cache is emptied first)."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)
