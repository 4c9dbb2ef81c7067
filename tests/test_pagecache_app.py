"""The page cache as a reusable app, on a tiny site of its own (tests/pagecache_site):
pages are served from cache, retired by scope or by path, never kept past a timed change,
and their holes are filled per request."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import Client
from django.utils import timezone

from pagecache import holes, pages_changed, path_scope
from pagecache.store import page_cache
from tests.pagecache_site import views

pytestmark = [pytest.mark.urls("tests.pagecache_site.urls"), pytest.mark.django_db]  # 404s read the redirects


@pytest.fixture(autouse=True)
def test_site(settings):
    settings.PAGE_CACHE_SCOPES = {"greetings": "tests.pagecache_site.views.next_greeting_change"}
    settings.PAGE_CACHE_HOLES = {
        "csrfmiddlewaretoken": "pagecache.holes.csrf_token",
        "ticket": "tests.pagecache_site.views.renew_ticket",
    }
    views.shown.update(greeting="hello", closes_at=None, next_change=None)
    yield
    views.shown.update(greeting="hello", closes_at=None, next_change=None)


def get(url):
    """A new anonymous reader's request."""
    return Client().get(url)


def cached_page_count():
    return sum(1 for key in page_cache()._cache if ":readers-page:page:" in key)


def test_second_request_is_served_from_cache_with_the_same_page():
    first = get("/greetings/sam/")
    views.shown["greeting"] = "changed without telling the cache"
    second = get("/greetings/sam/")

    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert second.content == first.content == b"<p>hello, sam, page 1</p>"


@pytest.mark.django_db(transaction=True)
def test_a_changed_site_scope_retires_every_page_at_once():
    get("/greetings/sam/")
    get("/greetings/kim/")

    views.shown["greeting"] = "welcome"
    pages_changed("greetings")

    assert get("/greetings/sam/").content == b"<p>welcome, sam, page 1</p>"
    assert get("/greetings/kim/").content == b"<p>welcome, kim, page 1</p>"


@pytest.mark.django_db(transaction=True)
def test_a_changed_path_scope_retires_that_page_and_its_numbered_pages_only():
    for url in ["/greetings/sam/", "/greetings/sam/?page=2", "/greetings/kim/"]:
        get(url)

    views.shown["greeting"] = "welcome"
    pages_changed(path_scope("/greetings/sam/"))

    assert get("/greetings/sam/")["X-Page-Cache"] == "miss"
    assert get("/greetings/sam/?page=2").content == b"<p>welcome, sam, page 2</p>"
    assert get("/greetings/kim/").content == b"<p>hello, kim, page 1</p>"


@pytest.mark.django_db(transaction=True)
def test_a_change_retires_pages_only_once_its_transaction_commits():
    get("/greetings/sam/")

    with transaction.atomic():
        views.shown["greeting"] = "welcome"
        pages_changed("greetings")
        during = get("/greetings/sam/")

    assert during["X-Page-Cache"] == "hit"
    assert get("/greetings/sam/").content == b"<p>welcome, sam, page 1</p>"


def test_only_the_named_query_parameters_make_another_page(settings):
    get("/greetings/sam/")

    assert get("/greetings/sam/?utm_source=mail")["X-Page-Cache"] == "hit"
    assert get("/greetings/sam/?page=3")["X-Page-Cache"] == "miss"

    settings.PAGE_CACHE_QUERY_PARAMETERS = ["page", "utm_source"]
    assert get("/greetings/sam/?utm_source=mail").get("X-Page-Cache") != "hit"


@pytest.mark.parametrize("page", ["03", "3.0", " 3", "4", "last", "", "0", "-1", "²", "3&page=3"])
def test_a_page_asked_for_by_another_name_than_its_own_is_served_but_never_stored(page):
    for _ in range(2):
        response = get(f"/greetings/sam/?page={page}")
        assert response.status_code == 200
        assert "X-Page-Cache" not in response

    assert cached_page_count() == 0


def test_a_page_asked_for_by_its_own_name_is_stored_once_per_name():
    for url in ["/greetings/sam/", "/greetings/sam/?page=1", "/greetings/sam/?page=3"]:
        get(url)
        assert get(url)["X-Page-Cache"] == "hit"

    assert cached_page_count() == 3


