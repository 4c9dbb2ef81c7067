"""`make faults`: the load check's counts while things break (issue 16, "Measured and reported").

Every scenario runs on servers of its own, started and stopped here, so that nothing shared by other
work on the machine is stopped or flushed: a scratch PostgreSQL cluster (initdb into a temporary
directory, on a free port, run as the postgres OS user), a redis-server per scenario on a free
port, the SMTP servers below, and gunicorn with the repository's gunicorn.conf.py (bench/run.py's
Server). When the site queues its email (`manage.py deliver_mail` exists), the sender runs beside
gunicorn, as `make run` starts it.

Load runs (about 14 s each, after a 3 s warm-up that is not counted). Reader threads GET six pages
in turn as anonymous readers, one request at a time each, timing every answer and noting
X-Page-Cache: the home page, the seeded article, the article that receives the comments, an article
with a comment held for moderation, an article that gets unpublished, and the RSS feed. Posting
clients (bench/nothing_lost.py's Poster: a cookie jar each, the form taken from the page, nothing
retried) post one comment every 0.5 s each, with moderation `all` and COMMENTS_NOTIFY_EMAILS set,
so every comment queues one email to the moderators. The fault comes 4 s in and lasts 3 s; once in
each run, a separate process (`manage.py shell -c`) unpublishes the one article and approves the
held comment ("the change"): every page read after it that still shows the article (its page
answered 200, its title on the home page or in the feed) or lacks the comment is a stale page
served.

1. redis-killed: Redis (no persistence) killed with SIGKILL, the change made while it is down,
   Redis started again (empty).
2. postgres-stopped: the scratch cluster stopped (`pg_ctl -m fast stop`) and started again; the
   change is made once it is back. 503 answers while it is down are by design.
3. mail-closed: the mail server's port refuses connections for the whole run.
4. redis-old-data: Redis with persistence (appendonly) shut down, the change made while it is
   down, Redis started again with its old data: it still holds the pages from before the change.
5. mail-tarpit: the mail server accepts connections and never answers, for the whole run: no
   comment POST and no cached read may wait on it (none may take 2 s, or 80% of EMAIL_TIMEOUT).

Other runs:
6. flood-redis, flood-locmem: COMMENTS_RATE_LIMIT=5/1d (see FLOOD_RATE_LIMIT); five comments from
   one address (303), then 800 GETs of the home page and two articles with made-up `?page=` values,
   then the sixth and seventh comment from that address must answer 429. On Redis, the keys
   (DBSIZE) and the memory (INFO used_memory) the flood added; none may be kept for a made-up page.
   Then the same on the local-memory caches (`make run`'s, one process).
7. duplicates-one-address, duplicates-20-addresses: 20 clients take the form, then send the same
   comment (same email, same text) at the same moment, from one address and then from 20
   (X-Forwarded-For, DJANGO_TRUSTED_PROXIES=1, FORWARDED_ALLOW_IPS=127.0.0.1); the rate limit
   is off. Exactly one row and one 303 each.

Checks, per run: every 303 is exactly one row, nothing is stored for a refused POST and no row
appears that no client sent (bench/nothing_lost.py's counts); every stored comment's email is
delivered or still queued; no stale page; no 5xx to anybody, except 503 while PostgreSQL is down
(and a second after); every request answered; no gunicorn worker timeout. The results go into
bench/NOTHING_LOST.md between the faults markers (text outside them is kept); raw logs into
bench/out/faults/. Exits 1 when a run failed.
"""

import argparse
import collections
import contextlib
import glob
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import nothing_lost as loadcheck

bench = loadcheck.bench
BENCH, ROOT, REPORT = loadcheck.BENCH, loadcheck.ROOT, loadcheck.REPORT
OUT = BENCH / "out" / "faults"
bench.OUT = OUT  # gunicorn's logs go here
BEGIN = "<!-- faults:begin: written by bench/faults.py (make faults); text outside is kept -->"
END = "<!-- faults:end -->"

READ_SLUG, POST_SLUG = loadcheck.READ_SLUG, loadcheck.POST_SLUG
UNPUBLISH_SLUG = "faults-unpublished-during-the-run"
UNPUBLISH_TITLE = "Fault runs: an article unpublished during the run"
APPROVAL_SLUG = "faults-comment-approved-during-the-run"
APPROVED_BODY = "A comment held for moderation and approved during the run."
# The pages the change alters, of those the readers read.
CHANGED_PATHS = ("/", f"/articles/{APPROVAL_SLUG}/", f"/articles/{UNPUBLISH_SLUG}/", "/feed/")
READ_PATHS = [
    "/",
    f"/articles/{READ_SLUG}/",
    f"/articles/{POST_SLUG}/",
    f"/articles/{APPROVAL_SLUG}/",
    f"/articles/{UNPUBLISH_SLUG}/",
    "/feed/",
]
FLOOD_PATHS = ["/", f"/articles/{READ_SLUG}/", f"/articles/{POST_SLUG}/"]
TEMPLATE_DATABASE = "smpinfo_faults_template"
NOTIFY_EMAIL = "moderators@example.com"

FAULT_AT = 4.0  # seconds into a load run
FAULT_SECONDS = 3.0
AFTER_SECONDS = 6.0  # of load after the fault ends (and at least 3 s after the change)
POST_INTERVAL = 0.5  # seconds between one client's comments
READ_PAUSE = 0.01  # seconds between one reader's requests
READ_TIMEOUT = 30
OUTAGE_GRACE = 1.0  # s after PostgreSQL is back during which a 503 is still the outage's
FLOOD_REQUESTS = 800
# The rate limit counts in fixed windows (django-ratelimit: each address's window ends at its own
# moment of the period), so with 5/10m a window ending between the fifth comment and the sixth
# lets the sixth through, flood or not (it happened, about one run in a hundred). A day makes that
# one run in ten thousand; what is checked, counters that outlive the flood, is the same.
FLOOD_RATE_LIMIT = "5/1d"
DUPLICATE_CLIENTS = 20
SLOW_SECONDS = 2.0  # a request this slow waited on something (the tarpit scenario)

STARTED = time.monotonic()


def log(message):
    print(f"[faults {time.monotonic() - STARTED:5.0f} s] {message}", flush=True)


# Servers of our own ------------------------------------------------------------------------------


