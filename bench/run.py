"""`make bench`: smpinfo's throughput and latency under gunicorn, on PostgreSQL and Redis.

Runs end to end and stops everything it starts:

1. installs wrk (Debian package) and pyinstrument (into the venv) when missing;
2. creates a scratch PostgreSQL database (or uses DATABASE_URL), migrates, collects static
   files, loads the seed content, an article open for comments and an article with images
   (the seeded article's text and side effects with a featured image and 10 inline images,
   generated pictures made into their renditions as uploads are; files in a scratch
   MEDIA_ROOT);
3. instance A, gunicorn with the repository's gunicorn.conf.py and Redis as cache: rounds of
   the static CSS file, then the article page as anonymous readers get it (cached, however
   the site caches it), the article with images (cached), then (shorter runs) the same page
   and a page with per-request holes (a comment form's tokens) with `Accept-Encoding: gzip,
   br`, alternated; the bytes each reader page sends with no, gzip and br content coding;
   then comment POSTs (bench/post_comment.lua), checked against the database afterwards;
4. instance B, the same with PAGE_CACHE_SECONDS=0 (the page cache off, Redis still the cache)
   and as many processes and threads as A: rounds of the static file, the uncached article
   page and two reference answers (robots.txt: Django with no database and no template;
   /healthz: one `SELECT 1`), alternated;
5. instance E, the embedded default as `make run` serves it (gunicorn.conf.py with no Redis:
   SQLite, local-memory page cache, versions in a file of its own in a temporary directory):
   rounds of its static file and its cached article page, alternated;
6. diagnostics: the time per request
   inside Django (test client), pyinstrument profiles of the uncached and cached article;
   the time a 12-megapixel JPEG takes from upload to renditions (images.processing and
   images.library, in one process, 3 times);
7. a second scratch database with 10,000 articles, 1,000,000 comments and 8 images shown
   on half the articles (generate_demo_data, or BENCH_LARGE_DATABASE_URL), served by a
   dummy-cache instance:
   latency of the home page, the largest thread (first and middle page), the moderation
   queue (logged in) and search, one request at a time; EXPLAIN (ANALYZE, BUFFERS) of the
   slowest queries; then the burst after a release on the same data with the Redis page
   cache: 200 distinct articles, each asked for 3 times, all at once (5xx, latency, renders);
8. the resident memory of every instance's workers when its runs end, and the time each
   phase took;
9. writes the figures into bench/RESULTS.md between its markers (text outside them is kept)
   and raw output into bench/out/, then stops the servers and drops the scratch databases.

Settings (environment): DATABASE_URL (PostgreSQL; default: scratch database smpinfo_bench),
BENCH_LARGE_DATABASE_URL (an existing database with demo data: it is left in place),
BENCH_PG_URL (server for scratch databases, default postgres://postgres@127.0.0.1:5432/postgres),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/1; only this site's keys are removed),
BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_THREADS, BENCH_LARGE_ARTICLES,
BENCH_LARGE_COMMENTS, BENCH_LARGE_IMAGES.
`--quick` is a smoke test (short runs, small data, results in bench/out/).
"""

import argparse
import asyncio
import contextlib
import http.client
import http.cookies
import json
import math
import os
import platform
import re
import runpy
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
BIN = Path(sys.executable).parent
RESULTS = BENCH / "RESULTS.md"
BEGIN = "<!-- bench:begin: written by bench/run.py (make bench); text outside these markers is kept -->"
END = "<!-- bench:end -->"

ARTICLE_SLUG = "side-effects-of-scalp-micropigmentation"
# A seeded article whose thread is open: its cached page has per-request holes (the comment
# form's CSRF token and form token), filled in, and spliced into its gzip, on every hit.
HOLES_SLUG = "what-is-scalp-micropigmentation"
POST_SLUG = "bench-comments"
# An article with images: ARTICLE_SLUG's text and side effects, a featured image and this
# many images embedded in its text, each a generated picture of this size made into its
# renditions as an upload is (files in the run's scratch MEDIA_ROOT).
IMAGES_SLUG = "bench-images"
INLINE_IMAGES = 10
PICTURE_SIZE = (1200, 800)
PICTURE_PREFIX = "bench-picture-"
# The upload timed from its bytes to its renditions written: a 12-megapixel JPEG, this many times.
UPLOAD_SIZE = (4000, 3000)
UPLOAD_REPEATS = 3
BROWSER_ENCODINGS = "gzip, br"
BENCH_ADMIN = "bench-admin"
SEARCH_QUERY = "redness"
# The comment form's two tokens in an article page's HTML.
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_TOKEN_INPUT = re.compile(r'name="form_token" value="([^"]+)"')
# More comment-form tokens than POSTs a second the machine can take (365 at best so far).
FORM_TOKENS_PER_SECOND = 2000
# Issue 15's targets (cached and uncached: shares of the static file's requests a second).
TARGETS = {
    "cached": 0.80,
    "uncached": 0.20,
    "posts": 200,
    "p50_ms": 100,
    "burst_p99_ms": 1000,
    "worker_mb": 150,
    "run_seconds": 600,
    # The cached article with images against the same article without (same rounds).
    "images_share": 0.95,
}
# The burst after a release: this many distinct articles, each asked for this many times, at once.
BURST_PAGES = 200
# Seconds of wrk before an instance's rounds, for each row (a cached page needs one request).
WARM_UP_SECONDS = 1
BURST_REPEAT = 3
# Variables of the site and of gunicorn that must not leak from the caller's shell into the bench.
SITE_VARIABLES = (
    "DJANGO_",
    "COMMENTS_",
    "GUNICORN_",
    "EMAIL_",
    "PAGE_CACHE_",
    "ARTICLES_",
    "ADMIN_LOGIN_",
    "IMAGES_",
    "AWS_",
)
SITE_NAMES = {
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "CACHE_URL",
    "REDIS_URL",
    "WEB_CONCURRENCY",
    "HOST",
    "PORT",
    "DEFAULT_FROM_EMAIL",
    "SERVER_EMAIL",
    "SITE_URL",
    "FORWARDED_ALLOW_IPS",
    "REQUEST_READ_TIMEOUT",
    "MEDIA_ROOT",
    "MEDIA_URL",
}

STARTED = time.monotonic()
PHASES = []  # (name, seconds) of each phase, in the order they ran


def log(message):
    print(f"[bench {time.monotonic() - STARTED:6.0f} s] {message}", flush=True)


@contextlib.contextmanager
def phase(name):
    """Time a phase of the run, for the report's run-time table."""
    started = time.monotonic()
    try:
        yield
    finally:
        PHASES.append((name, time.monotonic() - started))


def run(command, *, env=None, timeout=900, check=True, cwd=ROOT):
    """Run a command, return its stdout; on failure show what it printed."""
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise SystemExit(
            f"Command failed ({result.returncode}): {shlex.join(map(str, command))}\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


# Configuration --------------------------------------------------------------------------------


@dataclass
class Config:
    duration: int
    secondary_duration: int  # s per run of the rows that have no target of their own
    rounds: int
    connections: int
    threads: int
    large_articles: int
    large_comments: int
    large_images: int
    database_url: str
    large_database_url: str
    pg_url: str
    redis_url: str
    results: Path
    quick: bool
    command: str
    media_root: str = ""  # the run's scratch MEDIA_ROOT (main), where uploads' files go


def env_int(name, default):
    return int(os.environ.get(name) or default)


def parse_config():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 s runs, one round, small data")
    args = parser.parse_args()
    quick = args.quick
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url and not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"The bench runs on PostgreSQL; DATABASE_URL is {database_url!r}.")
    changed = [
        f"{name}={os.environ[name]}"
        for name in (
            "DATABASE_URL",
            "BENCH_LARGE_DATABASE_URL",
            "BENCH_PG_URL",
            "BENCH_REDIS_URL",
            "BENCH_DURATION",
            "BENCH_ROUNDS",
            "BENCH_CONNECTIONS",
            "BENCH_THREADS",
            "BENCH_LARGE_ARTICLES",
            "BENCH_LARGE_COMMENTS",
            "BENCH_LARGE_IMAGES",
        )
        if os.environ.get(name)
    ]
    script = ".venv/bin/python bench/run.py" + " --quick" * quick
    invoked = "make bench" if os.environ.get("MAKELEVEL") and not quick else script
    return Config(
        duration=2 if quick else env_int("BENCH_DURATION", 10),
        secondary_duration=1 if quick else max(1, env_int("BENCH_DURATION", 10) // 2),
        rounds=1 if quick else env_int("BENCH_ROUNDS", 3),
        connections=env_int("BENCH_CONNECTIONS", 32),
        threads=env_int("BENCH_THREADS", 2),
        large_articles=200 if quick else env_int("BENCH_LARGE_ARTICLES", 10_000),
        large_comments=20_000 if quick else env_int("BENCH_LARGE_COMMENTS", 1_000_000),
        large_images=4 if quick else env_int("BENCH_LARGE_IMAGES", 8),
        database_url=database_url,
        large_database_url=os.environ.get("BENCH_LARGE_DATABASE_URL", ""),
        pg_url=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"),
        results=OUT / "RESULTS-quick.md" if quick else RESULTS,
        quick=quick,
        command=" ".join([*changed, invoked]),
    )


# Tools and services -----------------------------------------------------------------------------


def ensure_wrk():
    if shutil.which("wrk") is None:
        log("installing wrk (apt-get install -y wrk)")
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, capture_output=True).returncode != 0:
            run(["apt-get", "update", "-q"])
            run(install)


def ensure_tools():
    ensure_wrk()
    if subprocess.run([BIN / "python", "-c", "import pyinstrument"], capture_output=True).returncode != 0:
        log("installing pyinstrument into the venv (profiling only; not a requirement of the site)")
        run([BIN / "python", "-m", "pip", "install", "--quiet", "pyinstrument==5.1.3"])


