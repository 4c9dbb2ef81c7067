"""Real app servers for tests: gunicorn with the repository's config on the test database, and a
cookie-keeping HTTP client to talk to it as a browser would; and what a test SMTP server keeps."""

import asyncio
import contextlib
import email
import email.policy
import http.cookiejar
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/14"  # the cache the app servers share; tests may flush it
SECRET_KEY = "a-shared-secret-key-for-both-app-servers-in-this-test-0123456789"


def redis_answers():
    """Whether Redis answers at 127.0.0.1:6379 (tests that need it skip when it does not)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(process, url, name, output, seconds):
    """Wait until `url` answers 200; a `process` that exits first fails with its `output()`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited: {output()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{name} at {url} did not answer in {seconds} s")


class AppServer:
    """One gunicorn instance with the repository's config, on the test database and the shared Redis."""

    def __init__(self, extra_env=None):
        database = connection.settings_dict
        self.start(
            {
                **{
                    key: value
                    for key, value in os.environ.items()
                    if not key.startswith(("DJANGO_", "CACHE_URL"))
                },
                "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
                "REDIS_URL": REDIS_URL,
                "DJANGO_SECRET_KEY": SECRET_KEY,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "WEB_CONCURRENCY": "1",
                "GUNICORN_THREADS": "2",
                **(extra_env or {}),
            }
        )

    def start(self, env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe nobody reads: a server that logs a lot never blocks on a full pipe.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "smpinfo.wsgi"],
            cwd=BASE_DIR,
            env={**env, "HOST": "127.0.0.1", "PORT": str(self.port)},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def stderr(self):
        """What gunicorn has written to stderr so far (its error log)."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_until_ready(self, seconds=30):
        wait_until_answering(self.process, f"{self.url}/healthz", "gunicorn", self.stderr, seconds)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# What `make run` leaves to the defaults: an embedded site's servers take none of it from the tests.
SERVER_SETTINGS = ("DJANGO_", "DATABASE_URL", "CACHE_URL", "REDIS_URL", "WEB_CONCURRENCY", "GUNICORN_")
SERVER_SETTINGS += ("FORWARDED_ALLOW_IPS", "REQUEST_READ_TIMEOUT", "SCRIPT_NAME", "HOST", "PORT")


class EmbeddedSite:
    """What `make run` prepares, in a scratch folder: a migrated SQLite file with the seed content
    and the collected static files. Servers started on it need neither PostgreSQL nor Redis."""

    def __init__(self, directory):
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(SERVER_SETTINGS)},
            "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            # The site's settings with STATIC_ROOT in the scratch folder, not in the working tree.
            "DJANGO_SETTINGS_MODULE": "tests.app_server_settings",
            "APP_SERVER_STATIC_ROOT": str(directory / "staticfiles"),
            # The page versions every process of this site shares (its server and its commands).
            "PAGE_CACHE_VERSIONS_FILE": str(directory / "pagecache-versions"),
        }
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["seed_content"]):
            subprocess.run(
                [sys.executable, "manage.py", *command, "--verbosity", "0"],
                cwd=BASE_DIR,
                env=self.env,
                check=True,
                capture_output=True,
            )


class EmbeddedAppServer(AppServer):
    """gunicorn with the repository's config as `make run` starts it: SQLite and the local-memory
    cache, so one process with 8 threads, on an EmbeddedSite."""

    def __init__(self, site, extra_env=None):
        self.start({**site.env, **(extra_env or {})})


@contextlib.contextmanager
def serving(*servers):
    """The started servers once each answers, and every one of them stopped afterwards."""
    try:
        for server in servers:
            server.wait_until_ready()
        yield list(servers)
    finally:
        for server in servers:
            server.stop()


class Browser:
    """A cookie-keeping HTTP client, enough to log in to the admin and run an action."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, url):
        with self.opener.open(url, timeout=10) as response:
            return response.read().decode(), dict(response.headers)

    def post(self, url, data):
        return self.post_with_status(url, data)[1]

    def post_with_status(self, url, data):
        body = urllib.parse.urlencode(data, doseq=True).encode()
        request = urllib.request.Request(url, data=body, headers={"Referer": url})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def csrf_token(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


class RedisServer:
    """A Redis of the test's own on a free port that keeps its data on disk (as a production
    Redis with persistence does), so that it can be stopped and started again with it."""

    def __init__(self, directory, *options):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.options = list(options)  # more redis-server options ("--rename-command", ...)
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on port {self.port} did not answer in 10 s")

    def stop(self):
        """Shut down with its data written to disk."""
        if self.process and self.process.poll() is None:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"SHUTDOWN\r\n")
            self.process.wait(timeout=10)


class SilentServer:
    """A TCP server that accepts connections and never answers: a hung cache or mail server.

    `received()` tells how many bytes its clients have sent it so far, so a test can check that
    something was not even tried (the wall time a test takes says more of the machine's load
    than of what the code waited on)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.connections = []
        self.bytes_received = 0

    def received(self, settle=0.1):
        """The bytes sent to this server until now: every pending connection is taken and every
        socket read until none has had anything for `settle` seconds."""
        while True:
            with contextlib.suppress(BlockingIOError):
                while True:
                    accepted, _ = self.listener.accept()
                    accepted.setblocking(False)
                    self.connections.append(accepted)
            readable, _, _ = select.select([self.listener, *self.connections], [], [], settle)
            if not readable:
                return self.bytes_received
            for sock in readable:
                if sock is not self.listener:
                    self.bytes_received += self.read(sock)

    def read(self, sock):
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return 0
        except ConnectionError:
            data = b""
        if not data:  # the client hung up
            self.connections.remove(sock)
            sock.close()
        return len(data)

    def close(self):
        for sock in self.connections:
            sock.close()
        self.listener.close()


class MotoServer:
    """A real S3 API on this machine: moto's standalone server on a free port, for the
    object-storage tests (django-storages and boto3 talk to it as to any S3-compatible
    service). It keeps its buckets in memory: stopped, they are gone, as an unreachable
    bucket is to the site."""

    region = "us-east-1"
    # moto accepts any keys; boto3 only needs some to sign its requests.
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, seconds=20):
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        # ListBuckets, unsigned: moto answers it once its S3 is up.
        wait_until_answering(self.process, f"{self.url}/", "moto.server", self.log_text, seconds)

    def log_text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def client(self):
        """A boto3 S3 client of this server, to create buckets and look at what the site stored."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=self.credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.credentials["AWS_SECRET_ACCESS_KEY"],
        )

    def site_env(self, bucket):
        """The environment that puts a site's uploaded files in `bucket` on this server."""
        return {
            **self.credentials,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.url,
            "AWS_S3_REGION_NAME": self.region,
        }

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()


class Inbox:
    """aiosmtpd handler: keeps what it receives; while `refusing`, answers DATA with a 451;
    takes `delay` seconds over each message."""

    def __init__(self):
        self.messages = []
        self.refusing = False
        self.delay = 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        if self.refusing:
            return "451 4.3.0 Mailbox busy, try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        # Django folds a long non-ASCII subject after "Subject:"; a mail client shows it without that space.
        subject = parsed["Subject"].strip()
        self.messages.append({"to": sorted(envelope.rcpt_tos), "subject": subject, "message": parsed})
        return "250 OK"