def as_postgres(command):
    """PostgreSQL refuses to run as root: as root, run `command` as the postgres OS user."""
    return ["runuser", "-u", "postgres", "--", *map(str, command)] if os.geteuid() == 0 else command


def postgres_bindir():
    """Where initdb and pg_ctl are: `pg_config --bindir`, else the newest Debian install."""
    if shutil.which("pg_config"):
        bindir = Path(bench.run(["pg_config", "--bindir"], check=False).strip())
        if (bindir / "initdb").exists():
            return bindir
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL's server programs (initdb, pg_ctl) are not installed.")
    return Path(found[-1]).parent


class ScratchPostgres:
    """A PostgreSQL cluster of our own in `directory`, on a free port: stopping it stops nobody else's."""

    def __init__(self, directory):
        self.directory = directory
        self.data = directory / "data"
        self.port = bench.free_port()
        self.bindir = postgres_bindir()
        self.running = False

    def url(self, name="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def program(self, name, *args):
        bench.run(as_postgres([self.bindir / name, *args]), cwd=self.directory, timeout=120)

    def create(self):
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self.program("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start()
        log(f"scratch PostgreSQL cluster on port {self.port}")

    def start(self):
        # A scratch cluster: durability is not what is measured, speed on a shared machine matters.
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log_file = self.directory / "postgres.log"
        self.program("pg_ctl", "-D", self.data, "-l", log_file, "-o", options, "-w", "-t", "60", "start")
        self.running = True

    def stop(self):
        self.program("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")
        self.running = False

    def remove(self):
        if self.running:
            self.stop()
        with contextlib.suppress(OSError):
            shutil.copy(self.directory / "postgres.log", OUT / "postgres.log")

    def create_database(self, name, template=None):
        bench.psql(self.url(), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        bench.psql(self.url(), f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def drop_database(self, name):
        if self.running:
            bench.psql(self.url(), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class ScratchRedis:
    """A redis-server of our own on a free port; with `persistent`, it keeps its data (append-only
    file) across a shutdown, as a production Redis with persistence does."""

    def __init__(self, directory, name, persistent=False):
        self.directory = directory / f"redis-{name}"
        self.directory.mkdir()
        self.port = bench.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.persistent = persistent
        self.log_path = OUT / f"redis-{name}.log"
        self.log_path.write_text("")
        self.process = None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5)

    def start(self):
        persistence = ("--appendonly", "yes", "--appendfsync", "always") if self.persistent else ()
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--dir", str(self.directory), "--save", "", *persistence]
        with self.log_path.open("a") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, Exception):
                if self.client().ping():
                    return
            time.sleep(0.05)
        raise SystemExit(f"redis-server on port {self.port} did not answer within 10 s")

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def shutdown(self):
        """Stop as an operator would, the data written to disk first."""
        self.client().shutdown()
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.kill()

    def figures(self):
        client = self.client()
        return client.dbsize(), client.info("memory")["used_memory"]


class CountingSMTPServer(socketserver.ThreadingTCPServer):
    """A mail server that accepts every message and counts it: as much SMTP as Django's backend speaks."""

    daemon_threads = True
    allow_reuse_address = True
    description = "a mail server that accepts and counts every message"
    connections = ()

    def __init__(self):
        super().__init__(("127.0.0.1", 0), SMTPConversation)
        self.port = self.server_address[1]
        self.deliveries = 0
        self.message_ids = set()
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def messages(self):
        """Distinct messages received: a message sent again (the same Message-ID) counts once."""
        return len(self.message_ids)

    def received(self, message_id):
        with self.lock:
            self.deliveries += 1
            self.message_ids.add(message_id or f"no-message-id-{self.deliveries}")

    def close(self):
        self.shutdown()
        self.server_close()


class SMTPConversation(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 faults SMTP ready")
        for line in self.rfile:
            verb = line[:4].upper()
            if verb == b"QUIT":
                self.reply("221 bye")
                return
            if verb != b"DATA":
                self.reply("250 ok")
                continue
            self.reply("354 end with a line holding a dot")
            message_id = None
            for data in self.rfile:  # up to the end of the message
                if data == b".\r\n":
                    self.server.received(message_id)
                    self.reply("250 queued")
                    break
                if data.lower().startswith(b"message-id:"):
                    message_id = data.split(b":", 1)[1].strip()


class Tarpit:
    """A mail server that accepts connections and never says a word."""

    description = "a mail server that accepts connections and never answers"

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.connections = []
        self.closed = threading.Event()
        self.messages = 0
        threading.Thread(target=self.hold, daemon=True).start()

    def hold(self):
        while not self.closed.is_set():
            try:
                connection, _address = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(connection)

    def close(self):
        self.closed.set()
        self.listener.close()
        for connection in self.connections:
            connection.close()


class ClosedPort:
    """A mail server that is down: nothing listens on its port, connections are refused."""

    description = "a closed port (connection refused)"
    messages = 0
    connections = ()

    def __init__(self):
        self.port = bench.free_port()

    def close(self):
        pass


MAIL_SERVERS = {"counting": CountingSMTPServer, "closed": ClosedPort, "tarpit": Tarpit}


# The site ------------------------------------------------------------------------------------------


def site_environment(db_url, cache_url, **extra):
    """bench/run.py's site environment (rate limit off, moderation `all`) on our servers, with every
    comment emailed to the moderators; nothing of the caller's page cache or proxy settings."""
    env = bench.site_environment(
        SimpleNamespace(redis_url=cache_url),
        db_url,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        COMMENTS_NOTIFY_EMAILS=NOTIFY_EMAIL,
        **extra,
    )
    for name in [name for name in env if name.startswith("PAGE_CACHE_") or name == "FORWARDED_ALLOW_IPS"]:
        del env[name]
    env.update(extra)
    return env


PREPARE_ARTICLES = f"""
from datetime import timedelta
from django.utils import timezone
from articles.models import Article
from comments.models import Comment
for slug, title, minutes in (({UNPUBLISH_SLUG!r}, {UNPUBLISH_TITLE!r}, 20),
                             ({APPROVAL_SLUG!r}, 'Fault runs: a comment approved during the run', 40)):
    Article.objects.get_or_create(slug=slug, defaults=dict(
        title=title, summary='An article that `make faults` changes during its runs.',
        body='Readers of this article see it change during the fault runs.', status='published',
        published_at=timezone.now() - timedelta(minutes=minutes)))
Comment.objects.get_or_create(
    article=Article.objects.get(slug={APPROVAL_SLUG!r}), body={APPROVED_BODY!r},
    defaults=dict(author_name='Fault runs', author_email='held@example.com', status='pending'))
"""

THE_CHANGE = f"""
from articles.models import Article
from comments.models import Comment
article = Article.objects.get(slug={UNPUBLISH_SLUG!r})
article.status = Article.Status.DRAFT
article.save()
comment = Comment.objects.get(article__slug={APPROVAL_SLUG!r}, body={APPROVED_BODY!r})
comment.status = Comment.Status.APPROVED
comment.save()
"""

SITE_FACTS = """
import json
from django.conf import settings
from django.core.management import get_commands
print("FAULTS " + json.dumps({"email_timeout": settings.EMAIL_TIMEOUT,
                              "mail_queue": "deliver_mail" in get_commands()}))
"""


def prepare(cfg, cleanup):
    """The scratch cluster, and a template database every run copies: migrated, static files
    collected, the seed content, the article that receives comments and the two that change."""
    directory = Path(tempfile.mkdtemp(prefix="smpinfo-faults-"))
    cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
    postgres = ScratchPostgres(directory)
    cleanup.callback(postgres.remove)
    postgres.create()
    db_url = postgres.create_database(TEMPLATE_DATABASE)
    redis = ScratchRedis(directory, "prepare")
    redis.start()
    try:
        env = site_environment(db_url, redis.url, EMAIL_URL="smtp://127.0.0.1:25")
        bench.prepare_database(env, slug=POST_SLUG, title="Fault runs: comments", command="make faults")
        bench.manage(env, "shell", "-c", PREPARE_ARTICLES)
        output = bench.manage(env, "shell", "-c", SITE_FACTS)
        facts = json.loads(re.search(r"^FAULTS (.*)$", output, re.MULTILINE)[1])
        info = bench.machine(SimpleNamespace(redis_url=redis.url), db_url)
    finally:
        redis.stop()
    return SimpleNamespace(
        cfg=cfg,
        directory=directory,
        postgres=postgres,
        info=info,
        mail_queue=facts["mail_queue"],
        email_timeout=facts["email_timeout"],
    )


def start_site(ctx, stack, name, *, mail="counting", redis=True, persistent=False, **extra):
    """A database copied from the template, a Redis (or the local-memory caches), a mail server,
    gunicorn and the mail sender, all stopped by `stack`."""
    database = f"smpinfo_faults_{name.replace('-', '_')}"
    db_url = ctx.postgres.create_database(database, template=TEMPLATE_DATABASE)
    stack.callback(ctx.postgres.drop_database, database)
    cache = None
    if redis:
        cache = ScratchRedis(ctx.directory, name, persistent=persistent)
        stack.callback(cache.stop)
        cache.start()
    mail_server = MAIL_SERVERS[mail]()
    stack.callback(mail_server.close)
    env = site_environment(
        db_url, cache.url if cache else "locmem://", EMAIL_URL=f"smtp://127.0.0.1:{mail_server.port}", **extra
    )
    if not cache:
        env["CACHE_URL"] = "locmem://"
        del env["REDIS_URL"]
    server = bench.Server(name, env)
    stack.callback(server.stop)
    server.start()
    if ctx.mail_queue:
        start_mail_sender(stack, name, env)
    return SimpleNamespace(name=name, db_url=db_url, redis=cache, mail=mail_server, server=server, env=env)


def start_mail_sender(stack, name, env):
    """`manage.py deliver_mail`, as `make run` starts it beside gunicorn."""
    with (OUT / f"deliver_mail-{name}.log").open("w") as output:
        sender = subprocess.Popen(
            [bench.BIN / "python", "manage.py", "deliver_mail", "--interval", "1"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sender.pid, signal.SIGTERM)
        sender.wait(timeout=20)

    stack.callback(stop)


# Load -----------------------------------------------------------------------------------------------


@dataclass
class Read:
    path: str
    started: float  # seconds after the load started
    seconds: float
    status: int | None  # None: no answer
    cache: str  # X-Page-Cache: hit, miss, or "" (not a cached view, or no answer)
    before_change: bool = False  # it showed what the change retires: stale if read after the change


class Timeline:
    """Seconds since the load started, and the moments of what happened during it."""

    def __init__(self):
        self.started = time.monotonic()
        self.marks = {}

    def now(self):
        return time.monotonic() - self.started

    def sleep_until(self, moment):
        time.sleep(max(0.0, moment - self.now()))

    def mark(self, name):
        self.marks[name] = self.now()
        return self.marks[name]


class TheChange:
    """The article unpublished and the comment approved, from a process of its own; what a page
    read after it must show."""

    def __init__(self, name):
        self.name = name
        self.done_at = None
        self.recorded_misses = 0

    def make(self, env, timeline):
        output = bench.manage(env, "shell", "-c", THE_CHANGE, timeout=120)
        (OUT / f"change-{self.name}.log").write_text(output)
        self.recorded_misses = output.count("recorded the invalidation")
        self.done_at = timeline.mark("changed")

    @staticmethod
    def shows_before(read, body):
        """Whether the page read shows the site as it was before the change."""
        if read.status != 200:
            return False
        if read.path == f"/articles/{UNPUBLISH_SLUG}/":
            return True
        if read.path in ("/", "/feed/"):
            return UNPUBLISH_TITLE in body
        if read.path == f"/articles/{APPROVAL_SLUG}/":
            return APPROVED_BODY not in body
        return False

    def is_stale(self, read):
        """Read after the change was made (its process had ended), and still as before it."""
        return read.before_change and self.done_at is not None and read.started >= self.done_at


def get(connection, path):
    connection.request("GET", path, headers={"User-Agent": loadcheck.USER_AGENT})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    return response, body


def read_pages(base_url, number, timeline, stop, reads):
    """One reader: the pages in turn, one request at a time, on a keep-alive connection."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = None
    index = number
    while not stop.is_set():
        path = READ_PATHS[index % len(READ_PATHS)]
        index += 1
        began = time.monotonic()
        status, cache, body = None, "", ""
        try:
            connection = connection or http.client.HTTPConnection(host, int(port), timeout=READ_TIMEOUT)
            response, body = get(connection, path)
            status, cache = response.status, response.getheader("X-Page-Cache", "")
            if response.will_close:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            if connection:
                connection.close()
            connection = None
        read = Read(path, began - timeline.started, time.monotonic() - began, status, cache)
        read.before_change = TheChange.shows_before(read, body)
        reads.append(read)
        stop.wait(READ_PAUSE)


def warm_up(site, seconds=3.0):
    """Every worker's first pages and first comment form, before anything is measured: a worker
    loads its templates and opens its database connections on its first requests (a second or
    more on a busy machine). The comments sent are empty: refused (400), nothing stored."""
    deadline = time.monotonic() + seconds

    def work(number):
        client = one_client(site, 100 + number)
        while time.monotonic() < deadline:
            for path in READ_PATHS:
                bench.http_request(site.server.url + path)
            form = client.fetch_form(client.article_url)
            if form:
                client.send(loadcheck.Post(client.number, 0, ""), form)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def save_raw(name, reads, posts):
    """Every read and POST of a run, one line each, in bench/out/faults/NAME-requests.tsv."""
    lines = ["kind\tpath\tstarted_s\tseconds\tstatus\tx_page_cache\tshows_before_change"]
    lines += [
        f"GET\t{r.path}\t{r.started:.3f}\t{r.seconds:.4f}\t{r.status}\t{r.cache}\t{int(r.before_change)}"
        for r in reads
    ]
    lines += [
        f"POST\t{p.client}-{p.number}\t{p.answered_at - p.seconds:.3f}\t{p.seconds:.4f}\t{p.status}\t\t"
        for p in posts
    ]
    (OUT / f"{name}-requests.tsv").write_text("\n".join(lines) + "\n")


def run_load(ctx, site, script):
    """Readers and posting clients for as long as `script(timeline, change)` runs; the fault and
    the change are the script's."""
    warm_up(site)
    timeline = Timeline()
    change = TheChange(site.name)
    stop = threading.Event()
    reads = []
    run_id = secrets.token_hex(3)
    count = ctx.cfg.posters
    posters = [
        loadcheck.Poster(
            number=number,
            base_url=site.server.url,
            run_id=run_id,
            count=10_000,  # more than the run has time for: the clients post until they are stopped
            first_at=timeline.started + 1.0 + (number - 1) * POST_INTERVAL / count,
            interval=POST_INTERVAL,
            load_started=timeline.started,
            stop=stop,
        )
        for number in range(1, count + 1)
    ]
    readers = [
        threading.Thread(target=read_pages, args=(site.server.url, number, timeline, stop, reads))
        for number in range(ctx.cfg.readers)
    ]
    for thread in [*readers, *(poster.thread for poster in posters)]:
        thread.start()
    try:
        script(timeline, change)
    finally:
        timeline.mark("end")
        stop.set()
        for thread in [*readers, *(poster.thread for poster in posters)]:
            thread.join(timeout=READ_TIMEOUT + 5)
    time.sleep(1)  # a POST that got no answer may still be finishing on the server
    return SimpleNamespace(timeline=timeline, change=change, reads=reads, posters=posters)


# Figures -------------------------------------------------------------------------------------------


def row_cells(rows):
    """The report's "rows" and "303s found exactly once" cells, from comment_figures()."""
    return {"rows": str(rows["rows"]), "matched": f"{rows['once']} of {rows['accepted']}"}


@dataclass
class Outcome:
    """One run's cells in the report's table, its other figures (notes) and what failed."""

    key: str
    title: str
    requests: str
    answers: str
    rows: str
    matched: str  # 303s found exactly once
    stale: str
    p99: str
    notes: list
    failures: list
    extra: dict = field(default_factory=dict)


def fmt_counts(values):
    return loadcheck.fmt_counts(values)


def counts(values):
    """{"200": n, ...} in order; None (no answer) as "no answer"."""
    counter = collections.Counter("no answer" if value is None else str(value) for value in values)
    return dict(sorted(counter.items()))


def p99_ms(seconds):
    return loadcheck.percentile(seconds, 0.99) * 1000


def fmt_ms(value):
    return loadcheck.fmt_ms(value) + " ms" if value == value else "–"


def mail_figures(ctx, site, stored, *, drain):
    """Emails for the `stored` comments: delivered to the mail server or still queued. With
    `drain`, wait (up to 15 s) for the sender to empty the queue first."""
    queued = None
    if ctx.mail_queue:
        deadline = time.monotonic() + (15 if drain else 0)
        while True:
            queued = int(bench.psql(site.db_url, "SELECT count(*) FROM mailer_message"))
            if not queued or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
    delivered = site.mail.messages
    accounted = delivered + (queued or 0)
    return {
        "delivered": delivered,
        "sent_again": getattr(site.mail, "deliveries", delivered) - delivered,
        "queued": queued,
        "lost": max(0, stored - accounted),
        "extra": max(0, accounted - stored),
        "mail_connections": len(site.mail.connections),
    }


def log_failures(problems):
    failures = []
    if problems["worker timeouts"]:
        failures.append(f"{problems['worker timeouts']} gunicorn worker timeouts (a request hung)")
    return failures


def describe_log(problems):
    return (
        f"server log: {problems['POST 303']} POSTs answered 303, {problems['5xx']} answers 5xx, "
        f"{problems['errors']} error lines, {problems['tracebacks']} tracebacks, "
        f"{problems['worker timeouts']} worker timeouts"
    )


def load_outcome(ctx, site, run, *, key, title, what, fault=None, recovered=None, outage_503=False):
    """The figures and the verdict of a load run, the fault lasting from `fault` to `recovered`
    (seconds into the run; without them, the whole run)."""
    reads, posters, change = run.reads, run.posters, run.change
    whole_run = fault is None
    if whole_run:
        fault, recovered = 0.0, run.timeline.marks["end"]
    posts = [post for poster in posters for post in poster.posts]
    save_raw(key, reads, posts)
    rows = loadcheck.comment_figures(posts, loadcheck.stored_comments(site.db_url))
    gets = loadcheck.client_gets(posters)
    problems = loadcheck.server_log_problems(site.server)
    mail = mail_figures(ctx, site, rows["rows"], drain=isinstance(site.mail, CountingSMTPServer))

    def during(started):
        return fault <= started <= recovered

    def by_the_design(status, started):
        """A 5xx the design allows: 503 while PostgreSQL is down."""
        return outage_503 and status == 503 and started <= recovered + OUTAGE_GRACE

    def started(post):
        return post.answered_at - post.seconds

    answered = [read for read in reads if read.status is not None]
    reads_during = [read for read in answered if during(read.started)]
    hits_during = [read for read in reads_during if read.cache == "hit"]
    posts_during = [post for post in posts if post.status and during(started(post))]
    bad_reads = [r for r in answered if r.status >= 500 and not by_the_design(r.status, r.started)]
    bad_posts = [p for p in posts if (p.status or 0) >= 500 and not by_the_design(p.status, started(p))]
    get_statuses = gets["client_gets"].items()
    allowed = {"503"} if outage_503 else set()
    bad_gets = sum(n for s, n in get_statuses if s.isdigit() and int(s) >= 500 and s not in allowed)
    unanswered_gets = sum(n for s, n in get_statuses if not s.isdigit())
    stale = [read for read in reads if change.is_stale(read)]
    judged = [read for read in reads if change.done_at is not None and read.started >= change.done_at]
    # A path never seen as it was before the change would make "no stale page" prove nothing.
    unseen = sorted(
        set(CHANGED_PATHS) - {r.path for r in reads if r.before_change and not change.is_stale(r)}
    )

    failures = loadcheck.row_failures(rows) + log_failures(problems)
    if bad_reads or bad_posts or bad_gets:
        failures.append(
            f"5xx where the design allows none: {len(bad_reads)} reads "
            f"({fmt_counts(counts(r.status for r in bad_reads))}), {len(bad_posts)} POSTs, "
            f"{bad_gets} clients' GETs"
        )
    if len(answered) < len(reads) or unanswered_gets:
        failures.append(
            f"{len(reads) - len(answered)} reads and {unanswered_gets} clients' GETs got no answer"
        )
    if rows["unanswered"]:
        failures.append(f"{rows['unanswered']} POSTs got no answer ({dict(rows['unanswered_errors'])})")
    if stale:
        failures.append(f"{len(stale)} stale pages served ({fmt_counts(counts(r.path for r in stale))})")
    if unseen:
        failures.append(f"never read as it was before the change, so not tested: {', '.join(unseen)}")
    if problems["POST 303"] != rows["accepted"]:
        failures.append(
            f"the server logged {problems['POST 303']} POSTs answered 303, the clients {rows['accepted']}"
        )
    if mail["lost"] or mail["extra"]:
        failures.append(
            f"emails for {rows['rows']} stored comments: {mail['delivered']} delivered, "
            f"{'no queue' if mail['queued'] is None else mail['queued']} queued: "
            f"{mail['lost']} lost, {mail['extra']} too many"
        )
    if not rows["accepted"]:
        failures.append("no comment was accepted: the run proves nothing")

    hits = collections.Counter(read.cache or "none" for read in reads_during)
    around = (
        ""
        if whole_run
        else f" Before the fault p99 {fmt_ms(p99_ms([r.seconds for r in answered if r.started < fault]))}, "
        f"after it {fmt_ms(p99_ms([r.seconds for r in answered if r.started > recovered]))}."
    )
    if mail["queued"] is None:
        mail_note = f"{mail['delivered']} delivered (no queue: each request sends its own)"
    else:
        mail_note = f"{mail['delivered']} delivered, {mail['queued']} still queued"
    if mail.get("sent_again"):
        mail_note += (
            f" ({mail['sent_again']} delivered twice with the same Message-ID: the sender sent it, then "
            "could not record so while the database was down; at least once, never lost)"
        )
    if isinstance(site.mail, Tarpit):
        mail_note += f"; the tarpit held {mail['mail_connections']} connections"
    notes = [
        f"Timeline: {what(run.timeline.marks)}",
        f"Reads {'over the run' if whole_run else 'during the fault'}: "
        f"{fmt_counts(counts(r.status for r in reads_during))}; "
        f"X-Page-Cache {fmt_counts(dict(sorted(hits.items())))}; "
        f"p99 {fmt_ms(p99_ms([r.seconds for r in reads_during]))}, cached hits "
        f"{fmt_ms(p99_ms([r.seconds for r in hits_during]))}.{around}",
        f"POSTs: {fmt_counts(counts(p.status for p in posts))}; {'' if whole_run else 'during the fault '}"
        f"p99 {fmt_ms(p99_ms([p.seconds for p in posts_during]))}, p50 "
        f"{fmt_ms(loadcheck.percentile([p.seconds for p in posts_during], 0.5) * 1000)}. "
        f"Clients' GETs (the form, the page after a 303): {fmt_counts(gets['client_gets'])}.",
        f"Stale pages: {len(stale)} of the {len(judged):,} pages read after the change "
        f"({sum(1 for r in stale if r.cache == 'hit')} of them X-Page-Cache hits); the change's process "
        f"recorded {change.recorded_misses} invalidations the cache missed.",
        f"Emails to the moderators for the {rows['rows']} stored comments: {mail_note}.",
        describe_log(problems) + ".",
    ]
    return Outcome(
        key=key,
        title=title,
        requests=f"{len(reads):,} reads, {rows['sent']} POSTs",
        answers=f"reads {fmt_counts(counts(r.status for r in reads))}; "
        f"POSTs {fmt_counts(counts(p.status for p in posts))}",
        **row_cells(rows),
        stale=str(len(stale)),
        p99=f"reads {fmt_ms(p99_ms([r.seconds for r in reads_during]))}, "
        f"POSTs {fmt_ms(p99_ms([p.seconds for p in posts_during]))}",
        notes=notes,
        failures=failures,
        extra={"hits_during": hits_during, "posts_during": posts_during},
    )


# Load scenarios -----------------------------------------------------------------------------------


def postgres_stopped(ctx):
    with contextlib.ExitStack() as stack:
        site = start_site(ctx, stack, "postgres-stopped")

        def script(timeline, change):
            timeline.sleep_until(FAULT_AT)
            timeline.mark("fault")
            ctx.postgres.stop()
            timeline.mark("stopped")
            timeline.sleep_until(timeline.marks["fault"] + FAULT_SECONDS)
            ctx.postgres.start()
            timeline.mark("recovered")
            change.make(site.env, timeline)
            timeline.sleep_until(max(timeline.marks["recovered"] + AFTER_SECONDS, change.done_at + 3))

        run = run_load(ctx, site, script)
        marks = run.timeline.marks
        return load_outcome(
            ctx,
            site,
            run,
            key="postgres-stopped",
            title="2. PostgreSQL stopped and started again",
            what=lambda m: (
                f"`pg_ctl -m fast stop` at {m['fault']:.1f} s (stopped at {m['stopped']:.1f} s); "
                f"started again, answering at {m['recovered']:.1f} s; the change made after it was back "
                f"(done at {m['changed']:.1f} s); end at {m['end']:.1f} s. 503 is by design while it is down."
            ),
            fault=marks["fault"],
            recovered=marks["recovered"],
            outage_503=True,
        )


def mail_down(ctx, kind):
    """The whole run against a mail server that refuses connections or never answers."""
    key = f"mail-{kind}"
    with contextlib.ExitStack() as stack:
        site = start_site(ctx, stack, key, mail=kind)

        def script(timeline, change):
            timeline.sleep_until(FAULT_AT)
            change.make(site.env, timeline)
            timeline.sleep_until(max(FAULT_AT + FAULT_SECONDS + AFTER_SECONDS, change.done_at + 3))

        run = run_load(ctx, site, script)
        if kind == "closed":
            title = "3. Mail server closed (connection refused)"
        else:
            title = "5. Tarpit mail server (accepts, never answers)"
        outcome = load_outcome(
            ctx,
            site,
            run,
            key=key,
            title=title,
            what=lambda m: (
                f"{site.mail.description} for the whole run ({m['end']:.1f} s); the change made "
                f"mid-run (done at {m['changed']:.1f} s)."
            ),
        )
        if kind == "tarpit":
            slow = min(SLOW_SECONDS, 0.8 * ctx.email_timeout) if ctx.email_timeout else SLOW_SECONDS
            slow_posts = [p for p in outcome.extra["posts_during"] if p.seconds >= slow]
            slow_hits = [r for r in outcome.extra["hits_during"] if r.seconds >= slow]
            outcome.notes.append(
                f"EMAIL_TIMEOUT is {ctx.email_timeout} s: {len(slow_posts)} POSTs and {len(slow_hits)} "
                f"cached reads took {slow:g} s or more."
            )
            if slow_posts or slow_hits:
                outcome.failures.append(
                    f"requests waited on the mail server: {len(slow_posts)} POSTs and {len(slow_hits)} "
                    f"cached reads took {slow:g} s or more"
                )
        return outcome


def redis_down(ctx, persistent):
    """Redis down with the change made meanwhile, then back: killed and empty, or shut down and
    back with its old data (a Redis with persistence)."""
    key = "redis-old-data" if persistent else "redis-killed"
    with contextlib.ExitStack() as stack:
        site = start_site(ctx, stack, key, persistent=persistent)

        def script(timeline, change):
            timeline.sleep_until(FAULT_AT)
            timeline.mark("fault")
            if persistent:
                site.redis.shutdown()
            else:
                site.redis.kill()
            change.make(site.env, timeline)
            timeline.sleep_until(timeline.marks["fault"] + FAULT_SECONDS)
            site.redis.start()
            timeline.mark("recovered")
            timeline.sleep_until(max(timeline.marks["recovered"] + AFTER_SECONDS, change.done_at + 3))

        run = run_load(ctx, site, script)
        marks = run.timeline.marks
        if persistent:
            title = "4. Redis restarted with its old data"
            stopped, back = "Redis (appendonly) shut down", "Redis started again with its data"
        else:
            title = "1. Redis killed (SIGKILL) and started again, empty"
            stopped, back = "Redis killed", "Redis started again, empty,"
        outcome = load_outcome(
            ctx,
            site,
            run,
            key=key,
            title=title,
            what=lambda m: (
                f"{stopped} at {m['fault']:.1f} s; the change made while it was down (done at "
                f"{m['changed']:.1f} s); {back} at {m['recovered']:.1f} s; end at {m['end']:.1f} s."
            ),
            fault=marks["fault"],
            recovered=marks["recovered"],
        )
        if not persistent:
            return outcome
        # The run proves something only if Redis held the pages the change retires.
        unpublished = f"/articles/{UNPUBLISH_SLUG}/"
        cached_before = [
            read
            for read in run.reads
            if read.path == unpublished and read.cache == "hit" and read.started < marks["fault"]
        ]
        outcome.notes.append(
            f"Before the shutdown the article to unpublish was served {len(cached_before)} times from the "
            "cache (X-Page-Cache: hit): Redis came back holding its page."
        )
        if not cached_before:
            outcome.failures.append(
                "the article to unpublish was never cached before the outage: nothing was tested"
            )
        return outcome


# Cache flood and parallel duplicates --------------------------------------------------------------


def one_client(site, number, headers=()):
    """A posting client used by hand (fetch_form, send), not on a schedule."""
    return loadcheck.Poster(
        number=number,
        base_url=site.server.url,
        run_id=site.name,
        count=0,
        first_at=0.0,
        interval=0.0,
        load_started=time.monotonic(),
        stop=threading.Event(),
        headers=headers,
    )


def post_one(client, number, email=""):
    """One comment from `client`, the form taken afresh: the Post, as nothing_lost records it."""
    post = loadcheck.Post(
        client.number, number, f"Fault runs comment {client.run_id}-{client.number}-{number}.", email
    )
    form = client.fetch_form(client.article_url)
    if form is None:
        post.error = "no form"
    else:
        client.send(post, form)
    client.posts.append(post)
    return post


def made_up_page(number):
    """A `?page=` value no page is stored under: out of range, zero-padded, negative, not a number."""
    forms = (
        f"{1000 + number}",
        f"0{number + 1}",
        f"-{number}",
        f"x{number}",
        f"{number}.5",
        f"{10**20 + number}",
    )
    return forms[number % len(forms)]


def flood(site, requests):
    """`requests` GETs with made-up page numbers, from 8 threads: (statuses, seconds)."""
    host, port = site.server.url.removeprefix("http://").split(":")
    queue = list(range(requests))
    lock = threading.Lock()
    statuses, seconds = [], []

    def work():
        connection = http.client.HTTPConnection(host, int(port), timeout=READ_TIMEOUT)
        while True:
            with lock:
                if not queue:
                    break
                number = queue.pop()
            path = f"{FLOOD_PATHS[number % len(FLOOD_PATHS)]}?page={made_up_page(number)}"
            began = time.monotonic()
            try:
                response, _body = get(connection, path)
                statuses.append(response.status)
            except (OSError, http.client.HTTPException):
                statuses.append(None)
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=READ_TIMEOUT)
            seconds.append(time.monotonic() - began)
        connection.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, seconds


def cache_flood(ctx, on_redis):
    key = "flood-redis" if on_redis else "flood-locmem"
    with contextlib.ExitStack() as stack:
        site = start_site(ctx, stack, key, redis=on_redis, COMMENTS_RATE_LIMIT=FLOOD_RATE_LIMIT)
        for path in FLOOD_PATHS:  # the pages that exist, cached before the count starts
            bench.http_request(site.server.url + path)
        client = one_client(site, 1)
        first = [post_one(client, number) for number in range(1, 6)]
        before = site.redis.figures() if on_redis else None
        statuses, seconds = flood(site, FLOOD_REQUESTS)
        after = site.redis.figures() if on_redis else None
        later = [post_one(client, number) for number in range(6, 8)]
        found = loadcheck.stored_comments(site.db_url)
        rows = loadcheck.comment_figures(client.posts, found)
        problems = loadcheck.server_log_problems(site.server)
        workers = f"{site.server.workers} × {site.server.threads}"

    failures = loadcheck.row_failures(rows) + log_failures(problems)
    if [post.status for post in first] != [303] * 5:
        failures.append(f"the first five comments answered {[post.status for post in first]}, not five 303s")
    if [post.status for post in later] != [429, 429]:
        failures.append(
            f"after the flood the sixth and seventh comments answered {[p.status for p in later]}, not 429: "
            "the rate limit was forgotten"
        )
    fives = sum(1 for status in statuses if status is None or status >= 500)
    if fives:
        failures.append(f"{fives} flood requests answered 5xx or not at all")
    if on_redis:
        keys_added, bytes_added = after[0] - before[0], after[1] - before[1]
        if keys_added > 0:
            failures.append(f"the flood added {keys_added} keys to Redis")
        cache_note = (
            f"Redis: {before[0]} keys before the flood, {after[0]} after ({keys_added:+d}); used_memory "
            f"{before[1] / 1e6:.2f} MB before, {after[1] / 1e6:.2f} MB after ({bytes_added / 1e3:+,.0f} kB)."
        )
        cache = f"Redis, gunicorn {workers}"
    else:
        cache_note = (
            "The local-memory caches cannot be counted from outside; the rate limit says whether they held."
        )
        cache = f"the local-memory caches (no REDIS_URL), gunicorn {workers}"
    title = "6a. Cache flood, Redis" if on_redis else "6b. Cache flood, local memory"
    notes = [
        f"On {cache}, `COMMENTS_RATE_LIMIT={FLOOD_RATE_LIMIT}`: five comments from one address "
        f"({fmt_counts(counts(p.status for p in first))}), then {FLOOD_REQUESTS} GETs of "
        f"{', '.join(f'`{path}`' for path in FLOOD_PATHS)} with made-up `?page=` values (`1005`, `06`, `-7`, "
        f"`x8`, `9.5`, `100000000000000000010`, …; 8 connections): {fmt_counts(counts(statuses))}, "
        f"p99 {fmt_ms(p99_ms(seconds))}; then the sixth and seventh comments: "
        f"{fmt_counts(counts(p.status for p in later))}.",
        cache_note,
        describe_log(problems) + ".",
    ]
    return Outcome(
        key=key,
        title=title,
        requests=f"{FLOOD_REQUESTS} GETs, {rows['sent']} POSTs",
        answers=f"GETs {fmt_counts(counts(statuses))}; "
        f"POSTs {fmt_counts(counts(p.status for p in client.posts))}",
        **row_cells(rows),
        stale="–",
        p99=f"GETs {fmt_ms(p99_ms(seconds))}",
        notes=notes,
        failures=failures,
    )


def duplicates(ctx):
    """Both rounds on one server that trusts one proxy (so X-Forwarded-For gives each client its address)."""
    outcomes = []
    with contextlib.ExitStack() as stack:
        site = start_site(
            ctx, stack, "duplicates", DJANGO_TRUSTED_PROXIES="1", FORWARDED_ALLOW_IPS="127.0.0.1"
        )
        for forwarded in (False, True):
            outcomes.append(duplicate_round(site, forwarded))
        problems = loadcheck.server_log_problems(site.server)
    for outcome in outcomes:
        outcome.notes.append(describe_log(problems) + " (both rounds).")
        outcome.failures += log_failures(problems)
    return outcomes


def duplicate_round(site, forwarded):
    label = f"{DUPLICATE_CLIENTS} addresses" if forwarded else "one address"
    tag = secrets.token_hex(3)
    body = f"Fault runs: one comment sent {DUPLICATE_CLIENTS} times at once from {label} ({tag})."
    email = f"duplicate-{tag}@example.com"
    clients = [
        one_client(site, number, (("X-Forwarded-For", f"198.51.100.{number}"),) if forwarded else ())
        for number in range(1, DUPLICATE_CLIENTS + 1)
    ]
    forms = [client.fetch_form(client.article_url) for client in clients]
    posts = [loadcheck.Post(client.number, 1, body, email) for client in clients]
    start = threading.Barrier(len(clients))

    def send(client, post, form):
        start.wait()
        client.send(post, form)

    threads = [threading.Thread(target=send, args=args) for args in zip(clients, posts, forms, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.5)
    stored = loadcheck.stored_comments(site.db_url).get(body, [])
    statuses = counts(post.status for post in posts)
    accepted = sum(1 for post in posts if post.status == 303)
    failures = []
    if None in forms:
        failures.append(f"{forms.count(None)} clients got no form")
    if len(stored) != 1 or accepted != 1:
        failures.append(
            f"{len(stored)} rows and {accepted} answers 303 for one comment sent {DUPLICATE_CLIENTS} times"
        )
    fives = sum(1 for post in posts if post.status is None or post.status >= 500)
    if fives:
        failures.append(f"{fives} POSTs answered 5xx or not at all")
    suffix = "b" if forwarded else "a"
    return Outcome(
        key=f"duplicates-{'20-addresses' if forwarded else 'one-address'}",
        title=f"7{suffix}. {DUPLICATE_CLIENTS} parallel duplicates, {label}",
        requests=f"{DUPLICATE_CLIENTS} POSTs",
        answers=f"POSTs {fmt_counts(statuses)}",
        rows=str(len(stored)),
        matched=f"{min(accepted, len(stored))} of {accepted}",
        stale="–",
        p99=f"POSTs {fmt_ms(p99_ms([post.seconds for post in posts if post.status]))}",
        notes=[
            f"{DUPLICATE_CLIENTS} clients (a cookie jar and a form each"
            + (", X-Forwarded-For 198.51.100.1 to .20" if forwarded else "")
            + ") sent one comment, the same email and text, released together by a barrier: "
            f"{fmt_counts(statuses)}; rows stored: {len(stored)} ({fmt_counts(counts(stored))})."
        ],
        failures=failures,
    )


SCENARIOS = {
    "redis-killed": lambda ctx: redis_down(ctx, persistent=False),
    "postgres-stopped": postgres_stopped,
    "mail-closed": lambda ctx: mail_down(ctx, "closed"),
    "redis-old-data": lambda ctx: redis_down(ctx, persistent=True),
    "mail-tarpit": lambda ctx: mail_down(ctx, "tarpit"),
    "flood-redis": lambda ctx: cache_flood(ctx, on_redis=True),
    "flood-locmem": lambda ctx: cache_flood(ctx, on_redis=False),
    "duplicates": duplicates,
}


# Report -------------------------------------------------------------------------------------------


def render(ctx, outcomes):
    cfg, info = ctx.cfg, ctx.info
    failed = [outcome for outcome in outcomes if outcome.failures]
    verdict = "**passed**" if not failed else f"**FAILED** ({len(failed)} of {len(outcomes)} runs)"
    mail = (
        "the email queue's sender (`manage.py deliver_mail --interval 1`) beside it"
        if ctx.mail_queue
        else "no mail sender (this code has no email queue: a request sends its own email)"
    )
    lines = [
        BEGIN,
        "",
        f"Produced by `{cfg.command}` on {info['date']}. Verdict: {verdict}.",
        "",
        *bench.machine_rows(info, "the Python clients below, on the same machine as the server"),
        f"| servers | a scratch PostgreSQL cluster and a redis-server per run, on free ports; gunicorn with "
        f"`gunicorn.conf.py`, {mail} |",
        "",
        f"Load runs: {cfg.readers} readers (one request at a time each) and {cfg.posters} posting clients "
        f"(a comment every {POST_INTERVAL:g} s each); the fault {FAULT_AT:g} s in, for {FAULT_SECONDS:g} s. "
        '"During the fault": requests started between the fault and the moment the service answered again '
        "(the whole run for the mail servers).",
        "",
        "| run | verdict | requests sent | answers by status | rows | 303s found exactly once | stale pages "
        "| p99 during the fault |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for outcome in outcomes:
        lines.append(
            f"| {outcome.title} | {'passed' if not outcome.failures else 'FAILED'} | {outcome.requests} | "
            f"{outcome.answers} | {outcome.rows} | {outcome.matched} | {outcome.stale} | {outcome.p99} |"
        )
    lines.append("")
    for outcome in outcomes:
        lines += [f"**{outcome.title}**", ""]
        lines += [f"- {note}" for note in outcome.notes]
        if outcome.failures:
            lines.append("- **Failed:** " + "; ".join(outcome.failures) + ".")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


DEFAULT_SECTION = """
## Fault runs

`make faults` (bench/faults.py) runs the counts above while things break.

{auto}
"""


def write_report(text):
    current = REPORT.read_text() if REPORT.exists() else "# Load with nothing lost\n"
    parts = loadcheck.marked_parts(current, BEGIN, END)
    current = parts[0] + text + parts[2] if parts else current + DEFAULT_SECTION.replace("{auto}", text, 1)
    REPORT.write_text(current)
    log(f"results written to {REPORT.relative_to(ROOT)}")


def summary(outcomes):
    lines = ["", "Fault runs"]
    for outcome in outcomes:
        lines.append(f"  {outcome.title}: {'passed' if not outcome.failures else 'FAILED'}")
        lines += [f"      {note}" for note in outcome.notes]
        lines += [f"    ! {failure}" for failure in outcome.failures]
    failed = sum(1 for outcome in outcomes if outcome.failures)
    lines += [f"  verdict: {'passed' if not failed else f'FAILED ({failed} of {len(outcomes)} runs)'}", ""]
    print("\n".join(lines), flush=True)


# Main ---------------------------------------------------------------------------------------------


def parse_config():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated scenarios, of: {', '.join(SCENARIOS)} (a partial run is printed, not written "
        "in bench/NOTHING_LOST.md)",
    )
    parser.add_argument("--readers", type=int, default=4, help="reader threads in the load runs")
    parser.add_argument("--posters", type=int, default=4, help="posting clients in the load runs")
    args = parser.parse_args()
    only = [name for name in args.only.split(",") if name]
    unknown = [name for name in only if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    if args.readers < 1 or args.posters < 1:
        parser.error("--readers and --posters must be at least 1")
    options = sys.argv[1:]
    invoked = (
        "make faults"
        if os.environ.get("MAKELEVEL") and not options
        else " ".join([".venv/bin/python bench/faults.py", *options])
    )
    return SimpleNamespace(only=only, readers=args.readers, posters=args.posters, command=invoked)


def main():
    cfg = parse_config()
    OUT.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("faults: terminated"))
    if shutil.which("wrk") is None:
        bench.wrk_version = lambda: "wrk not installed"  # machine() names it; the fault runs do not use it
    outcomes = []
    with contextlib.ExitStack() as cleanup:
        ctx = prepare(cfg, cleanup)
        log(
            f"mail queue: {'yes, deliver_mail runs beside gunicorn' if ctx.mail_queue else 'no'}; "
            f"EMAIL_TIMEOUT {ctx.email_timeout} s"
        )
        for name, scenario in SCENARIOS.items():
            if cfg.only and name not in cfg.only:
                continue
            log(f"scenario {name}")
            try:
                result = scenario(ctx)
            except (Exception, SystemExit) as error:  # one run that cannot run does not stop the others
                traceback.print_exc()
                result = Outcome(name, name, "–", "–", "–", "–", "–", "–", [], [f"could not run: {error}"])
            for outcome in result if isinstance(result, list) else [result]:
                verdict = "FAILED: " + "; ".join(outcome.failures) if outcome.failures else "passed"
                log(f"{outcome.title}: {verdict}")
                outcomes.append(outcome)
        ctx.info["load_end"] = bench.load_average()
    if not cfg.only:
        write_report(render(ctx, outcomes))
    summary(outcomes)
    return 1 if any(outcome.failures for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