def check_services(cfg):
    server = urllib.parse.urlsplit(cfg.pg_url)
    ready = ["pg_isready", "-q", "-h", server.hostname or "127.0.0.1", "-p", str(server.port or 5432)]
    if subprocess.run(ready).returncode != 0:
        raise SystemExit(f"PostgreSQL does not answer at {server.hostname}:{server.port}; start it first.")
    import redis

    try:
        redis.Redis.from_url(cfg.redis_url, socket_timeout=5).ping()
    except redis.RedisError as error:
        raise SystemExit(f"Redis does not answer at {cfg.redis_url}: {error}") from None


def clear_site_cache(redis_url, match="smpinfo:*"):
    """Remove this site's keys (KEY_PREFIX "smpinfo", or those matching `match` among them) from
    the bench's Redis database, nothing else; return how many there were."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=match, count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    return len(keys)


# The pages themselves (pagecache.store.page_key, under django-redis's "smpinfo:1:" prefix) and
# their render locks; not the versions, which a deploy keeps.
PAGE_KEYS = "smpinfo:*:readers-page:page:*"


# PostgreSQL ------------------------------------------------------------------------------------


def database_url(cfg, name):
    parts = urllib.parse.urlsplit(cfg.pg_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def psql(url, sql, *, timeout=600):
    return run(
        ["psql", url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], timeout=timeout
    ).strip()


def create_scratch_database(cfg, cleanup, name):
    psql(cfg.pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(cfg.pg_url, f"CREATE DATABASE {name}")
    cleanup.callback(drop_database, cfg, name)
    log(f"created scratch database {name}")
    return database_url(cfg, name)


def drop_database(cfg, name):
    log(f"dropping scratch database {name}")
    psql(cfg.pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# Django and gunicorn ---------------------------------------------------------------------------


def site_environment(cfg, db_url, **extra):
    """The caller's environment without any site setting, plus the bench's (Redis as the
    cache unless `extra` gives REDIS_URL=None: the embedded default's local memory; uploads'
    files in the run's scratch MEDIA_ROOT, never the checkout's media/ or a bucket)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(SITE_VARIABLES) and name not in SITE_NAMES
    }
    env.update(
        DATABASE_URL=db_url,
        REDIS_URL=cfg.redis_url,
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        COMMENTS_RATE_LIMIT="0",
        COMMENTS_MIN_SUBMIT_SECONDS="0",
        COMMENTS_MODERATION="all",
        PYTHONDONTWRITEBYTECODE="1",
        MEDIA_ROOT=getattr(cfg, "media_root", "") or None,
    )
    env.update(extra)
    return {name: value for name, value in env.items() if value is not None}


def manage(env, *args, timeout=900):
    return run([BIN / "python", "manage.py", *args], env=env, timeout=timeout)


def tool(env, *args, timeout=600):
    """Run bench/django_tools.py and return the JSON value of its BENCH-RESULT line."""
    output = run([BIN / "python", BENCH / "django_tools.py", *args], env=env, timeout=timeout)
    return bench_result(output, f"bench/django_tools.py {args[0]}")


def bench_result(output, what):
    for line in reversed(output.splitlines()):
        if line.startswith("BENCH-RESULT "):
            return json.loads(line.removeprefix("BENCH-RESULT "))
    raise SystemExit(f"{what} printed no result:\n{output[-3000:]}")


def in_site(env, function, *args, timeout=600):
    """Call `function` of this file (one of the "In the site's process" functions below) in
    a process of the site (`manage.py shell`, the bench's environment); return its result."""
    call = f"import sys; sys.path.insert(0, 'bench'); import run; run.{function}(*{list(args)!r})"
    return bench_result(manage(env, "shell", "-c", call, timeout=timeout), f"run.{function}")


