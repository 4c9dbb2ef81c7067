"""The 404 report: missing paths counted in memory with no database write per request,
written in one short batch, bounded in memory and in the table, and shown to editors."""

import threading
import time
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import missing_paths
from articles.models import MissingPath, Redirect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tally(monkeypatch):
    """This test's own tally: what other tests counted is not written here."""
    fresh = missing_paths.Tally()
    monkeypatch.setattr(missing_paths, "tally", fresh)
    return fresh


def hits():
    return dict(MissingPath.objects.values_list("path", "hits"))


def test_a_404_is_counted_with_no_database_write_in_the_request():
    reader = Client()

    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert reader.get("/no-such-page/").status_code == 404

    statements = [query["sql"].split()[0].upper() for query in queries]
    assert set(statements) == {"SELECT"}
    assert len(statements) <= 2 * 3  # the page looked for, then the redirects
    assert not MissingPath.objects.exists()


def test_a_404_answers_in_two_queries(django_assert_max_num_queries):
    reader = Client()

    with django_assert_max_num_queries(2):
        assert reader.get("/articles/no-such-article/").status_code == 404


def test_flush_writes_the_counts_to_the_report():
    reader = Client()
    for _ in range(3):
        reader.get("/articles/missing/")
    reader.head("/old-flyer/")

    assert missing_paths.flush() == 2

    assert hits() == {"/articles/missing/": 3, "/old-flyer/": 1}


def test_a_later_flush_adds_its_hits_to_the_rows_written():
    reader = Client()
    reader.get("/articles/missing/")
    missing_paths.flush()
    first_seen = MissingPath.objects.get().first_seen
    reader.get("/articles/missing/")
    reader.get("/articles/missing/")

    missing_paths.flush()

    row = MissingPath.objects.get()
    assert row.hits == 3
    assert row.first_seen == first_seen
    assert row.last_seen > first_seen


def test_the_query_string_is_not_part_of_the_counted_path():
    Client().get("/articles/missing/?page=2&utm_source=mail")

    missing_paths.flush()

    assert hits() == {"/articles/missing/": 1}


def test_paths_answered_by_a_redirect_are_not_counted():
    Redirect.objects.create(old_path="/articles/old/", new_path="/articles/new/")

    assert Client().get("/articles/old/").status_code == 301
    assert Client().get("/articles/old/print/").status_code == 301
    missing_paths.flush()

    assert hits() == {}


def test_a_path_redirected_after_it_was_counted_is_left_out_when_written():
    Client().get("/articles/old/print/")
    Redirect.objects.create(old_path="/articles/old/", new_path="/articles/new/")

    missing_paths.flush()

    assert hits() == {}


def test_saving_a_redirect_removes_its_paths_from_the_report(editor_client):
    Client().get("/articles/old/")
    Client().get("/articles/old/print/")
    Client().get("/elsewhere/")
    missing_paths.flush()

    editor_client.post(
        "/admin/articles/redirect/add/", {"old_path": "/articles/old/", "new_path": "/articles/new/"}
    )

    assert hits() == {"/elsewhere/": 1}


def test_posts_admin_pages_and_static_files_are_not_counted(editor_client):
    Client().post("/articles/missing/comments/", {})
    assert editor_client.get("/admin/no-such-page/").status_code == 404
    assert Client().get("/static/no-such-file.css").status_code == 404

    missing_paths.flush()

    assert hits() == {}


def test_paths_longer_than_500_characters_are_not_counted():
    Client().get("/" + "a" * 501 + "/")

    missing_paths.flush()

    assert hits() == {}


def test_the_tally_keeps_at_most_1000_paths_between_two_writes(tally):
    for number in range(1005):
        tally.count(f"/made-up-{number}/")
    tally.count("/made-up-0/")

    assert len(tally) == 1000
    counts, left_out = tally.take()
    assert counts["/made-up-0/"].hits == 2
    assert left_out == 5


def test_the_report_keeps_the_most_requested_paths(settings, tally):
    settings.ARTICLES_MISSING_PATHS_KEPT = 3
    now = timezone.now()
    for path, count, when in [
        ("/most/", 5, now),
        ("/often/", 3, now),
        ("/once-long-ago/", 1, now - timedelta(days=3)),
        ("/once-lately/", 1, now),
    ]:
        for _ in range(count):
            tally.count(path, when)

    missing_paths.flush()

    assert hits() == {"/most/": 5, "/often/": 3, "/once-lately/": 1}


