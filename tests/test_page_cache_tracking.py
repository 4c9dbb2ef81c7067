"""Cached pages on a shared Redis come from each process's memory, never one change behind.

Redis pushes the name of every page-cache key that changes (CLIENT TRACKING, pagecache.tracking);
"another app server" here is a connection of its own that changes a key, as any other process
would. The article's title is changed in the database without the site's invalidation, so the
page shows which copy was served: the one in memory, or one built after the change.
"""

import pickle
import time

import pytest
import redis as redis_py
from django.db import connection
from django.test import Client
from django_redis.cache import RedisCache

from articles.models import Article
from pagecache import store, tracking
from tests.caches import redis_caches
from tests.factories import ArticleFactory
from tests.servers import RedisServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def another_app_server(persistent_redis):
    """A connection to the same Redis that is not this process's page cache."""
    client = redis_py.Redis.from_url(persistent_redis.url)
    yield client
    client.close()


def page(url):
    response = Client().get(url)
    assert response.status_code == 200
    return response


def page_reads(client):
    """How many MGET and GET commands Redis has answered so far."""
    stats = client.info("commandstats")
    return sum(stats.get(f"cmdstat_{command}", {}).get("calls", 0) for command in ("mget", "get"))


def retitle_unseen(article, title):
    """Change the title in the database behind the site's back: no page is retired."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Article._meta.db_table} SET title = %s WHERE id = %s", [title, article.pk])


def version_key_of(url):
    return store.page_cache().make_key(store.version_key(store.path_scope(url)))


def a_cached_article():
    article = ArticleFactory(title="Healing after SMP")
    url = article.get_absolute_url()
    assert page(url)["X-Page-Cache"] == "miss"
    assert page(url)["X-Page-Cache"] == "hit"  # read from Redis, and kept in memory
    return article, url


def test_a_cached_page_is_served_from_memory_without_a_round_trip_to_redis(another_app_server):
    _, url = a_cached_article()
    reads = page_reads(another_app_server)

    for _ in range(5):
        response = page(url)
        assert response["X-Page-Cache"] == "hit"
        assert "Healing after SMP" in response.content.decode()

    assert page_reads(another_app_server) == reads


def test_a_change_made_through_another_app_server_is_seen_on_the_next_request(another_app_server):
    article, url = a_cached_article()
    retitle_unseen(article, "Healing after SMP, revised")
    assert "Healing after SMP, revised" not in page(url).content.decode()  # still the copy in memory

    # As django-redis stores a version (pickled), whichever app server gives it.
    another_app_server.set(version_key_of(url), pickle.dumps("a version given by another app server"))

    response = page(url)
    assert response["X-Page-Cache"] == "miss"
    assert "Healing after SMP, revised" in response.content.decode()


def test_a_change_made_while_the_listening_connection_was_down_is_not_missed(another_app_server):
    article, url = a_cached_article()

    another_app_server.client_kill_filter(_type="pubsub")  # the push of the change below is lost
    retitle_unseen(article, "Healing after SMP, revised")
    another_app_server.delete(version_key_of(url))

    assert "Healing after SMP, revised" in page(url).content.decode()


def test_a_change_made_after_the_tracking_connection_dropped_is_not_missed(another_app_server):
    article, url = a_cached_article()
    tracking = [client for client in another_app_server.client_list() if "t" in client["flags"]]
    assert len(tracking) == 1

    another_app_server.client_kill_filter(_id=tracking[0]["id"])  # Redis tracks nothing for us now
    retitle_unseen(article, "Healing after SMP, revised")
    another_app_server.delete(version_key_of(url))

    assert "Healing after SMP, revised" in page(url).content.decode()


def test_a_read_from_redis_that_crossed_a_change_is_not_kept(another_app_server, monkeypatch):
    article, url = a_cached_article()
    tracking.forget_mirrors()  # as a process that has not read this page yet
    read_many = RedisCache.get_many

    def read_then_changed_by_another_app_server(cache, keys, *args, **kwargs):
        found = read_many(cache, keys, *args, **kwargs)
        retitle_unseen(article, "Healing after SMP, revised")
        another_app_server.set(version_key_of(url), pickle.dumps("a version given by another app server"))
        return found

    monkeypatch.setattr(RedisCache, "get_many", read_then_changed_by_another_app_server)
    assert "Healing after SMP, revised" not in page(url).content.decode()  # as it was when read
    monkeypatch.undo()

    response = page(url)
    assert response["X-Page-Cache"] == "miss"
    assert "Healing after SMP, revised" in response.content.decode()


def test_after_redis_is_flushed_no_page_is_served_from_memory(another_app_server):
    article, url = a_cached_article()
    retitle_unseen(article, "Healing after SMP, revised")

    another_app_server.flushdb()

    response = page(url)
    assert response["X-Page-Cache"] == "miss"
    assert "Healing after SMP, revised" in response.content.decode()


def test_a_page_kept_in_memory_is_not_served_past_the_time_it_was_stored_for(settings, another_app_server):
    settings.PAGE_CACHE_SECONDS = 1
    article, url = a_cached_article()
    retitle_unseen(article, "Healing after SMP, revised")

    time.sleep(1.1)

    assert "Healing after SMP, revised" in page(url).content.decode()


def test_a_redis_that_refuses_tracking_still_serves_every_change(tmp_path, settings):
    server = RedisServer(tmp_path, "--rename-command", "CLIENT", "")
    server.start()
    try:
        settings.CACHES = redis_caches(server.url)
        settings.PAGE_CACHE_VERSIONS_FILE = None
        article, url = a_cached_article()
        retitle_unseen(article, "Healing after SMP, revised")
        redis_py.Redis.from_url(server.url).delete(version_key_of(url))

        assert "Healing after SMP, revised" in page(url).content.decode()
    finally:
        server.stop()


def test_pages_changed_by_the_site_itself_are_retired_in_every_copy(another_app_server):
    article, url = a_cached_article()

    article.title = "Healing after SMP, revised"
    article.save()

    response = page(url)
    assert response["X-Page-Cache"] == "miss"
    assert "Healing after SMP, revised" in response.content.decode()
