"""Counting the SQL queries a page costs, for query-budget tests."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.caches import empty_caches


def count_uncached_queries(client, url):
    """SQL queries of one uncached page view (the page cache is emptied first)."""
    empty_caches()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)