def gunicorn_processes(env):
    """The workers and threads that gunicorn.conf.py chooses in `env`."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return settings["workers"], settings["threads"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    env: dict
    args: tuple = ()  # extra gunicorn options, after the config file's
    process: subprocess.Popen = None
    port: int = 0
    workers: int = 0
    threads: int = 0
    memory: dict = None  # resident memory when its runs ended (stop)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self):
        return OUT / f"gunicorn-{self.name}.log"

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def start(self):
        self.port = free_port()
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.workers, self.threads = gunicorn_processes(env)
        logfile = self.log_path.open("w")
        self.process = subprocess.Popen(
            [BIN / "gunicorn", "--config", "gunicorn.conf.py", *self.args, "smpinfo.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the master and its workers
        )
        logfile.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_text()[-3000:]
                raise SystemExit(f"gunicorn {self.name} exited ({self.process.returncode}):\n{tail}")
            with contextlib.suppress(OSError):
                if http_request(self.url + "/healthz", timeout=2)[0] == 200:
                    log(f"gunicorn {self.name} is up on port {self.port}: {self.workers} × {self.threads}")
                    return self
            time.sleep(0.2)
        raise SystemExit(f"gunicorn {self.name} did not answer /healthz within 60 s")

    def restarts(self):
        """How many times a worker was recycled (gunicorn's max_requests) so far."""
        return self.log_text().count("Autorestarting worker")

    def resident_memory(self):
        """VmRSS in kB of the master process and of each of its children (the workers), now."""
        workers = {}
        for status_file in Path("/proc").glob("[0-9]*/status"):
            fields = proc_status(status_file)
            if fields.get("PPid") == str(self.process.pid) and "VmRSS" in fields:
                workers[int(fields["Pid"])] = int(fields["VmRSS"].split()[0])
        master = proc_status(Path(f"/proc/{self.process.pid}/status")).get("VmRSS", "0 kB")
        return {"master_kb": int(master.split()[0]), "workers_kb": [workers[pid] for pid in sorted(workers)]}

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        if self.memory is None:
            self.memory = self.resident_memory()
            megabytes = ", ".join(f"{kb * 1024 / 1e6:.0f}" for kb in self.memory["workers_kb"])
            log(f"gunicorn {self.name}: workers' resident memory {megabytes} MB")
        log(f"stopping gunicorn {self.name} (pid {self.process.pid})")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def proc_status(path):
    """The fields of a /proc/<pid>/status file ({} when the process is gone)."""
    try:
        text = path.read_text()
    except OSError:
        return {}
    return {name: value.strip() for name, _, value in (line.partition(":") for line in text.splitlines())}


def http_request(url, *, method="GET", headers=None, body=None, timeout=30, decode=True):
    """One request, no redirects followed: (status, headers as a list, body text, or the bytes
    as sent when `decode` is false: a compressed body stays compressed)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        content = response.read()
        return (
            response.status,
            response.getheaders(),
            content.decode("utf-8", "replace") if decode else content,
        )
    finally:
        connection.close()


# wrk -------------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_status: int
    socket_errors: int
    extra: dict = field(default_factory=dict)


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(cfg, label, url, *, connections=None, threads=None, duration=None, headers=(), script=None, args=()):
    connections = connections or cfg.connections
    threads = min(threads or cfg.threads, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration or cfg.duration}s", "--latency"]
    command += ["--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    command.append(url)
    if args:
        command += ["--", *args]
    output = run(command, timeout=(duration or cfg.duration) + 120)
    with (OUT / "wrk.log").open("a") as raw:
        raw.write(f"$ {shlex.join(map(str, command))}\n{output}\n")
    latency = {
        match[1]: float(match[2]) * UNITS_MS[match[3]]
        for match in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    }
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    extra = re.search(r"^BENCH (.*)$", output, re.MULTILINE)
    result = Result(
        label=label,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        p50_ms=latency.get("50", float("nan")),
        p99_ms=latency.get("99", float("nan")),
        requests=int(re.search(r"(\d+) requests in", output)[1]),
        bad_status=int(bad[1]) if bad else 0,
        socket_errors=sum(int(number) for number in errors.groups()) if errors else 0,
        extra=json.loads(extra[1]) if extra else {},
    )
    log(
        f"{label}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"
        + (f", {result.bad_status} bad statuses" if result.bad_status else "")
        + (f", {result.socket_errors} socket errors" if result.socket_errors else "")
    )
    return result


@dataclass
class Load:
    """A row of alternated rounds: what wrk asks for, with which headers, for how long
    (None: cfg.duration; the rows without a target of their own run cfg.secondary_duration)."""

    label: str
    path: str
    headers: tuple = ()
    duration: int = None


def alternate(cfg, server, loads):
    """Warm up, then `cfg.rounds` rounds running each Load of `loads` in turn."""
    for load in loads:
        wrk(cfg, "warm-up", server.url + load.path, duration=WARM_UP_SECONDS, headers=load.headers)
    rounds = []
    for number in range(1, cfg.rounds + 1):
        rounds.append(
            [
                wrk(
                    cfg,
                    f"{load.label} (round {number})",
                    server.url + load.path,
                    duration=load.duration,
                    headers=load.headers,
                )
                for load in loads
            ]
        )
    return rounds


def median_result(results, label):
    return Result(
        label=label,
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        bad_status=sum(r.bad_status for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )


# Phases ----------------------------------------------------------------------------------------


def prepare_database(env, slug=POST_SLUG, title="Benchmark: comments", command="make bench"):
    """Migrate, collect static files, load the seed content and an article `slug` open for comments."""
    log("migrate, collectstatic, seed_content, and an article open for comments")
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(env, "seed_content")
    manage(
        env,
        "shell",
        "-c",
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from articles.models import Article\n"
        f"article, _ = Article.objects.get_or_create(slug={slug!r}, defaults=dict(\n"
        f"    title={title!r}, summary='An article that receives the comments of `{command}`.',\n"
        f"    body='Comments on this article come from `{command}`.', status='published',\n"
        "    published_at=timezone.now() - timedelta(hours=1)))\n"
        "Article.objects.filter(pk=article.pk).update(comments_open=True, comments_close_at=None)\n",
    )


def static_css_url(server):
    status, _headers, html = http_request(server.url + "/")
    match = re.search(r'href="([^"]*css/site[^"]*\.css)"', html)
    if status != 200 or not match:
        raise SystemExit(f"The home page ({status}) links no css/site*.css")
    return urllib.parse.urlsplit(match[1]).path


def response_headers(server, path):
    status, headers, _body = http_request(server.url + path)
    wanted = {"cache-control", "expires", "vary", "age", "x-cache", "last-modified", "etag"}
    shown = "; ".join(f"{name}: {value}" for name, value in headers if name.lower() in wanted)
    return f"{status}; {shown or 'no caching headers'}"


def prepare_embedded(cfg, cleanup):
    """The embedded default's own SQLite database and versions file, in a temporary directory,
    prepared as `make run` prepares db.sqlite3; returns the environment of instance E."""
    directory = Path(tempfile.mkdtemp(prefix="smpinfo-bench-embedded-"))
    cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
    env = site_environment(
        cfg,
        f"sqlite:///{directory / 'db.sqlite3'}",
        REDIS_URL=None,
        PAGE_CACHE_VERSIONS_FILE=str(directory / "pagecache-versions"),
    )
    log("embedded default: migrate, refresh_article_content, seed_content on SQLite (as make run)")
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "refresh_article_content")
    manage(env, "seed_content")
    return env


# In the site's process (in_site: manage.py shell, the bench's environment) -------------------


def print_result(value):
    print("BENCH-RESULT " + json.dumps(value), flush=True)


def library_picture(rng, number, width, height, prefix=PICTURE_PREFIX, **options):
    """An image of the library made from a generated picture (generate_demo_data's), as an
    upload through the admin makes it: processed into its renditions, its files written; the
    same picture already in the library is used again."""
    import hashlib

    from images import library, processing
    from images.models import Image
    from smpinfo.management.commands.generate_demo_data import demo_picture

    data = demo_picture(rng, width, height, **options)
    image = Image.objects.filter(content_hash=hashlib.sha256(data).hexdigest()).first()
    if image is None:
        name = f"{prefix}{number}.jpg"
        processed = processing.process_bytes(data, name)
        image = Image(alt_text=f"Generated picture {number} of the bench", credit="bench/run.py")
        library.fill_image(image, processed, library.write_files(processed), name)
        image.save()
    return image


def create_images_article():
    """The article IMAGES_SLUG: ARTICLE_SLUG's title (marked), summary, text, side effects,
    byline and topics, with a featured image and INLINE_IMAGES images embedded in its text (one
    after each paragraph in turn), each a picture of its own; thread closed, as ARTICLE_SLUG's.
    Prints its pk and the images' pks."""
    import random

    from articles.models import Article
    from articles.models.article import SideEffect

    article = Article.objects.filter(slug=IMAGES_SLUG).first()
    if article is None:
        source = Article.objects.get(slug=ARTICLE_SLUG)
        rng = random.Random(IMAGES_SLUG)
        featured, *inline = [library_picture(rng, n, *PICTURE_SIZE) for n in range(INLINE_IMAGES + 1)]
        paragraphs = [[paragraph] for paragraph in source.body.split("\n\n")]
        for number, image in enumerate(inline):
            embed = f"![Generated picture {number + 1}](image:{image.pk})"
            paragraphs[number % len(paragraphs)].append(embed)
        article = Article.objects.create(
            title=f"{source.title} (with images)",
            slug=IMAGES_SLUG,
            summary=source.summary,
            body="\n\n".join(block for blocks in paragraphs for block in blocks),
            status=Article.Status.PUBLISHED,
            published_at=source.published_at - timedelta(minutes=2),
            comments_open=False,
            featured_image=featured,
        )
        effects = list(source.side_effects.all())
        for effect in effects:
            effect.pk, effect.article = None, article
        SideEffect.objects.bulk_create(effects)
        article.authors.set(source.authors.all())
        article.topics.set(source.topics.all())
        Article.objects.filter(pk=article.pk).refresh_derived_fields()
    shown = sorted(article.image_links.values_list("image_id", flat=True))
    print_result({"pk": article.pk, "images": shown})


def time_upload(width, height, repeats):
    """Seconds from a JPEG's bytes (width by height, generated, photo-like) to its renditions
    written to the storage: images.processing.process_bytes, then images.library.write_files,
    `repeats` times; the files are removed after each, so that each writes them anew."""
    import random

    from images import library, processing
    from smpinfo.management.commands.generate_demo_data import demo_picture

    data = demo_picture(random.Random("bench-upload"), width, height, quality=90, grain=0.12)
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        processed = processing.process_bytes(data, "upload.jpg")
        processed_at = time.perf_counter()
        stored = library.write_files(processed)
        runs.append({"process": processed_at - started, "write": time.perf_counter() - processed_at})
        library.delete_files(stored.values())
    files = [processed.original, *processed.renditions]
    print_result(
        {
            "bytes": len(data),
            "width": processed.width,
            "height": processed.height,
            "runs": runs,
            "files": len(files),
            "written_bytes": sum(len(file.content) for file in files),
            "widths": sorted({rendition.width for rendition in processed.renditions}),
            "formats": sorted({rendition.format for rendition in processed.renditions}),
        }
    )


def remove_bench_images(slug=IMAGES_SLUG):
    """Delete the article with images and the pictures made for it (an existing DATABASE_URL)."""
    from articles.models import Article
    from images.models import Image

    Article.objects.filter(slug=slug).delete()
    print_result(Image.objects.filter(original_name__startswith=PICTURE_PREFIX).delete()[0])


# Pages whose compressed sizes are reported: (label, path).
SIZED_PAGES = [
    ("article, no holes (thread closed)", f"/articles/{ARTICLE_SLUG}/"),
    ("article with holes (thread open: CSRF and form tokens)", f"/articles/{HOLES_SLUG}/"),
    (
        f"article with a featured image and {INLINE_IMAGES} inline images (thread closed)",
        f"/articles/{IMAGES_SLUG}/",
    ),
    ("home page", "/"),
    ("RSS feed", "/feed/"),
    ("sitemap", "/sitemap.xml"),
]
ENCODINGS = [None, "gzip", "br", BROWSER_ENCODINGS]


def compressed_sizes(server):
    """For each of SIZED_PAGES and each Accept-Encoding of ENCODINGS: the body's bytes as sent,
    the Content-Encoding chosen and X-Page-Cache; each asked twice, the second answer kept (a
    cached page's hit). A compressed body is decoded to check that it is what it claims."""
    import gzip

    import brotli

    decoders = {"gzip": gzip.decompress, "br": brotli.decompress, None: bytes}
    rows = []
    for label, path in SIZED_PAGES:
        row = {"label": label, "path": path, "sizes": {}}
        for accept in ENCODINGS:
            headers = {"Accept-Encoding": accept} if accept else {}
            http_request(server.url + path, headers=headers)
            status, answer_headers, body = http_request(server.url + path, headers=headers, decode=False)
            answer = {name.lower(): value for name, value in answer_headers}
            coding = answer.get("content-encoding")
            try:
                decoded = len(decoders[coding](body)) if coding in decoders else None
            except Exception:
                decoded = None
            row["sizes"][accept] = {
                "status": status,
                "bytes": len(body),
                "coding": coding,
                "decoded": decoded,
                "page_cache": answer.get("x-page-cache", ""),
            }
        rows.append(row)
        sizes = ", ".join(
            f"{accept or 'none'} {size['bytes']:,} ({size['coding'] or 'identity'})"
            for accept, size in row["sizes"].items()
        )
        log(f"sizes of {path}: {sizes}")
    (OUT / "compressed-sizes.json").write_text(json.dumps(rows, indent=1))
    return rows


async def fetch(port, path, headers, start, limit):
    """One GET on a connection of its own once `start` is set: {status, page_cache, path, ms}."""
    await start.wait()
    async with limit:
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 60)
            # One Host for every instance: page keys hold the address (pagecache.store.page_key),
            # so instances on other ports would otherwise never share a page.
            request = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
            request += [f"{name}: {value}" for name, value in headers.items()]
            writer.write(("\r\n".join(request) + "\r\n\r\n").encode())
            answer = await asyncio.wait_for(reader.read(), 60)
            writer.close()
            head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            fields = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in head)
            }
            result = {"status": int(head[0].split()[1]), "page_cache": fields.get("x-page-cache", "")}
        except (OSError, TimeoutError, ValueError, IndexError) as error:
            result = {"status": None, "page_cache": "", "error": f"{type(error).__name__}: {error}"}
        return {**result, "path": path, "ms": (time.perf_counter() - started) * 1000}


def send_at_once(server, paths, headers, *, concurrency=None):
    """GET every path of `paths`, each on a connection of its own: all at once (or `concurrency`
    at a time). One asyncio client: 600 threads cost the shared cores three times its CPU.
    Returns [{path, status, page_cache, ms}] in the order of `paths`, and the seconds until the
    last answer."""

    async def everything():
        start, limit = asyncio.Event(), asyncio.Semaphore(concurrency or len(paths) or 1)
        tasks = [asyncio.create_task(fetch(server.port, path, headers, start, limit)) for path in paths]
        await asyncio.sleep(0.2)  # every task is waiting on `start`
        started = time.perf_counter()
        start.set()
        answers = await asyncio.gather(*tasks)
        return answers, time.perf_counter() - started

    return asyncio.run(everything())


