"""The real gunicorn, configured as `make run` serves the site (SQLite, local-memory cache, one
process with 8 threads): slow clients cannot hold its threads, and headers a client sends cannot
pass for a proxy's."""

import http.client
import re
import selectors
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.servers import EmbeddedAppServer, EmbeddedSite

READ_TIMEOUT = 3  # REQUEST_READ_TIMEOUT for these servers: 10 s by default, shorter to keep the tests short
SLUG = "what-is-scalp-micropigmentation"  # seed content


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return EmbeddedSite(tmp_path_factory.mktemp("embedded-site"))


def started(site, extra_env=None):
    server = EmbeddedAppServer(site, {"REQUEST_READ_TIMEOUT": str(READ_TIMEOUT), **(extra_env or {})})
    try:
        server.wait_until_ready()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def server(site):
    server = started(site)
    yield server
    server.stop()


class TricklingClients:
    """Connections that each send `request` one byte per `interval`, as a slow (or hostile)
    client does, and note when the server answers or closes each one."""

    def __init__(self, port, count, request, interval=1.0):
        self.request = request
        self.interval = interval
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        self.opened = time.monotonic()
        self.answers = {}  # socket -> (seconds after opening, what the server sent)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.trickle, daemon=True)
        self.thread.start()

    def trickle(self):
        self.received = dict.fromkeys(self.sockets, b"")
        with selectors.DefaultSelector() as self.selector:
            for sock in self.sockets:
                self.selector.register(sock, selectors.EVENT_READ)
            for byte in self.request:
                if self.stopped.is_set() or len(self.answers) == len(self.sockets):
                    return
                for sock in self.sockets:
                    if sock not in self.answers:
                        try:
                            sock.sendall(bytes([byte]))
                        except OSError:
                            self.answered(sock)
                self.read_answers(self.interval)

    def read_answers(self, seconds):
        ends = time.monotonic() + seconds
        while (left := ends - time.monotonic()) > 0:
            for key, _ in self.selector.select(left):
                try:
                    data = key.fileobj.recv(65536)
                except ConnectionResetError:
                    data = b""
                self.received[key.fileobj] += data
                if not data:
                    self.answered(key.fileobj)

    def answered(self, sock):
        if sock not in self.answers:
            self.answers[sock] = (time.monotonic() - self.opened, self.received[sock])
            self.selector.unregister(sock)

    def wait_until_all_answered(self, seconds):
        self.thread.join(seconds)
        return self.answers

    def close(self):
        self.stopped.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def trickling_headers(server):
    """12 clients sending a GET's headers one byte a second: far more than the 8 threads."""
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + b"slow" * 50 + b"\r\n\r\n"
    clients = TricklingClients(server.port, 12, request)
    yield clients
    clients.close()


def timed_get(url):
    started_at = time.monotonic()
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        return response.status, time.monotonic() - started_at


def test_clients_trickling_their_headers_do_not_delay_a_normal_request(server, trickling_headers):
    time.sleep(1.5)  # every trickling client has sent a few bytes: gthread gave each a thread

    status, seconds = timed_get(f"{server.url}/healthz")

    assert status == 200
    assert seconds < 3


def test_a_request_that_has_not_arrived_in_time_is_answered_408_and_closed(server, trickling_headers):
    answers = trickling_headers.wait_until_all_answered(READ_TIMEOUT + 5)

    assert len(answers) == 12
    for seconds, response in answers.values():
        assert response.startswith(b"HTTP/1.1 408 ")
        assert READ_TIMEOUT - 0.5 < seconds < READ_TIMEOUT + 2.5


def test_a_body_that_trickles_is_answered_408_and_closed(server):
    body = b"q=" + b"a" * 98
    head = f"POST /search/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n".encode()
    clients = TricklingClients(server.port, 10, head + b"\r\n" + body)
    try:
        time.sleep(1.5)
        status, seconds = timed_get(f"{server.url}/healthz")
        answers = clients.wait_until_all_answered(READ_TIMEOUT + 5)
    finally:
        clients.close()

    assert (status, seconds < 3) == (200, True)
    assert len(answers) == 10
    assert all(response.startswith(b"HTTP/1.1 408 ") for _, response in answers.values())


def test_kept_alive_and_pipelined_requests_are_answered_at_once(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for _ in range(3):
        started_at = time.monotonic()
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        assert (response.status, response.will_close) == (200, False)
        assert time.monotonic() - started_at < 1
    connection.close()

    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request * 2 + request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        answered = b""
        while data := sock.recv(65536):
            answered += data
    assert answered.count(b"HTTP/1.1 200 OK") == 3


def test_clients_that_never_close_their_side_do_not_stall_the_server(server):
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(12)]
    try:
        for client in clients:
            client.sendall(request)  # and never read the answer nor close
        time.sleep(0.5)

        status, seconds = timed_get(f"{server.url}/healthz")
    finally:
        for client in clients:
            client.close()

    assert status == 200
    assert seconds < 3


def canonical_link(html):
    return re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1)


def get_with_forwarded_headers(url):
    request = urllib.request.Request(url, headers={"SCRIPT_NAME": "/x9", "X-Forwarded-Proto": "https"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


@pytest.fixture(scope="module")
def server_behind_another_proxy(site):
    server = started(site, {"FORWARDED_ALLOW_IPS": "10.0.0.5", "DJANGO_TRUSTED_PROXIES": "1"})
    yield server
    server.stop()


@pytest.mark.parametrize("app_server", ["server", "server_behind_another_proxy"])
def test_forwarded_headers_are_ignored_from_a_client_that_is_not_the_proxy(app_server, request):
    app_server = request.getfixturevalue(app_server)

    html = get_with_forwarded_headers(f"{app_server.url}/articles/{SLUG}/")

    assert canonical_link(html) == f"{app_server.url}/articles/{SLUG}/"
    assert "/x9/" not in html
    with pytest.raises(urllib.error.HTTPError) as refused:
        get_with_forwarded_headers(f"{app_server.url}/x9/articles/{SLUG}/")
    assert refused.value.code == 404


def test_forwarded_headers_are_honoured_from_the_proxy_the_setting_names(site):
    server = started(site, {"FORWARDED_ALLOW_IPS": "127.0.0.1", "DJANGO_TRUSTED_PROXIES": "1"})
    try:
        html = get_with_forwarded_headers(f"{server.url}/x9/articles/{SLUG}/")
    finally:
        server.stop()

    assert canonical_link(html) == f"https://127.0.0.1:{server.port}/x9/articles/{SLUG}/"
    assert 'href="/x9/' in html
