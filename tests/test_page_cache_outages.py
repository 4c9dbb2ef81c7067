"""The page cache under faults and hostile input: an invalidation missed in a cache outage is
applied before any page is served from that cache again, a hung cache costs one timeout every
few seconds, made-up page numbers cannot fill the cache or evict the rate-limit counters, and a
forwarded prefix cannot choose the page other readers get.

These tests use a transactional database: invalidation happens when a change commits.
"""

import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.urls import set_script_prefix

from articles.models import Article
from pagecache import middleware, outages, store
from pagecache.models import MissedInvalidation
from pagecache.store import page_cache
from tests.caches import redis_caches
from tests.factories import ArticleFactory, comment_form_data
from tests.servers import AppServer, Browser, SilentServer

pytestmark = pytest.mark.django_db(transaction=True)


def page(url, **extra):
    """A new anonymous reader's request."""
    return Client().get(url, **extra)


def cached_page_keys():
    return [key for key in page_cache()._cache if ":readers-page:page:" in key]


# A cache that restarts with its old data -------------------------------------------------------


def restart_as_another_process(redis):
    """Start Redis again with the data it had, and forget what this process saw of the outage,
    as an app server that served nothing during it would."""
    redis.start()
    outages.reset()


def test_an_article_unpublished_while_the_cache_was_down_is_gone_when_it_comes_back(persistent_redis):
    article = ArticleFactory()
    for url in (article.get_absolute_url(), "/", "/feed/", "/sitemap.xml"):
        page(url)
        assert page(url)["X-Page-Cache"] == "hit"

    persistent_redis.stop()
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    assert MissedInvalidation.objects.exists()
    restart_as_another_process(persistent_redis)

    assert page(article.get_absolute_url()).status_code == 404
    for url in ("/", "/feed/", "/sitemap.xml"):
        response = page(url)
        assert response["X-Page-Cache"] == "miss"
        assert article.title not in response.content.decode()
    assert not MissedInvalidation.objects.exists()


def test_a_thread_closed_while_the_cache_was_down_has_no_form_when_it_comes_back(persistent_redis):
    article = ArticleFactory(comments_open=True)
    page(article.get_absolute_url())
    assert 'name="body"' in page(article.get_absolute_url()).content.decode()

    persistent_redis.stop()
    article.comments_open = False
    article.save()
    restart_as_another_process(persistent_redis)

    html = page(article.get_absolute_url()).content.decode()
    assert 'name="body"' not in html
    assert "Comments are closed." in html


def test_without_a_missed_invalidation_a_restarted_cache_serves_its_pages_again_after_one_render(
    persistent_redis,
):
    article = ArticleFactory()
    page(article.get_absolute_url())

    persistent_redis.stop()
    restart_as_another_process(persistent_redis)

    # The first read after a new connection is not trusted (it may predate what another
    # process applies): one render, and the page is served from the cache again.
    assert page(article.get_absolute_url())["X-Page-Cache"] == "miss"
    assert page(article.get_absolute_url())["X-Page-Cache"] == "hit"


def test_the_process_that_missed_an_invalidation_retries_it_until_the_cache_takes_it(
    persistent_redis, settings
):
    settings.PAGE_CACHE_RETRY_SECONDS = 0.2
    article = ArticleFactory()
    page(article.get_absolute_url())

    persistent_redis.stop()
    article.title = "Renamed while the cache was down"
    article.save()
    persistent_redis.start()

    deadline = time.monotonic() + 10
    while outages.health.retrying is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not MissedInvalidation.objects.exists()
    outages.reset()  # another process, which saw nothing of the outage
    assert "Renamed while the cache was down" in page(article.get_absolute_url()).content.decode()


def test_a_page_read_before_another_process_applied_the_missed_invalidation_is_not_served(
    persistent_redis, monkeypatch
):
    """Found by `make faults`: this process reads the old page and versions from the restarted
    Redis, another process applies the missed invalidation and deletes its record, and this one,
    finding nothing left to apply, must still not trust what it read before."""
    article = ArticleFactory()
    page(article.get_absolute_url())
    persistent_redis.stop()
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
    restart_as_another_process(persistent_redis)

    read_then_another_process_applies = middleware.page_and_versions

    def racing_read(keys):
        found = read_then_another_process_applies(keys)
        outages.apply_missed(store.set_new_versions, force=True)  # as the other process does
        return found

    monkeypatch.setattr(middleware, "page_and_versions", racing_read)

    assert page(article.get_absolute_url()).status_code == 404


# A hung cache ----------------------------------------------------------------------------------


@pytest.fixture
def hung_cache(settings):
    server = SilentServer()
    settings.CACHES = redis_caches(f"redis://127.0.0.1:{server.port}/0", timeout=0.5)
    settings.PAGE_CACHE_VERSIONS_FILE = None
    settings.PAGE_CACHE_RETRY_SECONDS = 30
    yield server
    server.close()