def percentile(values, share):
    """The nearest-rank percentile (`share` 0.5 for the median, 0.99 for p99)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1]


def burst_after_release(cfg, cleanup, db_url, processes):
    """A deploy on the large database, then every page at once.

    Instance "old release" (Redis page cache) reads each of BURST_PAGES distinct articles once,
    so that Redis holds their pages and the versions they depend on, as on a running site, and
    stops. The deploy: the site's page keys are removed from Redis (a new release's pages are
    under a new digest, pagecache.store.release, so none exists yet; the versions stay) and a
    new instance starts with fresh processes. Then each article is asked for BURST_REPEAT
    times, every request at once. A render is an answer marked `X-Page-Cache: miss` (rendered
    and stored) or with no X-Page-Cache (rendered, served uncached).
    """
    slugs = psql(
        db_url,
        "SELECT slug FROM articles_article WHERE status = 'published' AND published_at <= now() "
        f"ORDER BY md5(slug) LIMIT {BURST_PAGES}",
    ).split()
    paths = [f"/articles/{slug}/" for slug in slugs]
    env = site_environment(cfg, db_url, **processes)
    headers = {"Accept-Encoding": BROWSER_ENCODINGS}
    clear_site_cache(cfg.redis_url, PAGE_KEYS)
    old = Server("burst-old-release", env)
    cleanup.callback(old.stop)
    old.start()
    log(f"burst: the old release reads {len(paths)} articles once")
    warmed, warm_seconds = send_at_once(old, paths, headers, concurrency=8)
    old.stop()
    removed = clear_site_cache(cfg.redis_url, PAGE_KEYS)
    log(f"burst: deploy: {removed} page keys removed from Redis, new instance starting")
    new = Server("burst-new-release", env)
    cleanup.callback(new.stop)
    new.start()
    requests = [path for _ in range(BURST_REPEAT) for path in paths]
    answers, seconds = send_at_once(new, requests, headers)
    # A second look once the burst is over: every page should now be a hit.
    after, _ = send_at_once(new, paths, headers, concurrency=8)
    # The floor of this way of measuring: as many requests at once for an answer with nothing to
    # render (no database, no template), on the same instance.
    floor, floor_seconds = send_at_once(new, ["/robots.txt"] * len(requests), headers)
    new.stop()
    (OUT / "burst.json").write_text(json.dumps(answers, indent=0))
    renders = {}
    for answer in answers:
        if answer["status"] is not None and answer["status"] < 400 and answer["page_cache"] != "hit":
            renders[answer["path"]] = renders.get(answer["path"], 0) + 1
    latencies = [answer["ms"] for answer in answers]
    statuses = {}
    for answer in answers:
        key = str(answer["status"]) if answer["status"] is not None else "connection error"
        statuses[key] = statuses.get(key, 0) + 1
    burst = {
        "server": new,
        "old_server": old,
        "pages": len(paths),
        "requests": len(answers),
        "warm_ok": sum(answer["status"] == 200 for answer in warmed),
        "warm_seconds": warm_seconds,
        "removed": removed,
        "seconds": seconds,
        "statuses": statuses,
        "server_errors": sum(1 for answer in answers if (answer["status"] or 0) >= 500),
        "connection_errors": sum(1 for answer in answers if answer["status"] is None),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "outcomes": {
            name: sum(answer["page_cache"] == name for answer in answers) for name in ("miss", "hit", "")
        },
        "renders": sum(renders.values()),
        "pages_rendered_more_than_once": sum(1 for count in renders.values() if count > 1),
        "most_renders": max(renders.values(), default=0),
        "hits_after": sum(answer["page_cache"] == "hit" for answer in after),
        "by_outcome": {
            name: [answer["ms"] for answer in answers if answer["page_cache"] == name and answer["status"]]
            for name in ("miss", "hit")
        },
        "floor": {
            "requests": len(floor),
            "ok": sum(answer["status"] == 200 for answer in floor),
            "seconds": floor_seconds,
            "p50_ms": percentile([answer["ms"] for answer in floor], 0.5),
            "p99_ms": percentile([answer["ms"] for answer in floor], 0.99),
        },
    }
    log(
        f"burst: {burst['requests']} requests for {burst['pages']} pages in {seconds:.2f} s: {statuses}, "
        f"p50 {burst['p50_ms']:.0f} ms, p99 {burst['p99_ms']:.0f} ms, {burst['renders']} renders "
        f"({burst['outcomes']}), then {burst['hits_after']}/{len(after)} hits"
    )
    return burst


def comment_form(server):
    """The csrftoken cookie, the form's CSRF token and its form_token, as a reader's browser gets them.

    A cached page gets both tokens filled in for each request (articles/page_cache.py).
    """
    path = f"/articles/{POST_SLUG}/"
    status, headers, html = http_request(server.url + path)
    cookies = http.cookies.SimpleCookie()
    for name, value in headers:
        if name.lower() == "set-cookie":
            cookies.load(value)
    csrf, token = CSRF_INPUT.search(html), FORM_TOKEN_INPUT.search(html)
    if status != 200 or "csrftoken" not in cookies or not csrf or not token:
        raise SystemExit(f"GET {path} ({status}) gave no csrftoken cookie, CSRF token or form_token")
    return cookies["csrftoken"].value, csrf[1], token[1]


def count_bench_comments(db_url):
    return int(
        psql(
            db_url,
            "SELECT count(*) FROM comments_comment c JOIN articles_article a ON a.id = c.article_id "
            f"WHERE a.slug = '{POST_SLUG}'",
        )
    )


def bench_posts(cfg, server, db_url):
    cookie, csrf, form_token = comment_form(server)
    fields = {
        "csrfmiddlewaretoken": csrf,
        "form_token": form_token,
        "author_name": "Bench preflight",
        "author_email": f"bench-preflight-{secrets.token_hex(4)}@example.com",
        "body": "One comment before the load, to check the form is accepted.",
        "honeypot": "",
    }
    status, _headers, body = http_request(
        f"{server.url}/articles/{POST_SLUG}/comments/",
        method="POST",
        headers={"Cookie": f"csrftoken={cookie}", "Content-Type": "application/x-www-form-urlencoded"},
        body=urllib.parse.urlencode(fields),
    )
    if status != 303:
        raise SystemExit(f"A single comment POST answered {status}, not 303:\n{body[:2000]}")
    # Form tokens are single-use: each POST takes its own, made for this browser beforehand.
    tokens = OUT / "form-tokens.txt"
    count = FORM_TOKENS_PER_SECOND * cfg.duration
    tool(server.env, "form-tokens", POST_SLUG, cookie, str(count), str(tokens))
    before = count_bench_comments(db_url)
    run_id = secrets.token_hex(3)
    # Posting stops at a whole Unix second (the Lua script can only read whole seconds); wrk
    # goes on a few seconds more, idle, so that every answer in flight arrives.
    launched = time.time()
    deadline = int(launched) + cfg.duration
    window = deadline - launched
    threads = min(cfg.threads, cfg.connections)
    result = wrk(
        cfg,
        "comment POST (wrk's req/s includes the idle tail)",
        f"{server.url}/articles/{POST_SLUG}/comments/",
        threads=threads,
        duration=cfg.duration + 4,
        script=BENCH / "post_comment.lua",
        args=[
            f"/articles/{POST_SLUG}/comments/",
            cookie,
            csrf,
            str(tokens),
            str(threads),
            run_id,
            str(deadline),
        ],
    )
    time.sleep(1)
    stored = count_bench_comments(db_url) - before
    by_status = psql(
        db_url,
        "SELECT string_agg(status || ' ' || n, ', ') FROM (SELECT c.status, count(*) AS n "
        "FROM comments_comment c WHERE c.author_email LIKE 'bench-" + run_id + "-%' GROUP BY 1) s",
    )
    duplicates = int(
        psql(
            db_url,
            "SELECT count(*) FROM (SELECT author_email FROM comments_comment WHERE author_email LIKE "
            f"'bench-{run_id}-%' GROUP BY 1 HAVING count(*) > 1) d",
        )
    )
    extra = result.extra
    posts = {
        "result": result,
        "see_other": extra.get("see_other", 0),
        "other": extra.get("other", 0),
        "other_statuses": extra.get("other_statuses", {}),
        "seconds": window,
        "stored": stored,
        "by_status": by_status or "none",
        "duplicates": duplicates,
    }
    posts["rate"] = posts["see_other"] / window
    posts["ok"] = (
        posts["other"] == 0
        and result.bad_status == 0
        and stored == posts["see_other"]
        and posts["see_other"] + posts["other"] == result.requests
        and duplicates == 0
    )
    log(
        f"comment POST: {posts['rate']:.0f}/s, {posts['see_other']} answered 303, {posts['other']} other, "
        f"{stored} stored ({posts['by_status']}), {duplicates} duplicates"
    )
    return posts


def profile_article(env, name, requests):
    log(f"profiling the {name} article view (pyinstrument, Django test client, {requests} requests)")
    prefix = OUT / f"profile-article-{name}"
    summary = tool(env, "profile", f"/articles/{ARTICLE_SLUG}/", str(requests), prefix)
    return summary, Path(f"{prefix}-flat.txt").read_text()


def largest_thread(db_url):
    """(slug, comments readers see, top-level comments) of the article with the most comments
    readers see, from the counts each article stores (the thread's pages count top-level ones)."""
    row = psql(
        db_url,
        "SELECT slug || '|' || approved_comment_count || '|' || approved_top_level_count "
        "FROM articles_article ORDER BY approved_comment_count DESC LIMIT 1",
    )
    slug, shown, top_level = row.split("|")
    return slug, int(shown), int(top_level)


KEY_PLAN_LINE = re.compile(
    r"(Scan|Sort|Limit|Aggregate|Join|Nested Loop|Gather|Execution Time|Planning Time|Rows Removed|"
    r"Index Cond|Recheck Cond|Filter:|Hash Cond|Heap Fetches|SubPlan|InitPlan)"
)


def explain(db_url, sql, name):
    plan = psql(db_url, f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
    (OUT / f"explain-{name}.txt").write_text(f"{sql}\n\n{plan}\n")
    lines = [line.rstrip() for line in plan.splitlines() if KEY_PLAN_LINE.search(line)]
    return lines[:24]


THREAD_ROW = "largest thread"


def bench_large(cfg, cleanup, base_env):
    generating = time.monotonic()
    db_url = cfg.large_database_url or create_scratch_database(cfg, cleanup, "smpinfo_bench_large")
    env = site_environment(cfg, db_url, CACHE_URL="dummy://", **base_env)
    manage(env, "migrate", "--noinput", "-v", "0")
    if cfg.large_database_url:
        log("large data: using BENCH_LARGE_DATABASE_URL as it is")
        generated = "an existing database (BENCH_LARGE_DATABASE_URL)"
    else:
        arguments = ["--articles", cfg.large_articles, "--comments", cfg.large_comments]
        arguments += ["--images", cfg.large_images]
        command = shlex.join(["generate_demo_data", *map(str, arguments)])
        log(command)
        started = time.monotonic()
        output = manage(env, "generate_demo_data", *arguments, timeout=3600)
        (OUT / "generate_demo_data.log").write_text(output)
        generated = f"`{command}` in {time.monotonic() - started:.0f} s"
        log(f"demo data generated in {time.monotonic() - started:.0f} s")

    sizes = psql(
        db_url,
        "SELECT (SELECT count(*) FROM articles_article) || ' articles, ' || "
        "(SELECT count(*) FROM comments_comment) || ' comments, ' || "
        "(SELECT count(*) FROM comments_comment WHERE status = 'pending') || ' pending, ' || "
        "(SELECT count(*) FROM images_image) || ' images, the featured image of ' || "
        "(SELECT count(*) FROM articles_article WHERE featured_image_id IS NOT NULL) || "
        "' articles, shown by ' || "
        "(SELECT count(DISTINCT article_id) FROM articles_articleimage) || ' articles in all'",
    )
    slug, approved, top_level = largest_thread(db_url)
    last = max(1, (top_level + 49) // 50)
    middle = max(1, last // 2)
    PHASES.append(
        ("large data: scratch database, migrate, generate_demo_data", time.monotonic() - generating)
    )
    session = tool(env, "session", BENCH_ADMIN)
    if cfg.large_database_url:
        cleanup.callback(
            manage,
            env,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model\n"
            "from django.contrib.sessions.models import Session\n"
            f"Session.objects.filter(pk={session!r}).delete()\n"
            f"get_user_model().objects.filter(username={BENCH_ADMIN!r}).delete()",
        )
    pages = [
        ("home page", "/", None),
        (f"{THREAD_ROW}, page 1 ({approved:,} shown, {top_level:,} top-level)", f"/articles/{slug}/", None),
        (f"{THREAD_ROW}, page {middle}", f"/articles/{slug}/?page={middle}", None),
        (f"{THREAD_ROW}, last page ({last})", f"/articles/{slug}/?page={last}", None),
        ("moderation queue, page 1 (logged in)", "/admin/comments/comment/", f"sessionid={session}"),
        (f"search ?q={SEARCH_QUERY}", f"/search/?q={SEARCH_QUERY}", None),
    ]
    server = Server("large-uncached", env)
    cleanup.callback(server.stop)
    measuring = time.monotonic()
    server.start()
    rows = []
    for label, path, cookie in pages:
        headers = [f"Cookie: {cookie}"] if cookie else []
        status = http_request(server.url + path, headers=dict(h.split(": ", 1) for h in headers))[0]
        if status != 200:
            log(f"{label}: {path} answers {status}; not measured")
            rows.append({"label": label, "path": path, "status": status, "result": None})
            continue
        wrk(cfg, f"warm-up {label}", server.url + path, connections=1, threads=1, duration=1, headers=headers)
        result = wrk(
            cfg,
            label,
            server.url + path,
            connections=1,
            threads=1,
            duration=cfg.secondary_duration,
            headers=headers,
        )
        rows.append({"label": label, "path": path, "status": status, "result": result})
    server.stop()
    measured = time.monotonic() - measuring
    PHASES.append((f"large data: latency of {len(pages)} pages, one connection", measured))

    with phase("large data: the burst after a release (Redis page cache)"):
        burst = burst_after_release(cfg, cleanup, db_url, base_env)
    explaining = time.monotonic()

    log("SQL of each page, and EXPLAIN (ANALYZE, BUFFERS) of the slow ones")
    anonymous = [row["path"] for row in rows if row["status"] == 200 and "admin" not in row["path"]]
    admin = [row["path"] for row in rows if row["status"] == 200 and "admin" in row["path"]]
    captured = tool(env, "queries", *anonymous) if anonymous else []
    if admin:
        captured += tool(env, "queries", "--user", BENCH_ADMIN, *admin)
    by_path = {page["url"]: page for page in captured}
    for number, row in enumerate(rows, start=1):
        page = by_path.get(row["path"])
        row["queries"] = page["queries"] if page else []
        row["explains"] = []
        # The thread's pages: their comment queries always, to show the plan stays index-only.
        thread = row["label"].startswith(THREAD_ROW)
        slow = [
            query
            for query in row["queries"]
            if query["ms"] >= 5 or (thread and "comments_comment" in query["sql"])
        ][:3]
        slow_page = row["result"] is not None and row["result"].p50_ms >= TARGETS["p50_ms"]
        if not slow and slow_page and row["queries"]:
            slow = row["queries"][:1]
        for index, query in enumerate(slow, start=1):
            row["explains"].append(
                {
                    "sql": query["sql"],
                    "ms": query["ms"],
                    "plan": explain(db_url, query["sql"], f"{number}-{index}"),
                }
            )
    PHASES.append(("large data: SQL of each page, EXPLAIN of the slow ones", time.monotonic() - explaining))
    return {
        "generated": generated,
        "sizes": sizes,
        "rows": rows,
        "workers": (server.workers, server.threads),
        "server": server,
        "burst": burst,
    }


# Results ---------------------------------------------------------------------------------------


def machine(cfg, db_url):
    import django
    import gunicorn
    import redis

    meminfo = Path("/proc/meminfo").read_text()
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo)[1])
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    debian = Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "?"
    commit = run(["git", "rev-parse", "--short", "HEAD"], check=False).strip() or "?"
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no"], check=False).strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu[1].strip() if cpu else '?'}; `nproc` = {run(['nproc']).strip()}",
        "memory": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "os": f"Debian {debian}, Linux {platform.release()}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "postgresql": psql(db_url, "SHOW server_version"),
        "redis": redis.Redis.from_url(cfg.redis_url).info("server")["redis_version"],
        "wrk": wrk_version(),
        "commit": commit + (" with uncommitted changes" if dirty else ""),
        "load": load_average(),
    }


def machine_rows(info, load_tool):
    """The Markdown table of the machine a run measured, shared by every bench report."""
    return [
        "| machine | |",
        "|---|---|",
        f"| CPU | {info['cpu']} |",
        f"| memory | {info['memory']} |",
        f"| system | {info['os']} |",
        f"| Python / Django / gunicorn | {info['python']} / {info['django']} / {info['gunicorn']} |",
        f"| PostgreSQL / Redis | {info['postgresql']} / {info['redis']} |",
        f"| load tool | {load_tool} |",
        f"| code | {info['commit']} |",
        f"| load average (1, 5, 15 min) | {info['load']} before, {info['load_end']} after |",
    ]


def load_average():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wrk_version():
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    first = (result.stdout + result.stderr).strip().splitlines()
    return first[0].split(" [")[0] if first else "wrk"


def fmt_row(name, result, *, ratio=None, note=""):
    errors = result.bad_status + result.socket_errors
    ratio_text = f"{ratio:.0%}" if ratio is not None else ""
    return (
        f"| {name} | {result.rps:,.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | {errors} | "
        f"{ratio_text}{' ' if ratio_text and note else ''}{note} |"
    )


def flat_profile_lines(flat, count):
    """pyinstrument's flat listing without its banner."""
    lines = [line.rstrip() for line in flat.splitlines()]
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("Profile at")), 0)
    return [line for line in lines[start:] if line][:count]