def test_a_page_number_on_a_view_without_pages_is_never_stored():
    for _ in range(2):
        response = get("/form/?page=2")
        assert "X-Page-Cache" not in response
    assert get("/form/")["X-Page-Cache"] == "miss"


def test_holes_get_this_requests_values_and_the_stored_value_is_passed_to_the_filler():
    first = get("/form/?for=reader").content.decode()
    cached = get("/form/?for=someone-else")

    assert cached["X-Page-Cache"] == "hit"
    html = cached.content.decode()
    assert 'name="ticket" value="fresh-made-for-reader"' in html
    assert 'name="ticket" value="fresh-made-for-reader"' in first
    csrf = [page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0] for page in (first, html)]
    assert csrf[0] != csrf[1]
    assert "\x00" not in html


@pytest.mark.parametrize(
    ("url", "moment"),
    [
        ("/form/", "closes_at"),  # told by the view, with page_changes_at()
        ("/greetings/sam/", "next_change"),  # told by a site scope's function (PAGE_CACHE_SCOPES)
    ],
)
def test_a_page_is_not_kept_past_the_next_moment_it_changes_by_itself(url, moment):
    # Three seconds leave room for a slow first request on a busy machine.
    changes_at = views.shown[moment] = timezone.now() + timedelta(seconds=3)
    get(url)
    assert get(url)["X-Page-Cache"] == "hit"

    time.sleep((changes_at - timezone.now()).total_seconds() + 0.1)

    assert get(url)["X-Page-Cache"] == "miss"


@pytest.mark.parametrize("url", ["/greetings/missing/", "/broken/"])
def test_error_pages_are_never_stored(url):
    get(url)

    assert "X-Page-Cache" not in get(url)


def test_a_reader_with_a_session_or_a_message_waiting_gets_no_cached_page():
    get("/greetings/sam/")

    for cookie in ["sessionid", "messages"]:
        browser = Client()
        browser.cookies[cookie] = "something"
        assert "X-Page-Cache" not in browser.get("/greetings/sam/")


def test_page_cache_off_stores_nothing(settings):
    settings.PAGE_CACHE_SECONDS = 0

    get("/greetings/sam/")

    assert "X-Page-Cache" not in get("/greetings/sam/")


def test_a_hole_filler_that_cannot_be_imported_is_a_clear_configuration_error(settings):
    settings.PAGE_CACHE_HOLES = {"ticket": "tests.pagecache_site.views.no_such_function"}

    with pytest.raises(ImproperlyConfigured, match=r"PAGE_CACHE_HOLES\['ticket'\]"):
        holes.fillers()


def readers_at_once(url, count):
    """`count` new readers asking for `url` at the same moment: their responses and the seconds taken."""
    barrier = threading.Barrier(count)

    def read():
        barrier.wait()
        return get(url)

    started = time.monotonic()
    with ThreadPoolExecutor(count) as pool:
        responses = list(pool.map(lambda _: read(), range(count)))
    return responses, time.monotonic() - started


def test_readers_asking_at_once_for_a_missing_page_wait_for_one_render():
    views.renders.clear()

    responses, _ = readers_at_once("/slow/200/", 8)

    assert views.renders == [200]
    assert all(response.status_code == 200 for response in responses)
    assert sorted(response["X-Page-Cache"] for response in responses) == ["hit"] * 7 + ["miss"]


def test_a_render_slower_than_two_seconds_is_still_the_only_one(monkeypatch):
    """The waiters wait while the renderer holds its lock, however busy the machine."""
    monkeypatch.setattr(views, "SLOW_SECONDS", 2.5)
    views.renders.clear()

    responses, _ = readers_at_once("/slow/200/", 4)

    assert views.renders == [200]
    assert sorted(response["X-Page-Cache"] for response in responses) == ["hit"] * 3 + ["miss"]


def test_readers_waiting_for_a_page_that_is_not_stored_render_it_without_waiting_long():
    views.renders.clear()

    responses, seconds = readers_at_once("/slow/404/", 4)

    assert all(response.status_code == 404 for response in responses)
    assert len(views.renders) == 4  # each renders once the first one stored nothing
    assert seconds < 1.5