def test_a_database_failure_during_a_write_is_logged_and_loses_no_count(monkeypatch, caplog):
    reader = Client()
    reader.get("/articles/missing/")

    def fail(*args, **kwargs):
        raise OperationalError("the database is down")

    with monkeypatch.context() as patched:
        patched.setattr(MissingPath.objects, "bulk_create", fail)
        assert missing_paths.flush() == 0
        assert reader.get("/articles/missing/").status_code == 404  # requests go on as before

    assert "could not write 1 paths" in caplog.text
    assert missing_paths.flush() == 1
    assert hits() == {"/articles/missing/": 2}


def test_counting_from_many_threads_loses_no_hit(tally):
    def count_many():
        for _ in range(500):
            tally.count("/busy/")

    threads = [threading.Thread(target=count_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert tally.take()[0]["/busy/"].hits == 8 * 500


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_writes_every_interval_and_once_more_at_exit(settings, monkeypatch, tally):
    settings.ARTICLES_MISSING_PATHS_FLUSH_SECONDS = 0.05
    at_exit = []
    monkeypatch.setattr(missing_paths.atexit, "register", at_exit.append)
    writer = missing_paths.Writer()
    writer.start()
    try:
        tally.count("/written-by-the-thread/")
        deadline = time.monotonic() + 5
        while not MissingPath.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert hits() == {"/written-by-the-thread/": 1}
    finally:
        writer.stopped.set()
        writer.thread.join(timeout=5)

    tally.count("/counted-just-before-exit/")
    [stop] = at_exit
    stop()

    assert hits() == {"/written-by-the-thread/": 1, "/counted-just-before-exit/": 1}


def test_requests_through_the_test_client_start_no_writer_thread(monkeypatch):
    started = []
    monkeypatch.setattr(missing_paths.writer, "start", lambda: started.append(True))

    Client().get("/articles/missing/")

    assert started == []


def test_a_request_from_a_server_starts_the_writer(monkeypatch):
    from django.core.handlers.wsgi import WSGIHandler

    started = []
    monkeypatch.setattr(missing_paths.writer, "start", lambda: started.append(True))

    missing_paths.start_writing_when_served(sender=WSGIHandler)

    assert started == [True]


# The report in the admin --------------------------------------------------------------


def missing(path, hits, **fields):
    now = timezone.now()
    return MissingPath.objects.create(path=path, hits=hits, first_seen=now, last_seen=now, **fields)


def test_the_report_lists_the_most_requested_paths_first_with_a_link_to_add_a_redirect(editor_client):
    missing("/rarely/", 2)
    missing("/articles/old-name/", 40)

    html = editor_client.get("/admin/articles/missingpath/").content.decode()

    assert html.index("/articles/old-name/") < html.index("/rarely/")
    assert f'href="/admin/articles/redirect/add/?old_path={quote("/articles/old-name/", safe="")}"' in html
    assert "Add a redirect" in html


def test_the_add_a_redirect_link_fills_in_the_old_address(editor_client):
    response = editor_client.get("/admin/articles/redirect/add/?old_path=%2Farticles%2Fold-name%2F")

    assert 'value="/articles/old-name/"' in response.content.decode()


def test_the_report_shows_whether_a_redirect_exists_now(editor_client):
    missing("/old-flyer/", 3)
    Redirect.objects.bulk_create([Redirect(old_path="/old-flyer/", new_path="/articles/new/")])

    html = editor_client.get("/admin/articles/missingpath/").content.decode()

    assert 'alt="True"' in html
    assert "Add a redirect" not in html


def test_the_report_is_read_only(editor_client):
    row = missing("/old-flyer/", 3)

    assert editor_client.get("/admin/articles/missingpath/add/").status_code == 403
    change_page = editor_client.get(f"/admin/articles/missingpath/{row.pk}/change/")
    assert change_page.status_code == 200
    assert 'name="_save"' not in change_page.content.decode()
    editor_client.post(f"/admin/articles/missingpath/{row.pk}/change/", {"path": "/changed/", "hits": "1"})
    assert MissingPath.objects.get().path == "/old-flyer/"


def test_an_editor_clears_rows_of_the_report(editor_client):
    row = missing("/old-flyer/", 3)

    editor_client.post(
        "/admin/articles/missingpath/",
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )

    assert not MissingPath.objects.exists()


def test_moderators_do_not_see_the_report(moderator_client):
    assert moderator_client.get("/admin/articles/missingpath/").status_code == 403
