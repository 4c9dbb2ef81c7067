"""Approved comments on the article page: order, count, pages, permalinks, query budget."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comments.models import Comment
from tests.caches import empty_caches
from tests.factories import ArticleFactory, CommentFactory
from tests.queries import count_uncached_queries as count_queries

pytestmark = pytest.mark.django_db


def make_comments(article, count, status=Comment.Status.APPROVED):
    start = timezone.now() - timedelta(days=1)
    return Comment.objects.bulk_create(
        Comment(
            article=article,
            author_name=f"Reader {n}",
            author_email=f"reader{n}@example.org",
            body=f"Comment body {n}",
            status=status,
            created_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    )


def comment_ids(html):
    return [int(pk) for pk in re.findall(r'<article class="comment" id="comment-(\d+)">', html)]


def test_only_approved_comments_are_shown_oldest_first(client, article):
    older = CommentFactory(article=article, body="Older one", created_at=timezone.now() - timedelta(hours=2))
    newer = CommentFactory(article=article, body="Newer one", created_at=timezone.now() - timedelta(hours=1))
    for status in (Comment.Status.PENDING, Comment.Status.REJECTED, Comment.Status.SPAM):
        CommentFactory(article=article, body=f"Hidden {status}", status=status)

    html = client.get(article.get_absolute_url()).content.decode()

    assert comment_ids(html) == [older.pk, newer.pk]
    assert "Hidden" not in html
    assert '<span class="comment-count">(2)</span>' in html


def test_comment_body_keeps_its_line_breaks(client, article):
    CommentFactory(article=article, body="First line\nSecond line")

    assert "First line<br>Second line" in client.get(article.get_absolute_url()).content.decode()


def test_comments_are_paginated_at_50(client, article):
    comments = make_comments(article, 120)

    first = client.get(article.get_absolute_url()).content.decode()
    third = client.get(f"{article.get_absolute_url()}?page=3").content.decode()

    assert comment_ids(first) == [c.pk for c in comments[:50]]
    assert comment_ids(third) == [c.pk for c in comments[100:]]
    assert "Page 1 of 3" in first
    assert '<span class="comment-count">(120)</span>' in first


def test_out_of_range_comment_page_shows_the_last_page(client, article):
    comments = make_comments(article, 60)

    html = client.get(f"{article.get_absolute_url()}?page=99").content.decode()

    assert comment_ids(html) == [c.pk for c in comments[50:]]


def test_permalink_lands_on_the_page_that_shows_the_comment(client, article):
    comments = make_comments(article, 75)
    target = comments[62]

    url = target.get_absolute_url()

    assert url == f"{article.get_absolute_url()}?page=2#comment-{target.pk}"
    html = client.get(url.split("#")[0]).content.decode()
    assert target.pk in comment_ids(html)
    assert f'href="{url}"' in html


def test_permalink_of_a_first_page_comment_has_no_page_number(article):
    (comment,) = make_comments(article, 1)

    assert comment.get_absolute_url() == f"{article.get_absolute_url()}#comment-{comment.pk}"


def test_open_thread_shows_the_form(client, article):
    html = client.get(article.get_absolute_url()).content.decode()

    assert 'id="comment-form"' in html
    assert "Comments are closed." not in html


def test_article_page_query_count_does_not_grow_with_comments(client, django_assert_max_num_queries):
    few = ArticleFactory(side_effects=3)
    many = ArticleFactory(side_effects=3)
    make_comments(few, 1)
    make_comments(many, 500)

    with django_assert_max_num_queries(5):
        client.get(many.get_absolute_url())
    assert count_queries(client, few.get_absolute_url()) == count_queries(client, many.get_absolute_url())


def test_pages_split_the_thread_in_order_from_either_end(client, article):
    """A middle page and the last one are read from the thread's end: together the pages
    show every comment once, in order, even when comments share a time."""
    comments = make_comments(article, 130)
    same_time = comments[0].created_at + timedelta(seconds=60)
    Comment.objects.filter(pk__in=[c.pk for c in comments[40:110]]).update(created_at=same_time)

    pages = [
        comment_ids(client.get(f"{article.get_absolute_url()}?page={n}").content.decode()) for n in (1, 2, 3)
    ]

    assert [len(page) for page in pages] == [50, 50, 30]
    assert [pk for page in pages for pk in page] == [c.pk for c in comments]  # ties in pk order


@pytest.mark.parametrize("requested", ["abc", "0", "-2", "2.5", ""])
def test_a_page_number_that_is_not_one_shows_the_first_page(client, article, requested):
    comments = make_comments(article, 60)

    html = client.get(f"{article.get_absolute_url()}?page={requested}").content.decode()

    assert comment_ids(html) == [c.pk for c in comments[:50]]


def test_a_page_far_past_the_end_shows_the_last_page(client, article):
    comments = make_comments(article, 60)

    html = client.get(f"{article.get_absolute_url()}?page={10**30}").content.decode()

    assert comment_ids(html) == [c.pk for c in comments[50:]]
    assert "Page 2 of 2" in html


def test_only_a_thread_page_asked_by_its_own_number_is_cached(client, article):
    make_comments(article, 60)
    url = article.get_absolute_url()

    assert [client.get(f"{url}?page=2").get("X-Page-Cache") for _ in range(2)] == ["miss", "hit"]
    assert [client.get(f"{url}?page=9").get("X-Page-Cache") for _ in range(2)] == [None, None]


def test_the_queries_of_a_thread_page_depend_on_neither_its_number_nor_the_threads_length(client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # storing a page costs a query, and a page past the end is not stored
    short, long = ArticleFactory(), ArticleFactory()
    make_comments(short, 3)
    make_comments(long, 260)
    addresses = [
        short.get_absolute_url(),
        long.get_absolute_url(),
        f"{long.get_absolute_url()}?page=3",
        f"{long.get_absolute_url()}?page=6",
        f"{long.get_absolute_url()}?page=99",
    ]

    assert len({count_queries(client, address) for address in addresses}) == 1


def test_an_article_without_approved_comments_runs_no_comment_query(client, article):
    for status in (Comment.Status.PENDING, Comment.Status.REJECTED, Comment.Status.SPAM):
        make_comments(article, 2, status=status)
    empty_caches()

    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"{article.get_absolute_url()}?page=2").content.decode()

    assert "No comments yet." in html
    assert not [query for query in queries if "comments_comment" in query["sql"]]


@pytest.mark.parametrize(
    ("time_zone", "shown"),
    [
        ("UTC", '<time datetime="2026-03-05T08:07:09+0000">5 March 2026, 08:07</time>'),
        ("America/St_Johns", '<time datetime="2026-03-05T04:37:09-0330">5 March 2026, 04:37</time>'),
    ],
)
def test_a_comment_shows_its_date_in_the_sites_time_zone(client, article, settings, time_zone, shown):
    settings.TIME_ZONE = time_zone
    CommentFactory(article=article, created_at=datetime(2026, 3, 5, 8, 7, 9, 123456, tzinfo=UTC))

    assert shown in client.get(article.get_absolute_url()).content.decode()