def category_rows(uncached, cached):
    cached = dict(cached)
    rows = []
    for name, share in uncached:
        other = cached.pop(name, 0.0)
        if share >= 0.5 or other >= 0.5:
            rows.append(f"| {name} | {share:.0f}% | {other:.0f}% |")
    rows += [f"| {name} | 0% | {share:.0f}% |" for name, share in cached.items() if share >= 0.5]
    return rows


def verdict(ok):
    return "**met**" if ok else "**not met**"


def round_table(instance):
    """Every round's req/s of one instance's alternated loads."""
    loads = instance["loads"]
    lines = [
        "| round | " + " | ".join(load.label for load in loads) + " |",
        "|---|" + "---:|" * len(loads),
    ]
    for number, results in enumerate(instance["rounds"], start=1):
        lines.append(f"| {number} | " + " | ".join(f"{result.rps:,.0f}" for result in results) + " |")
    return lines


def medians(instance):
    """{load label: median Result over the rounds}."""
    return {
        load.label: median_result([results[index] for results in instance["rounds"]], load.label)
        for index, load in enumerate(instance["loads"])
    }


def target_note(ratio, target):
    return f"≥ {target:.0%}: {verdict(ratio >= target)}"


def seconds_note(cfg, load):
    return f" ({load.duration} s runs)" if load.duration and load.duration != cfg.duration else ""


