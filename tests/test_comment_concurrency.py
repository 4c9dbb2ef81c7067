"""Comments posted at the same moment from many connections are each stored exactly once."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client

from comments.models import Comment
from tests.factories import ArticleFactory, comment_form_data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL); CI runs it")
def test_fifty_parallel_comments_are_all_stored_exactly_once(settings):
    settings.COMMENTS_RATE_LIMIT = "0"
    article = ArticleFactory(comments_open=True)

    def post(number):
        try:
            client = Client()
            data = comment_form_data(
                article, author_email=f"reader{number}@example.org", body=f"Parallel comment {number}"
            )
            return client.post(f"/articles/{article.slug}/comments/", data).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(post, range(50)))

    assert statuses == [303] * 50
    bodies = sorted(Comment.objects.values_list("body", flat=True))
    assert bodies == sorted(f"Parallel comment {n}" for n in range(50))