def timed(url):
    started = time.monotonic()
    response = page(url)
    return response, time.monotonic() - started


def test_after_one_timeout_pages_are_served_without_waiting_on_a_hung_cache(hung_cache):
    article = ArticleFactory()
    outages.reset()  # saving the article met the hung cache: start again with a closed breaker

    first, waited = timed(article.get_absolute_url())
    assert first.status_code == 200
    assert waited >= 0.5

    sent = hung_cache.received()
    for url in (article.get_absolute_url(), "/", "/feed/"):
        response = page(url)
        assert response.status_code == 200
        assert "X-Page-Cache" not in response
    assert hung_cache.received() == sent  # not one command more reached the hung cache


@pytest.mark.parametrize("url", ["/healthz", "/search/?q=redness"])
def test_health_checks_and_searches_never_wait_on_the_page_cache(hung_cache, url):
    outages.reset()
    sent = hung_cache.received()

    response = page(url)

    assert response.status_code == 200
    assert hung_cache.received() == sent


def test_a_change_made_while_the_cache_hangs_is_kept_until_it_answers(hung_cache):
    article = ArticleFactory()  # meets the hung cache once: the breaker opens
    MissedInvalidation.objects.all().delete()
    sent = hung_cache.received()

    article.title = "Changed while the cache hung"
    article.save()

    assert hung_cache.received() == sent  # the editor does not wait on the cache either
    assert "articles" in set(MissedInvalidation.objects.values_list("scope", flat=True))


# Made-up page numbers -------------------------------------------------------------------------


def test_made_up_page_numbers_are_served_but_never_stored(client):
    article = ArticleFactory(comments_open=True)
    page(article.get_absolute_url())
    stored = len(cached_page_keys())

    for number in range(2, 402):
        assert page(f"{article.get_absolute_url()}?page={number}").status_code == 200
    for value in ("0", "-1", "01", "last", "1e3", "²", "9" * 30):
        assert page(f"/?page={value}").status_code in (200, 404)

    assert len(cached_page_keys()) == stored


def test_a_page_flood_does_not_evict_the_comment_rate_limit(settings):
    settings.COMMENTS_RATE_LIMIT = "3/10m"
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    article = ArticleFactory(comments_open=True)
    reader = Client()
    for number in range(3):
        data = comment_form_data(article, body=f"Note {number}")
        assert reader.post(f"/articles/{article.slug}/comments/", data).status_code == 303

    for number in range(400):
        page(f"/articles/{article.slug}/?page={number}&utm={number}")
        page(f"/no-such-page-{number}/")

    response = reader.post(f"/articles/{article.slug}/comments/", comment_form_data(article, body="One more"))
    assert response.status_code == 429


# Forwarded prefixes ---------------------------------------------------------------------------


def test_a_page_built_under_a_forwarded_prefix_is_never_served_to_other_readers():
    article = ArticleFactory()
    # What gunicorn makes of a SCRIPT_NAME header when it trusts it: a prefix, apart from the
    # path, that Django's WSGI handler makes the prefix of every address (the test client's
    # handler sets none: done here as WSGIHandler does).
    address = article.get_absolute_url()
    # (Static files' addresses are made once per process: forget those made under the prefix.)
    with override_settings(STATIC_URL=settings.STATIC_URL):
        set_script_prefix("/x9/")
        try:
            forged = page(address, SCRIPT_NAME="/x9")
        finally:
            set_script_prefix("/")
    assert f"/x9{article.get_absolute_url()}" in forged.content.decode()

    response = page(f"/x9{article.get_absolute_url()}")
    assert response.status_code == 404
    assert page(article.get_absolute_url())["X-Page-Cache"] == "miss"
    assert "/x9/" not in page(article.get_absolute_url()).content.decode()


# Across processes, as deployed --------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="app servers need PostgreSQL (DATABASE_URL); CI runs it"
)
def test_an_app_server_that_saw_nothing_of_the_outage_serves_the_change_made_during_it(persistent_redis):
    """gunicorn with the site's settings on a Redis with persistence; the change is made by
    another process (this one) while Redis is down, and the server never met the outage."""
    article = ArticleFactory(title="Before the outage")
    server = AppServer(extra_env={"REDIS_URL": persistent_redis.url})
    try:
        server.wait_until_ready()
        Browser().get(f"{server.url}{article.get_absolute_url()}")
        html, headers = Browser().get(f"{server.url}{article.get_absolute_url()}")
        assert headers["X-Page-Cache"] == "hit"

        persistent_redis.stop()
        Article.objects.filter(pk=article.pk).update(title="Changed during the outage")
        persistent_redis.start()

        html, headers = Browser().get(f"{server.url}{article.get_absolute_url()}")
        assert "Changed during the outage" in html
        assert headers["X-Page-Cache"] == "miss"
    finally:
        server.stop()