def render(cfg, info, report, servers, run_seconds):
    a, b, e = report["a"], report["b"], report["e"]
    posts, profile, large = report["posts"], report["profile"], report["large"]
    lines = [BEGIN, ""]
    lines += [
        f"Produced by `{cfg.command}` on {info['date']}"
        + (" (smoke test: not representative)." if cfg.quick else "."),
        "",
        *machine_rows(info, f"{info['wrk']}, on the same machine"),
        "",
        f"wrk: {cfg.threads} threads, {cfg.connections} connections, {cfg.duration} s per run for the rows "
        f"with a target and {cfg.secondary_duration} s for the others (marked), after a "
        f"{WARM_UP_SECONDS} s warm-up each, {cfg.rounds} alternated rounds per instance (medians below; "
        "every round in bench/out/wrk.log). Errors = non-2xx/3xx answers + socket errors. wrk sends no "
        "`Accept-Encoding` unless a row says so.",
        "",
    ]
    # Throughput.
    ma, mb, me = medians(a), medians(b), medians(e)
    la, lb, le = a["loads"], b["loads"], e["loads"]
    static_a, cached, with_images, cached_br, holes_br = (ma[load.label] for load in la)
    images_share = with_images.rps / cached.rps
    round_shares = [results[2].rps / results[1].rps for results in a["rounds"]]
    static_b, uncached, robots, healthz = (mb[load.label] for load in lb)
    static_e, cached_e = (me[load.label] for load in le)
    cached_ratio = cached.rps / static_a.rps
    uncached_ratio = uncached.rps / static_b.rps
    embedded_ratio = cached_e.rps / static_e.rps
    lines += [
        "### Throughput",
        "",
        f"Instance A: `gunicorn.conf.py` as the README recommends, Redis cache → "
        f"{a['server'].workers} processes × {a['server'].threads} threads. Instance B: the same with "
        f"`PAGE_CACHE_SECONDS=0` (the page cache off; Redis is still the cache), "
        f"{b['server'].workers} × {b['server'].threads} (`WEB_CONCURRENCY`, `GUNICORN_THREADS`). "
        f"Instance E: the embedded default as `make run` serves it, `gunicorn.conf.py` with no "
        f"`REDIS_URL` or `CACHE_URL` → {e['server'].workers} process × {e['server'].threads} threads, "
        "SQLite (a scratch file prepared as `make run` prepares db.sqlite3), pages in the process's "
        "local memory and their versions in a memory-mapped file (`PAGE_CACHE_VERSIONS_FILE`, here a "
        "file of its own in a temporary directory). Each ratio is against the static file of the same "
        "instance in the same rounds. B's last two rows are references for the uncached page: the "
        "cheapest answers Django gives through the same middleware, without and with one database "
        "round trip.",
        "",
        "| what | req/s | p50 ms | p99 ms | errors | of static / target |",
        "|---|---:|---:|---:|---:|---|",
        fmt_row(f"A: static `{a['css']}`", static_a),
        fmt_row(
            f"A: article `/articles/{ARTICLE_SLUG}/`, cached",
            cached,
            ratio=cached_ratio,
            note=target_note(cached_ratio, TARGETS["cached"]),
        ),
        fmt_row(
            f"A: article with a featured image and {INLINE_IMAGES} inline images `/articles/{IMAGES_SLUG}/` "
            "(the same text and side effects), cached",
            with_images,
            ratio=with_images.rps / static_a.rps,
            note=f"(of the article without images: {images_share:.0%} "
            f"{target_note(images_share, TARGETS['images_share'])})",
        ),
        fmt_row(
            f"A: the same, `Accept-Encoding: {BROWSER_ENCODINGS}` (Brotli stored with the page)"
            + seconds_note(cfg, la[3]),
            cached_br,
            ratio=cached_br.rps / static_a.rps,
        ),
        fmt_row(
            f"A: article with holes `/articles/{HOLES_SLUG}/` (thread open: CSRF and form tokens filled "
            f"in per request), cached, `Accept-Encoding: {BROWSER_ENCODINGS}` (gzip spliced per request)"
            + seconds_note(cfg, la[4]),
            holes_br,
            ratio=holes_br.rps / static_a.rps,
        ),
        fmt_row("B: static (same file)", static_b),
        fmt_row(
            "B: article, uncached",
            uncached,
            ratio=uncached_ratio,
            note=target_note(uncached_ratio, TARGETS["uncached"]),
        ),
        fmt_row(
            "B: `/robots.txt` (no database, no template)" + seconds_note(cfg, lb[2]),
            robots,
            ratio=robots.rps / static_b.rps,
        ),
        fmt_row(
            "B: `/healthz` (one `SELECT 1`, JSON)" + seconds_note(cfg, lb[3]),
            healthz,
            ratio=healthz.rps / static_b.rps,
        ),
        fmt_row("E: static (same file)", static_e),
        fmt_row(
            "E: article, cached",
            cached_e,
            ratio=embedded_ratio,
            note=target_note(embedded_ratio, TARGETS["cached"]),
        ),
        "",
        "Per round (req/s):",
        "",
        *round_table(a),
        "",
        *round_table(b),
        "",
        *round_table(e),
        "",
        f"The article with images is the seeded article `/articles/{ARTICLE_SLUG}/` (its text, side "
        f"effects, byline and topic, thread closed) with a featured image and {INLINE_IMAGES} images "
        "embedded in its text, each a generated picture of its own "
        f"({PICTURE_SIZE[0]} × {PICTURE_SIZE[1]}, made into its renditions at setup as an upload is), "
        "all rendered into `<picture>` elements with AVIF, WebP and JPEG `srcset`s when the article "
        "is saved (its bytes: compressed sizes below). wrk asks for the page alone, as it does for the "
        "other rows: the image files a browser then fetches from /media/ are not part of these "
        f"figures. Against the article without images, round by round: "
        f"{', '.join(f'{share:.0%}' for share in round_shares)}.",
        "",
        f"Article response headers: A: {a['headers']}. B: {b['headers']}. E: {e['headers']}.",
        "",
        f"Worker restarts during these rounds (gunicorn.conf.py recycles none unless "
        f"GUNICORN_MAX_REQUESTS is set): A {a['restarts']}, B {b['restarts']}, E {e['restarts']}.",
        "",
    ]
    lines += compression_section(report["sizes"], cached_br, holes_br, static_a, profile[3])
    # Posts.
    result = posts["result"]
    lines += [
        "### Comment POSTs (instance A, PostgreSQL)",
        "",
        f"`bench/post_comment.lua`: each POST a new reader (unique email and text), the CSRF cookie and "
        f"token from the article page, a signed single-use `form_token` of its own made for that "
        f"browser, empty honeypot; "
        f"`COMMENTS_RATE_LIMIT=0`, `COMMENTS_MIN_SUBMIT_SECONDS=0`, moderation `all`. Posting for "
        f"{posts['seconds']:.2f} s, then wrk waits for the answers in flight.",
        "",
        "| POST/s | p50 ms | p99 ms | answers | 303 | other answers | socket errors | new rows in the DB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {posts['rate']:,.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | {result.requests:,} | "
        f"{posts['see_other']:,} | {posts['other']:,} {posts['other_statuses'] or ''} | "
        f"{result.socket_errors} | {posts['stored']:,} ({posts['by_status']}) |",
        "",
        f"Every 303 stored exactly once (new rows = 303 answers = all answers, no email twice): "
        f"{verdict(posts['ok'])}. Target ≥ {TARGETS['posts']} POST/s with zero errors: "
        f"{verdict(posts['ok'] and posts['rate'] >= TARGETS['posts'] and result.socket_errors == 0)}.",
        "",
    ]
    # Large data.
    workers, threads = large["workers"]
    lines += [
        "### Latency on 10,000 articles and 1,000,000 comments (uncached)",
        "",
        f"Data: {large['generated']}: {large['sizes']}. Dummy-cache instance, {workers} × {threads}; "
        f"wrk with **one connection** ({cfg.secondary_duration} s per page after a 1 s warm-up), so the "
        "latency is the page's own, not queueing. Queries: the page fetched once in-process (Django test "
        "client), each statement timed.",
        "",
        "| page | status | req/s | p50 ms | p99 ms | queries | SQL ms (slowest) | p50 < 100 ms |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in large["rows"]:
        result = row["result"]
        total = sum(query["ms"] for query in row["queries"])
        slowest = f"{total:.1f} ({row['queries'][0]['ms']:.1f})" if row["queries"] else "–"
        if result is None:
            note = "not available yet" if row["status"] == 404 else "error"
            lines.append(f"| {row['label']} `{row['path']}` | {row['status']} | – | – | – | – | – | {note} |")
            continue
        lines.append(
            f"| {row['label']} `{row['path']}` | {row['status']} | {result.rps:,.1f} | {result.p50_ms:.1f} | "
            f"{result.p99_ms:.1f} | {len(row['queries'])} | {slowest} | "
            f"{verdict(result.p50_ms < TARGETS['p50_ms'])} |"
        )
    lines.append("")
    explains = [(row, item) for row in large["rows"] for item in row["explains"]]
    if explains:
        lines += [
            "#### Slow queries (≥ 5 ms, or the slowest of a page over 100 ms), and the comment queries of "
            "the largest thread's pages: EXPLAIN (ANALYZE, BUFFERS)",
            "",
            "Key lines; full plans in bench/out/explain-*.txt.",
            "",
        ]
        for row, item in explains:
            sql = item["sql"] if len(item["sql"]) <= 600 else item["sql"][:600] + " …"
            lines += [
                f"**{row['label']}** — {item['ms']:.1f} ms:",
                "",
                "```sql",
                sql,
                "```",
                "```",
                *item["plan"],
                "```",
                "",
            ]
    lines += burst_section(large["burst"])
    # Profile.
    summary, flat, article_queries, in_process, cached_summary = profile
    sql_ms = sum(query["ms"] for query in article_queries)
    lines += [
        "### Time per request inside Django",
        "",
        "Django's test client in one process, 500 GETs each after a warm-up (no gunicorn, no network, "
        "no wrk on the same cores): what a request costs in the application itself. The client keeps "
        "the CSRF cookie it is given, as a returning reader's browser does (wrk sends none).",
        "",
        "| request | ms per request |",
        "|---|---:|",
        f"| static CSS (Redis-cache settings) | {in_process['static']:.2f} |",
        f"| article, cached (Redis) | {in_process['cached']:.2f} |",
        f"| article with a featured image and {INLINE_IMAGES} inline images `/articles/{IMAGES_SLUG}/`, "
        f"cached (Redis) | {in_process['images']:.2f} |",
        f"| the same, `Accept-Encoding: {BROWSER_ENCODINGS}` (stored Brotli) | "
        f"{in_process['cached_compressed']:.2f} |",
        f"| article with holes `/articles/{HOLES_SLUG}/`, cached (Redis): tokens filled in, sent "
        f"uncompressed | {in_process['holes']:.2f} |",
        f"| the same, `Accept-Encoding: {BROWSER_ENCODINGS}` (gzip spliced around the tokens) | "
        f"{in_process['holes_compressed']:.2f} |",
        f"| article, cached (embedded default: local memory, versions file; SQLite) | "
        f"{in_process['embedded_cached']:.2f} |",
        f"| article, uncached (`PAGE_CACHE_SECONDS=0`) | {in_process['uncached']:.2f} |",
        "| of a cached article: the Redis round trip its hit no longer makes, the copies being kept in "
        "process memory (`cache.get_many` of the page and its two versions) | "
        f"{in_process['round_trip']:.2f} |",
        "",
        *upload_section(report["upload"]),
        "### Profile of the uncached article view",
        "",
        f"pyinstrument, {summary['requests']} GETs of `/articles/{ARTICLE_SLUG}/` through Django's test "
        f"client in one process (page cache off, PostgreSQL): {summary['ms_unprofiled']:.1f} ms per request "
        f"without the profiler, {summary['ms_per_request']:.1f} ms with it (no gunicorn, no network). "
        f"The page runs {len(article_queries)} SQL queries, {sql_ms:.1f} ms "
        "in all (timed around each cursor.execute). Own time by kind of code (built-ins and "
        "lazy-object helpers counted with their caller), beside the same for "
        f"{cached_summary['requests']:,} cached hits "
        "(Redis settings; call trees in bench/out/profile-article-*.txt):",
        "",
        "| where | uncached | cached |",
        "|---|---:|---:|",
        *category_rows(summary["categories"], cached_summary["categories"]),
        "",
        "Functions of the uncached view by own time (seconds over all requests):",
        "",
        "```",
        *flat_profile_lines(flat, 25),
        "```",
        "",
        *memory_section(servers),
        *run_time_section(cfg, run_seconds),
        END,
    ]
    return "\n".join(lines)


def size_cell(size, identity):
    if size["status"] != 200:
        return f"{size['status']}"
    if size["coding"] and size["decoded"] is None:
        return f"{size['bytes']:,} ({size['coding']}, **does not decode**)"
    share = f", {size['bytes'] / identity:.0%}" if size["coding"] and identity else ""
    return f"{size['bytes']:,} ({size['coding'] or 'identity'}{share})"


def compression_section(sizes, cached_br, holes_br, static, in_process):
    lines = [
        "### Compressed sizes (instance A)",
        "",
        "Bytes of the body as sent (headers not counted) for each `Accept-Encoding`, and in brackets the "
        "`Content-Encoding` the server chose (identity: none) with the share of the uncompressed size. "
        "Each page was asked for twice with each header and the second answer kept (a cached page's "
        "hit); every compressed body was decoded to check it (raw figures in "
        "bench/out/compressed-sizes.json).",
        "",
        f"| page | X-Page-Cache | no Accept-Encoding | gzip | br | {BROWSER_ENCODINGS} (a browser) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in sizes:
        identity = row["sizes"][None]["bytes"] if row["sizes"][None]["status"] == 200 else 0
        outcomes = sorted({size["page_cache"] or "–" for size in row["sizes"].values()})
        cells = " | ".join(size_cell(row["sizes"][accept], identity) for accept in ENCODINGS)
        lines.append(f"| {row['label']} `{row['path']}` | {', '.join(outcomes)} | {cells} |")
    lines += [
        "",
        f"The cost of holes, from the throughput rows and the time per request below: with "
        f"`Accept-Encoding: {BROWSER_ENCODINGS}`, the cached page with holes answers "
        f"{holes_br.rps:,.0f} req/s ({holes_br.rps / static.rps:.0%} of the static file) and the cached page "
        f"without holes {cached_br.rps:,.0f} ({cached_br.rps / static.rps:.0%}); in one process a hit of the "
        f"page with holes costs {in_process['holes_compressed']:.2f} ms as spliced gzip and "
        f"{in_process['holes']:.2f} ms uncompressed, the page without holes "
        f"{in_process['cached_compressed']:.2f} ms as stored Brotli and {in_process['cached']:.2f} ms "
        "uncompressed. The two pages differ in size (table above), so the same page's two figures give "
        "the cost of splicing, and the two pages' figures the cost of filling in the tokens.",
        "",
    ]
    return lines


def burst_section(burst):
    floor = burst["floor"]
    renders_ok = burst["renders"] == burst["pages"] and burst["most_renders"] <= 1
    outcomes = burst["outcomes"]
    statuses = ", ".join(f"{status}: {count:,}" for status, count in sorted(burst["statuses"].items()))
    return [
        "### The burst after a release (large data, Redis page cache)",
        "",
        "On the same large database (above), `gunicorn.conf.py` with Redis, "
        f"{burst['server'].workers} × {burst['server'].threads}. As on a running site, an instance of the "
        f"old release first read {burst['pages']:,} distinct articles once ({burst['warm_ok']:,} answered "
        f"200, 8 at a time, {burst['warm_seconds']:.1f} s), so that Redis held their pages and the "
        f"versions they depend on, and stopped. The deploy: the site's {burst['removed']:,} page keys were "
        "removed from Redis (a new release's pages are kept under a new digest of the code and templates, "
        "`pagecache.store.release`, so none of them exists yet; the versions stay), and a new instance "
        f"started with fresh processes. Then each article was asked for {BURST_REPEAT} times, "
        f"{burst['requests']:,} requests at once: one connection each, all opened together by one asyncio "
        f"client (`Accept-Encoding: {BROWSER_ENCODINGS}`); a request's time runs from its connect to the "
        "last byte of its answer. A render is an answer marked "
        "`X-Page-Cache: miss` (rendered and stored) or with no X-Page-Cache (rendered, not stored); the "
        "requests that waited for another's render answer `hit`. Every answer in bench/out/burst.json.",
        "",
        "| requests | answers | 5xx | connection errors | p50 ms | p99 ms | slowest ms | "
        "last answer after s | renders | renders per page |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {burst['requests']:,} ({burst['pages']:,} pages × {BURST_REPEAT}) | {statuses} | "
        f"{burst['server_errors']} | {burst['connection_errors']} | {burst['p50_ms']:.0f} | "
        f"{burst['p99_ms']:.0f} | {burst['max_ms']:.0f} | {burst['seconds']:.2f} | {burst['renders']:,} | "
        f"{burst['renders'] / max(burst['pages'], 1):.2f} |",
        "",
        f"Answers: {outcomes['miss']:,} miss, {outcomes['hit']:,} hit, {outcomes['']:,} with no "
        f"X-Page-Cache; {burst['pages_rendered_more_than_once']:,} pages rendered more than once (at most "
        f"{burst['most_renders']} times). Read again after the burst, {burst['hits_after']:,} of "
        f"{burst['pages']:,} pages were hits.",
        "",
        *(
            f"- {label}: {len(times):,} answers, p50 {percentile(times, 0.5):.0f} ms, p99 "
            f"{percentile(times, 0.99):.0f} ms, fastest {min(times, default=float('nan')):.0f} ms."
            for label, times in (
                ("Rendered (`miss`)", burst["by_outcome"]["miss"]),
                (
                    "Waited for another request's render, or found the page stored (`hit`)",
                    burst["by_outcome"]["hit"],
                ),
            )
        ),
        f"- The floor of this measure, on the same instance right after: {floor['requests']:,} requests at "
        f"once for `/robots.txt` (no database, no template): {floor['ok']:,} answered 200, all within "
        f"{floor['seconds']:.2f} s, p50 {floor['p50_ms']:.0f} ms, p99 {floor['p99_ms']:.0f} ms.",
        "",
        f"Targets: no 5xx: {verdict(burst['server_errors'] == 0 and burst['connection_errors'] == 0)}; p99 < "
        f"{TARGETS['burst_p99_ms'] / 1000:.0f} s: {verdict(burst['p99_ms'] < TARGETS['burst_p99_ms'])}; one "
        f"render per page, not one per request: {verdict(renders_ok)}.",
        "",
    ]


def upload_section(upload):
    runs = upload["runs"]
    totals = [run["process"] + run["write"] for run in runs]
    width, height = upload["width"], upload["height"]
    widths = ", ".join(str(width) for width in upload["widths"])
    names = {"avif": "AVIF", "webp": "WebP", "jpeg": "JPEG", "png": "PNG"}
    formats = ", ".join(name for kind, name in names.items() if kind in upload["formats"])
    renditions = upload["files"] - 1
    return [
        f"### A {width * height / 1e6:.0f}-megapixel upload to its renditions",
        "",
        f"In one process of the site (`manage.py shell` with the bench's settings), a generated {width} × "
        f"{height} JPEG (photo-like: patches of colour with finer detail and grain over them, quality 90; "
        f"{upload['bytes'] / 1e6:.1f} MB) through `images.processing.process_bytes` (decoded, turned "
        "upright, metadata left behind, the clean full-size copy and every rendition encoded) and then "
        "`images.library.write_files` (to the file system: the run's scratch MEDIA_ROOT, on the "
        f"checkout's disk), {len(runs)} time{'s' if len(runs) != 1 else ''}, its files removed after each: "
        "what an editor waits for "
        "once the upload has reached the server. The picture is made before the clock starts.",
        "",
        "| upload | files written | process_bytes s | write_files s | total s (median) | each run s |",
        "|---|---|---:|---:|---:|---|",
        f"| {width} × {height} JPEG, {upload['bytes'] / 1e6:.1f} MB | {upload['files']}: the full-size "
        f"copy and {renditions} renditions ({formats} at {widths} px), "
        f"{upload['written_bytes'] / 1e6:.1f} MB | "
        f"{statistics.median(run['process'] for run in runs):.2f} | "
        f"{statistics.median(run['write'] for run in runs):.3f} | {statistics.median(totals):.2f} | "
        f"{', '.join(f'{total:.2f}' for total in totals)} |",
        "",
    ]


def memory_section(servers):
    rows, worst = [], 0.0
    for server in servers:
        if not server.memory:
            continue
        workers = [kb * 1024 / 1e6 for kb in server.memory["workers_kb"]]
        worst = max([worst, *workers])
        rows.append(
            f"| {server.name} | {server.workers} × {server.threads} | "
            f"{', '.join(f'{mb:.0f}' for mb in workers)} | {max(workers, default=0):.0f} | "
            f"{server.memory['master_kb'] * 1024 / 1e6:.0f} |"
        )
    return [
        "### Memory: each worker's resident memory when its instance's runs ended",
        "",
        "`VmRSS` from `/proc/<pid>/status` of the gunicorn master's children (its workers), read just "
        "before the instance was stopped; MB = 10⁶ bytes. The master (which loads the site before forking, "
        "`preload_app`) is shown apart: it serves no request.",
        "",
        "| instance | workers × threads | each worker MB | max MB | master MB |",
        "|---|---|---|---:|---:|",
        *rows,
        "",
        f"Target: every worker < {TARGETS['worker_mb']} MB: {verdict(worst < TARGETS['worker_mb'])} "
        f"(largest {worst:.0f} MB).",
        "",
    ]


def run_time_section(cfg, run_seconds):
    minutes, seconds = divmod(round(run_seconds), 60)
    return [
        "### Run time",
        "",
        f"This run took {run_seconds:.0f} s ({minutes} min {seconds:02d} s) from start to the scratch "
        f"databases dropped; target for `make bench` < {TARGETS['run_seconds']} s: "
        f"{verdict(run_seconds < TARGETS['run_seconds'])}. To stay under it with the new rows, the rows "
        "without a target of their own (A's compressed rows, B's robots.txt and /healthz, the large-data "
        f"latency rows) run {cfg.secondary_duration} s per round instead of {cfg.duration} s, every row "
        f"warms up for {WARM_UP_SECONDS} s (2 s before), and the profiles take half the requests of earlier "
        "runs (150 uncached, 500 cached); the rows with a target keep their full runs and rounds, and "
        "the large data its full size. The images' share of the run: the article with images' row (full "
        f"runs: it has a target), its {INLINE_IMAGES + 1} pictures made at setup, the "
        f"{UPLOAD_SIZE[0] * UPLOAD_SIZE[1] / 1e6:.0f}-megapixel upload ({UPLOAD_REPEATS} times) and the "
        f"large data's {cfg.large_images} pictures (generate_demo_data records the images each article "
        "shows in bulk, so that storing the pages of 10,000 articles costs no more with images than "
        "without).",
        "",
        "| phase | s |",
        "|---|---:|",
        *(f"| {name} | {seconds:.0f} |" for name, seconds in PHASES),
        "",
    ]


DEFAULT_RESULTS = """# Benchmarks

`make bench` runs bench/run.py; the figures below are written by it.

{auto}

## What limits throughput now

(To be written from the figures above.)
"""


def write_results(cfg, text):
    path = cfg.results
    if path.exists() and BEGIN in path.read_text():
        current = path.read_text()
        before, rest = current.split(BEGIN, 1)
        after = rest.split(END, 1)[1] if END in rest else ""
        path.write_text(before + text + after)
    else:
        path.write_text(DEFAULT_RESULTS.format(auto=text))
    log(f"results written to {path.relative_to(ROOT)}")


# Main ------------------------------------------------------------------------------------------

SECRET_KEY = secrets.token_urlsafe(50)  # throwaway: sessions and form tokens of this run only


def started_server(name, env, cleanup):
    """A gunicorn instance of the site, started, and stopped by `cleanup` at the latest."""
    server = Server(name, env)
    cleanup.callback(server.stop)
    server.start()
    return server


def measured_rounds(cfg, server, loads, page):
    """`loads` run on `server` in alternated rounds, with the article's headers and the
    workers restarted meanwhile: what the report says of one instance."""
    return {
        "server": server,
        "loads": loads,
        "headers": response_headers(server, page),
        "rounds": alternate(cfg, server, loads),
        "restarts": server.restarts(),  # after the rounds
    }


def main():
    cfg = parse_config()
    OUT.mkdir(exist_ok=True)
    (OUT / "wrk.log").write_text("")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))

    with contextlib.ExitStack() as cleanup:
        with phase(
            "setup: tools, services, scratch database, migrate, collectstatic, seed, "
            f"the article with {INLINE_IMAGES + 1} images"
        ):
            ensure_tools()
            check_services(cfg)
            cleanup.callback(clear_site_cache, cfg.redis_url)
            clear_site_cache(cfg.redis_url)
            cfg.media_root = tempfile.mkdtemp(prefix="smpinfo-bench-media-")
            cleanup.callback(shutil.rmtree, cfg.media_root, ignore_errors=True)
            db_url = cfg.database_url or create_scratch_database(cfg, cleanup, "smpinfo_bench")
            env = site_environment(cfg, db_url)
            if cfg.database_url:
                cleanup.callback(
                    manage,
                    env,
                    "shell",
                    "-c",
                    "from articles.models import Article; "
                    f"Article.objects.filter(slug={POST_SLUG!r}).delete()",
                )
                cleanup.callback(in_site, env, "remove_bench_images")
            prepare_database(env)
            log(f"an article with a featured image and {INLINE_IMAGES} inline images (generated pictures)")
            images_article = in_site(env, "create_images_article")
            info = machine(cfg, db_url)

        page = f"/articles/{ARTICLE_SLUG}/"
        holes_page = f"/articles/{HOLES_SLUG}/"
        images_page = f"/articles/{IMAGES_SLUG}/"
        browser = (f"Accept-Encoding: {BROWSER_ENCODINGS}",)
        # A: the recommended configuration, pages cached however the site caches them.
        with phase("A (Redis): alternated rounds, compressed sizes"):
            server_a = started_server("A-cached", env, cleanup)
            css = static_css_url(server_a)
            loads = [
                Load("A static", css),
                Load("A article cached", page),
                Load("A article with images cached", images_page),
                Load("A article cached, gzip, br", page, browser, cfg.secondary_duration),
                Load("A article with holes cached, gzip, br", holes_page, browser, cfg.secondary_duration),
            ]
            a = {**measured_rounds(cfg, server_a, loads, page), "css": css, "images": images_article}
            sizes = compressed_sizes(server_a)
        with phase("A: comment POSTs, VACUUM"):
            posts = bench_posts(cfg, server_a, db_url)
            server_a.stop()
            # The POSTs leave thousands of new rows: vacuum and analyze them now, not autovacuum
            # during B's first round (which once ran at half the speed of the next two).
            psql(db_url, "VACUUM (ANALYZE)")

        # B: nothing cached, the same processes and threads as A.
        processes = {"WEB_CONCURRENCY": str(server_a.workers), "GUNICORN_THREADS": str(server_a.threads)}
        with phase("B (page cache off): alternated rounds"):
            env_b = site_environment(cfg, db_url, PAGE_CACHE_SECONDS="0", **processes)
            server_b = started_server("B-uncached", env_b, cleanup)
            loads = [
                Load("B static", css),
                Load("B article uncached", page),
                Load("B robots.txt", "/robots.txt", duration=cfg.secondary_duration),
                Load("B healthz", "/healthz", duration=cfg.secondary_duration),
            ]
            b = measured_rounds(cfg, server_b, loads, page)
            server_b.stop()

        # E: the embedded default, as `make run` serves it (gunicorn.conf.py chooses its processes).
        with phase("E (embedded default): SQLite database, alternated rounds"):
            env_e = prepare_embedded(cfg, cleanup)
            server_e = started_server("E-embedded", env_e, cleanup)
            loads = [Load("E static", css), Load("E article cached", page)]
            e = measured_rounds(cfg, server_e, loads, page)
            server_e.stop()

        with phase("in process: profiles, time per request"):
            # Half the requests of earlier runs: the profiler's own reports take longer than the
            # requests (about 20 s per 150 uncached ones), and the shares hardly move.
            profile = profile_article(env_b, "uncached", 150)
            cached_profile = profile_article(env, "cached", 500)[0]
            article_queries = tool(env_b, "queries", page)[0]["queries"]
            log("time per request in-process: static file, cached and uncached article, compressed, holes")
            redis_timing = tool(env, "timing", "500", css, page, holes_page, images_page)
            compressed_timing = tool(
                env, "timing", "--accept-encoding", BROWSER_ENCODINGS, "500", page, holes_page
            )
            in_process = {
                "static": redis_timing[css],
                "cached": redis_timing[page],
                "images": redis_timing[images_page],
                "cached_compressed": compressed_timing[page],
                "holes": redis_timing[holes_page],
                "holes_compressed": compressed_timing[holes_page],
                "embedded_cached": tool(env_e, "timing", "500", page)[page],
                "uncached": tool(env_b, "timing", "500", page)[page],
                "round_trip": tool(env, "cache-round-trip", page, "2000"),
            }
        megapixels = UPLOAD_SIZE[0] * UPLOAD_SIZE[1] / 1e6
        with phase(f"in process: a {megapixels:.0f}-megapixel upload to its renditions"):
            log(f"a {UPLOAD_SIZE[0]}×{UPLOAD_SIZE[1]} JPEG to its renditions, {UPLOAD_REPEATS} times")
            upload = in_site(env, "time_upload", *UPLOAD_SIZE, 1 if cfg.quick else UPLOAD_REPEATS)
        large = bench_large(cfg, cleanup, processes)
        info["load_end"] = load_average()
        profile = (*profile, article_queries, in_process, cached_profile)
        servers = [server_a, server_b, server_e, large["server"], large["burst"]["old_server"]]
        servers.append(large["burst"]["server"])
        closing = time.monotonic()
    PHASES.append(("stopping servers, dropping the scratch databases", time.monotonic() - closing))
    run_seconds = time.monotonic() - STARTED
    report = {"a": a, "b": b, "e": e, "sizes": sizes, "posts": posts, "profile": profile, "large": large}
    report["upload"] = upload
    write_results(cfg, render(cfg, info, report, servers, run_seconds))
    log(f"done in {run_seconds:.0f} s")


if __name__ == "__main__":
    main()
