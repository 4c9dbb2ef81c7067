"""A real outage: the database goes away under a running gunicorn and comes back.

The app server reaches PostgreSQL through a small TCP relay that the test can cut
and restore, so the database itself keeps running for the rest of the suite.
"""

import contextlib
import re
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from tests.factories import ArticleFactory
from tests.servers import AppServer, Browser, free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL); CI runs it"
    ),
]


class Relay:
    """Forwards a local port to PostgreSQL until cut; can be restored on the same port."""

    def __init__(self, target):
        self.target = target
        self.port = free_port()
        self.sockets = []
        self.listener = None

    def start(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen()
        threading.Thread(target=self.accept, args=(self.listener,), daemon=True).start()

    def accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self):
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets = []


def fetch(url, data=None):
    try:
        with urllib.request.urlopen(url, data=data, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def relay():
    settings = connection.settings_dict
    relay = Relay((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    relay.start()
    yield relay
    relay.cut()


@pytest.fixture
def server(relay, monkeypatch):
    settings = connection.settings_dict
    monkeypatch.setitem(settings, "PORT", str(relay.port))  # AppServer reads the test database's settings
    app = AppServer(extra_env={"PAGE_CACHE_SECONDS": "0", "REDIS_URL": "", "CACHE_URL": "locmem://"})
    monkeypatch.undo()
    try:
        app.wait_until_ready()
        yield app
    finally:
        app.stop()


def test_database_outage_gives_503s_and_the_same_process_recovers(relay, server):
    article = ArticleFactory(title="Outage article", comments_open=True)
    url = f"{server.url}{article.get_absolute_url()}"
    reader = Browser()
    page_before, _ = reader.get(url)
    form = dict(re.findall(r'name="(csrfmiddlewaretoken|form_token)" value="([^"]+)"', page_before))
    pid = server.process.pid

    relay.cut()
    health = fetch(f"{server.url}/healthz")
    page = fetch(url)
    posted = reader.post_with_status(
        f"{server.url}/articles/{article.slug}/comments/",
        {
            **form,
            "author_name": "Sam",
            "author_email": "sam@example.org",
            "body": "Written during the outage",
        },
    )

    assert health[0] == 503
    assert '"database": "unavailable"' in health[1]
    assert page[0] == 503
    assert "Back in a moment" in page[1]
    assert "Traceback" not in page[1]
    assert posted[0] == 503
    assert "Your comment was not saved." in posted[1]
    assert "Written during the outage" in posted[1]

    relay.start()
    deadline = time.monotonic() + 15
    while fetch(f"{server.url}/healthz")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.3)

    assert fetch(f"{server.url}/healthz")[0] == 200
    assert fetch(url)[0] == 200
    assert server.process.pid == pid and server.process.poll() is None
