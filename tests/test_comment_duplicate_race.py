"""Twenty copies of one comment sent at the same moment to a real app server store one.

Each copy comes from a browser of its own (its own cookies, form and token), as a bot or a
reader with many tabs would send it. Every request is sent but for its last byte, so that the
server's threads all wait inside the view's reading of the form; the last bytes then go
together. The database's unique constraint, not a check made before the insert, decides which
one is stored: on SQLite (the server on a file of its own, as `make run` serves it) and on
PostgreSQL (the test database).
"""

import http.client
import os
import re
import sqlite3
import subprocess
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from comments.models import Comment
from tests.factories import ArticleFactory
from tests.servers import BASE_DIR, AppServer, Browser, csrf_token

pytestmark = pytest.mark.django_db(transaction=True)

COPIES = 20
COMMENT = {
    "author_name": "Sam Reader",
    "author_email": "sam@example.org",
    "body": "The same words, sent twenty times at once.",
    "honeypot": "",
}
SERVER_SETTINGS = {
    "COMMENTS_RATE_LIMIT": "0",
    "COMMENTS_MIN_SUBMIT_SECONDS": "0",
    "REDIS_URL": "",
    "CACHE_URL": "locmem://",
    # A process for each copy, so that every copy runs at once and the operating system may
    # switch between any two of its steps (a process's threads take turns at the GIL).
    "WEB_CONCURRENCY": str(COPIES),
    "GUNICORN_THREADS": "1",
    # Only so that pages render without collected static files (the manifest); nothing that
    # stores a comment depends on it.
    "DJANGO_DEBUG": "1",
}


def manage(database_url, *arguments):
    """Run a manage.py command on the server's own SQLite file; its output."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SECRET_KEY": "scratch-site-secret-key"}
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=BASE_DIR, env=env, check=True, capture_output=True
    )
    return done.stdout.decode()


@pytest.fixture
def site(tmp_path):
    """(server, article slug, a function counting the stored comments) on the suite's database."""
    if connection.vendor == "postgresql":
        slug = ArticleFactory(comments_open=True).slug
        server = AppServer(extra_env=SERVER_SETTINGS)

        def count():
            return Comment.objects.count()
    else:
        database = tmp_path / "db.sqlite3"
        url = f"sqlite:///{database}"
        manage(url, "migrate", "--noinput", "--verbosity", "0")
        code = "from tests.factories import ArticleFactory; print(ArticleFactory(comments_open=True).slug)"
        slug = manage(url, "shell", "--verbosity", "0", "--command", code).strip()
        server = AppServer(extra_env={**SERVER_SETTINGS, "DATABASE_URL": url})

        def count():
            with sqlite3.connect(database) as db:
                return db.execute("SELECT count(*) FROM comments_comment").fetchone()[0]

    try:
        server.wait_until_ready()
        yield server, slug, count
    finally:
        server.stop()


def test_twenty_identical_comments_sent_at_once_store_exactly_one(site):
    server, slug, count = site
    start = threading.Barrier(COPIES)

    def send_a_copy(_):
        browser = Browser()
        page, _headers = browser.get(f"{server.url}/articles/{slug}/")
        form = {
            "csrfmiddlewaretoken": csrf_token(page),
            "form_token": re.search(r'name="form_token" value="([^"]+)"', page).group(1),
        }
        body = urllib.parse.urlencode({**form, **COMMENT}).encode()
        post = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        post.putrequest("POST", f"/articles/{slug}/comments/")
        post.putheader("Content-Type", "application/x-www-form-urlencoded")
        post.putheader("Content-Length", str(len(body)))
        post.putheader("Cookie", "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies))
        post.endheaders(body[:-1])
        start.wait(timeout=60)
        post.send(body[-1:])
        answer = post.getresponse()
        return answer.status, answer.read().decode()

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        answers = list(pool.map(send_a_copy, range(COPIES)))

    assert sorted(status for status, _html in answers) == [303] + [400] * (COPIES - 1)
    for status, html in answers:
        if status == 400:
            assert "You have already posted this comment on this article." in html
            assert COMMENT["body"] in html
    assert count() == 1
