"""`make loadcheck`: read articles at full speed while posting a known number of comments; lose nothing.

Runs end to end on PostgreSQL and gunicorn, and stops everything it starts:

1. a scratch PostgreSQL database (smpinfo_loadcheck): migrate, collectstatic, seed_content and one
   article open for comments; Redis database 2 (LOADCHECK_REDIS_URL) is flushed and used as the
   cache; gunicorn serves the site with the repository's gunicorn.conf.py (a throwaway secret key,
   COMMENTS_RATE_LIMIT=0, COMMENTS_MIN_SUBMIT_SECONDS=0, DJANGO_ALLOWED_HOSTS=127.0.0.1);
2. for a fixed time, at the same time:
   - wrk reads the two article pages (the seeded one and the open one, in turn) at full speed,
     counting every answer's status (bench/read_articles.lua);
   - several posting clients (Python threads, standard library only, each with its own cookie jar)
     each take the comment form from the article page (csrftoken cookie, csrfmiddlewaretoken,
     form_token) and POST exactly their share of comments, spread over the run, each with a unique
     body and email. After each 303 a client follows the redirect as a browser does, which also
     gives it the next form. Nothing is retried: every POST's answer is recorded as it came;
3. checks: no 5xx anywhere (wrk's reads, the POSTs, the clients' GETs, the server's log), every
   POST answered 303, every comment that got a 303 in the database exactly once, nothing stored for
   a refused POST, no row that no client sent;
4. stops gunicorn, drops the scratch database, flushes the Redis database, prints a summary and
   writes it into bench/NOTHING_LOST.md between its markers (text outside them is kept).
   Exits 1 if anything was lost, duplicated, refused or answered 5xx.

Settings (environment, or the options below): LOADCHECK_DURATION (s, default 20), LOADCHECK_CLIENTS
(8), LOADCHECK_COMMENTS (comments per client, 50), LOADCHECK_CONNECTIONS (wrk, 32), LOADCHECK_THREADS
(wrk, 2), LOADCHECK_PG_URL (server for the scratch database, default
postgres://postgres@127.0.0.1:5432/postgres), LOADCHECK_REDIS_URL (default redis://127.0.0.1:6379/2;
the whole Redis database is flushed before and after). Raw output: bench/out/loadcheck/.
"""

import argparse
import collections
import contextlib
import http.client
import http.cookiejar
import importlib.util
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
REPORT = BENCH / "NOTHING_LOST.md"
BEGIN = "<!-- loadcheck:begin: written by bench/nothing_lost.py (make loadcheck); text outside is kept -->"
END = "<!-- loadcheck:end -->"
RUNS_BEGIN = "<!-- loadcheck:runs: one row per run, newest first, appended by bench/nothing_lost.py -->"
RUNS_END = "<!-- loadcheck:runs-end -->"
KEEP_RUNS = 12

READ_SLUG = "side-effects-of-scalp-micropigmentation"
POST_SLUG = "loadcheck-comments"
DATABASE_NAME = "smpinfo_loadcheck"
USER_AGENT = "smpinfo-loadcheck/1 (bench/nothing_lost.py)"
REQUEST_TIMEOUT = 30


def load_bench_run():
    """bench/run.py as a module (it is a script, not a package): its Server, wrk, psql, manage..."""
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = load_bench_run()
CSRF_INPUT, FORM_TOKEN_INPUT = bench.CSRF_INPUT, bench.FORM_TOKEN_INPUT
# Gunicorn's log and wrk's raw output go to a directory of their own, not beside `make bench`'s.
OUT = BENCH / "out" / "loadcheck"
bench.OUT = OUT

STARTED = time.monotonic()


def log(message):
    print(f"[loadcheck {time.monotonic() - STARTED:5.0f} s] {message}", flush=True)


# Configuration --------------------------------------------------------------------------------


def parse_config():
    env_int = bench.env_int
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=env_int("LOADCHECK_DURATION", 20), help="seconds")
    parser.add_argument("--clients", type=int, default=env_int("LOADCHECK_CLIENTS", 8))
    parser.add_argument("--comments", type=int, default=env_int("LOADCHECK_COMMENTS", 50), help="per client")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="recycle each gunicorn worker after about this many requests, to check that nothing is lost "
        "while workers restart (default: gunicorn.conf.py's setting)",
    )
    args = parser.parse_args()
    if args.duration < 8 or args.clients < 1 or args.comments < 1 or args.max_requests < 0:
        parser.error("--duration must be at least 8 s, --clients and --comments at least 1")
    settings = ("LOADCHECK_CONNECTIONS", "LOADCHECK_THREADS", "LOADCHECK_PG_URL", "LOADCHECK_REDIS_URL")
    changed = [f"{name}={os.environ[name]}" for name in settings if os.environ.get(name)]
    options = sys.argv[1:]
    defaults = {"LOADCHECK_DURATION", "LOADCHECK_CLIENTS", "LOADCHECK_COMMENTS"}
    changed += [f"{name}={os.environ[name]}" for name in sorted(defaults) if os.environ.get(name)]
    if os.environ.get("MAKELEVEL") and not options:
        invoked = "make loadcheck"
    else:
        invoked = " ".join([".venv/bin/python bench/nothing_lost.py", *options])
    return SimpleNamespace(
        duration=args.duration,
        clients=args.clients,
        comments=args.comments,
        max_requests=args.max_requests,
        connections=env_int("LOADCHECK_CONNECTIONS", 32),
        threads=env_int("LOADCHECK_THREADS", 2),
        pg_url=os.environ.get("LOADCHECK_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        redis_url=os.environ.get("LOADCHECK_REDIS_URL", "redis://127.0.0.1:6379/2"),
        command=" ".join([*changed, invoked]),
    )


def flush_redis(url):
    import redis

    redis.Redis.from_url(url, socket_timeout=5).flushdb()


def preflight(server):
    """Both pages answer 200; the open article shows the comment form."""
    for slug in (READ_SLUG, POST_SLUG):
        status, _headers, html = bench.http_request(f"{server.url}/articles/{slug}/")
        if status != 200:
            raise SystemExit(f"GET /articles/{slug}/ answered {status} before the load")
        if slug == POST_SLUG and not FORM_TOKEN_INPUT.search(html):
            raise SystemExit(f"/articles/{slug}/ shows no comment form")


# Posting clients ------------------------------------------------------------------------------


class AnswersAsTheyCome(urllib.request.HTTPErrorProcessor):
    """Hand every answer back as it is: no redirect followed, no exception for a 4xx or 5xx."""

    def http_response(self, request, response):
        return response

    https_response = http_response


@dataclass
class Post:
    client: int
    number: int
    body: str
    email: str = ""  # empty: an address of its own, made from the run, client and number
    status: int | None = None  # None: no answer (the connection failed or timed out)
    error: str = ""
    seconds: float = 0.0
    answered_at: float = 0.0  # seconds after the load started


@dataclass
class Poster:
    """One reader with a browser of their own (cookie jar) posting `count` comments on a schedule."""

    number: int
    base_url: str
    run_id: str
    count: int
    first_at: float  # time.monotonic() of this client's first POST
    interval: float
    load_started: float
    stop: threading.Event
    headers: tuple = ()  # more request headers, as (name, value) pairs
    posts: list = field(default_factory=list)
    gets: collections.Counter = field(default_factory=collections.Counter)
    not_sent: int = 0

    def __post_init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), AnswersAsTheyCome
        )
        self.opener.addheaders = [("User-Agent", USER_AGENT), *self.headers]
        self.article_url = f"{self.base_url}/articles/{POST_SLUG}/"
        self.post_url = f"{self.base_url}/articles/{POST_SLUG}/comments/"
        self.thread = threading.Thread(target=self.run, name=f"poster-{self.number}", daemon=True)

    def fetch_form(self, url):
        """GET a page with the comment form: (csrfmiddlewaretoken, form_token), or None."""
        try:
            with self.opener.open(url, timeout=REQUEST_TIMEOUT) as response:
                status, html = response.status, response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            self.gets[f"no answer ({type(error).__name__})"] += 1
            return None
        self.gets[status] += 1
        csrf, token = CSRF_INPUT.search(html), FORM_TOKEN_INPUT.search(html)
        if status != 200 or not csrf or not token:
            return None
        return csrf[1], token[1]

    def send(self, post, form):
        csrf, token = form
        tag = f"{self.run_id}-{self.number}-{post.number}"
        fields = {
            "csrfmiddlewaretoken": csrf,
            "form_token": token,
            "author_name": f"Load check reader {self.number}",
            "author_email": post.email or f"loadcheck-{tag}@example.com",
            "body": post.body,
            "honeypot": "",
        }
        request = urllib.request.Request(
            self.post_url, data=urllib.parse.urlencode(fields).encode(), method="POST"
        )
        started = time.monotonic()
        location = None
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                post.status = response.status
                location = response.headers.get("Location")
                response.read()
        except (OSError, http.client.HTTPException) as error:
            post.error = f"{type(error).__name__}: {error}"
        finished = time.monotonic()
        post.seconds = finished - started
        post.answered_at = finished - self.load_started
        return location

    def run(self):
        form = self.fetch_form(self.article_url)
        for index in range(self.count):
            wait = self.first_at + index * self.interval - time.monotonic()
            if wait > 0 and self.stop.wait(wait):
                break
            if self.stop.is_set():
                break
            if form is None:  # the last page had no form: take a fresh one (the comment is still new)
                form = self.fetch_form(self.article_url)
            if form is None:
                continue  # counted below as not sent
            number = index + 1
            post = Post(
                self.number,
                number,
                f"Load check comment {self.run_id}-{self.number}-{number}: every accepted word is kept.",
            )
            self.posts.append(post)
            location = self.send(post, form)
            # As a browser: follow the 303 (this shows the message and gives the next form). After any
            # other answer, take the article page afresh; the refused comment is not sent again.
            if post.status == 303 and location:
                form = self.fetch_form(urllib.parse.urljoin(self.post_url, location))
            else:
                form = self.fetch_form(self.article_url)
        self.not_sent = self.count - len(self.posts)


# The run --------------------------------------------------------------------------------------


def load(cfg, server):
    """wrk reads for cfg.duration seconds while the posters post; returns (wrk result, posters, times)."""
    paths = [f"/articles/{READ_SLUG}/", f"/articles/{POST_SLUG}/"]
    run_id = secrets.token_hex(3)
    stop = threading.Event()
    load_started = time.monotonic() + 0.5
    # Posts spread from 1 s after the reads start to 3 s before they end; clients staggered.
    first, window = 1.0, cfg.duration - 4.0
    interval = window / cfg.comments
    posters = [
        Poster(
            number=number,
            base_url=server.url,
            run_id=run_id,
            count=cfg.comments,
            first_at=load_started + first + (number - 1) * interval / cfg.clients,
            interval=interval,
            load_started=load_started,
            stop=stop,
        )
        for number in range(1, cfg.clients + 1)
    ]
    log(
        f"load: wrk reads {len(paths)} pages for {cfg.duration} s ({cfg.threads} threads, "
        f"{cfg.connections} connections); {cfg.clients} clients post {cfg.comments} comments each "
        f"({cfg.clients * cfg.comments} in all, one every {interval:.2f} s per client)"
    )
    for poster in posters:
        poster.thread.start()
    time.sleep(max(0.0, load_started - time.monotonic()))
    try:
        reads = bench.wrk(
            cfg,
            "article reads during the posts",
            server.url + paths[0],
            script=BENCH / "read_articles.lua",
            args=paths,
        )
        reads_seconds = time.monotonic() - load_started
        deadline = time.monotonic() + 120
        for poster in posters:
            poster.thread.join(timeout=max(0.1, deadline - time.monotonic()))
        if any(poster.thread.is_alive() for poster in posters):
            raise SystemExit("posting clients still busy 120 s after the reads ended")
    finally:
        stop.set()
    return reads, posters, reads_seconds


def stored_comments(db_url):
    """{body: [status, ...]} of every comment on the posting article."""
    output = bench.psql(
        db_url,
        "SELECT coalesce(json_object_agg(body, statuses), '{}') FROM (SELECT c.body, json_agg(c.status) "
        "AS statuses FROM comments_comment c JOIN articles_article a ON a.id = c.article_id "
        f"WHERE a.slug = '{POST_SLUG}' GROUP BY c.body) s",
    )
    return json.loads(output)


def server_log_problems(server):
    """What the server's own log says: errors, 5xx answers, and its count of accepted POSTs."""
    text = server.log_text()
    return {
        "errors": len(re.findall(r'"level": "(?:ERROR|CRITICAL)"', text)),
        "5xx": len(re.findall(r'"status": 5\d\d\b', text)),
        "POST 303": len(re.findall(r'"method": "POST", [^\n]*"status": 303\b', text)),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "worker timeouts": text.count("WORKER TIMEOUT"),
        "restarts": server.restarts(),
    }


def percentile(values, share):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def comment_figures(posts, found):
    """What became of the POSTs `posts` in the database (`found`, as stored_comments() gives it):
    answers by status, and the rows matched to them by body."""
    by_status = collections.Counter(post.status for post in posts)
    accepted = [post for post in posts if post.status == 303]
    refused = [post for post in posts if post.status not in (303, None)]
    unanswered = [post for post in posts if post.status is None]
    sent_bodies = {post.body for post in posts}
    answered = [post for post in posts if post.status is not None]
    return {
        "sent": len(posts),
        "accepted": len(accepted),
        "other_answers": len(refused),
        "other_statuses": dict(sorted((str(s), n) for s, n in by_status.items() if s not in (303, None))),
        "unanswered": len(unanswered),
        "unanswered_errors": collections.Counter(post.error.split(":")[0] for post in unanswered),
        "unanswered_stored": sum(1 for post in unanswered if post.body in found),
        "post_5xx": sum(n for s, n in by_status.items() if s is not None and s >= 500),
        "post_p50_ms": percentile([p.seconds for p in answered], 0.50) * 1000,
        "post_p99_ms": percentile([p.seconds for p in answered], 0.99) * 1000,
        "rows": sum(len(statuses) for statuses in found.values()),
        "row_statuses": dict(collections.Counter(s for statuses in found.values() for s in statuses)),
        "once": sum(1 for post in accepted if len(found.get(post.body, [])) == 1),
        "missing": sum(1 for post in accepted if post.body not in found),
        "duplicated": sum(1 for post in accepted if len(found.get(post.body, [])) > 1),
        "refused_stored": sum(1 for post in refused if post.body in found),
        "unknown_rows": sum(len(statuses) for body, statuses in found.items() if body not in sent_bodies),
    }


def row_failures(figures):
    """What comment_figures() says was lost or stored wrongly: every 303 must be exactly one row."""
    failures = []
    for key, text in (
        ("missing", "accepted comments missing from the database"),
        ("duplicated", "accepted comments stored more than once"),
        ("refused_stored", "refused comments stored anyway"),
        ("unknown_rows", "rows that no client sent"),
    ):
        if figures[key]:
            failures.append(f"{figures[key]} {text}")
    if figures["rows"] != figures["accepted"] + figures["unanswered_stored"]:
        failures.append(f"{figures['rows']} rows for {figures['accepted']} accepted comments")
    return failures


def client_gets(posters):
    """The posting clients' own GETs (the form, the page after a 303), counted by status."""
    gets = collections.Counter()
    for poster in posters:
        gets.update(poster.gets)
    return {
        "client_gets": dict(sorted((str(s), n) for s, n in gets.items())),
        "client_get_5xx": sum(n for s, n in gets.items() if isinstance(s, int) and s >= 500),
    }


def check(cfg, reads, posters, reads_seconds, found, problems):
    posts = [post for poster in posters for post in poster.posts]
    planned = cfg.clients * cfg.comments
    answered = [post for post in posts if post.status is not None]
    figures = {
        "planned": planned,
        "not_sent": sum(poster.not_sent for poster in posters),
        **comment_figures(posts, found),
        "first_answer_s": min((p.answered_at for p in answered), default=float("nan")),
        "last_answer_s": max((p.answered_at for p in answered), default=float("nan")),
        "after_reads": sum(1 for p in answered if p.answered_at > reads_seconds),
        "reads_seconds": reads_seconds,
        **client_gets(posters),
        "reads": reads,
        "read_statuses": reads.extra.get("statuses", {}),
        "read_5xx": reads.extra.get("server_errors", 0),
        "read_other": reads.extra.get("other", 0),
        "log": problems,
    }
    failures = []
    if figures["sent"] != planned:
        failures.append(f"{planned - figures['sent']} of {planned} comments never sent (no form)")
    if figures["other_answers"]:
        failures.append(
            f"{figures['other_answers']} POSTs answered other than 303: "
            f"{fmt_counts(figures['other_statuses'])}"
        )
    if figures["unanswered"]:
        failures.append(
            f"{figures['unanswered']} POSTs got no answer ({dict(figures['unanswered_errors'])}); "
            f"{figures['unanswered_stored']} of them stored"
        )
    failures += row_failures(figures)
    fives = figures["read_5xx"] + figures["post_5xx"] + figures["client_get_5xx"]
    if fives:
        failures.append(
            f"5xx answers: {figures['read_5xx']} reads, {figures['post_5xx']} POSTs, "
            f"{figures['client_get_5xx']} clients' GETs"
        )
    if figures["read_other"] or reads.bad_status:
        failures.append(f"reads answered other than 2xx/3xx: {fmt_counts(figures['read_statuses'])}")
    if reads.socket_errors:
        failures.append(f"{reads.socket_errors} socket errors in wrk's reads")
    if problems["POST 303"] != figures["accepted"]:
        failures.append(
            f"the server logged {problems['POST 303']} POSTs answered 303, the clients {figures['accepted']}"
        )
    if problems["errors"] or problems["5xx"] or problems["tracebacks"] or problems["worker timeouts"]:
        failures.append(f"the server logged errors: {problems}")
    if not reads.requests:
        failures.append("wrk read nothing")
    return figures, failures


# Report ---------------------------------------------------------------------------------------


def fmt_counts(counts):
    return ", ".join(f"{key}: {value:,}" for key, value in counts.items()) or "none"


def fmt_ms(value):
    return "–" if value != value else f"{value:.1f}"  # NaN when nothing was measured


def render(cfg, info, figures, failures):
    reads = figures["reads"]
    verdict = "**passed**" if not failures else "**FAILED**: " + "; ".join(failures)
    log_figures = figures["log"]
    recycling = ""
    if cfg.max_requests:
        recycling = f", `--max-requests {cfg.max_requests} --max-requests-jitter {cfg.max_requests // 10}`"
    other_answers = f"{figures['other_answers']}"
    if figures["other_statuses"]:
        other_answers += f" ({fmt_counts(figures['other_statuses'])})"
    lines = [
        BEGIN,
        "",
        f"Produced by `{cfg.command}` on {info['date']}. Verdict: {verdict}.",
        "",
        *bench.machine_rows(
            info, f"{info['wrk']} and the posting clients, on the same machine as the server"
        ),
        f"| gunicorn | `gunicorn.conf.py`, Redis cache: {info['workers']} processes × "
        f"{info['threads']} threads{recycling} |",
        "",
        f"For {cfg.duration} s, wrk ({cfg.threads} threads, {cfg.connections} connections) read "
        f"`/articles/{READ_SLUG}/` and `/articles/{POST_SLUG}/` in turn, as anonymous readers, while "
        f"{cfg.clients} clients posted {cfg.comments} comments each on `/articles/{POST_SLUG}/` "
        "(`COMMENTS_RATE_LIMIT=0`, `COMMENTS_MIN_SUBMIT_SECONDS=0`, moderation `all`).",
        "",
        "**Reads** (wrk, `--latency`)",
        "",
        "| reads/s | p50 ms | p99 ms | requests | statuses | 5xx | non-2xx/3xx | socket errors |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
        f"| {reads.rps:,.0f} | {fmt_ms(reads.p50_ms)} | {fmt_ms(reads.p99_ms)} | {reads.requests:,} | "
        f"{fmt_counts(figures['read_statuses'])} | {figures['read_5xx']} | {figures['read_other']} | "
        f"{reads.socket_errors} |",
        "",
        "**Comment POSTs** (clients' own timing; answers between "
        f"{figures['first_answer_s']:.1f} s and {figures['last_answer_s']:.1f} s of the "
        f"{figures['reads_seconds']:.1f} s of reads, {figures['after_reads']} after the reads ended)",
        "",
        "| planned | sent | 303 | other answers | no answer | 5xx | p50 ms | p99 ms | clients' GETs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {figures['planned']} | {figures['sent']} | {figures['accepted']} | "
        f"{other_answers} | {figures['unanswered']} | "
        f"{figures['post_5xx']} | {fmt_ms(figures['post_p50_ms'])} | {fmt_ms(figures['post_p99_ms'])} | "
        f"{fmt_counts(figures['client_gets'])} |",
        "",
        "**In the database afterwards** (comments on the posting article, matched by body)",
        "",
        "| rows found | 303s found exactly once | missing | duplicated | refused but stored | "
        "rows no client sent | statuses |",
        "|---:|---:|---:|---:|---:|---:|---|",
        f"| {figures['rows']} | {figures['once']} of {figures['accepted']} | {figures['missing']} | "
        f"{figures['duplicated']} | {figures['refused_stored']} | {figures['unknown_rows']} | "
        f"{fmt_counts(figures['row_statuses'])} |",
        "",
        f"Server log: {log_figures['POST 303']} POSTs answered 303 (the clients counted "
        f"{figures['accepted']}), {log_figures['5xx']} answers 5xx, {log_figures['errors']} error lines, "
        f"{log_figures['tracebacks']} tracebacks, {log_figures['worker timeouts']} worker timeouts; "
        f"{log_figures['restarts']} worker restarts (`max_requests`).",
        "",
        END,
    ]
    return "\n".join(lines)


def run_row(cfg, info, figures, failures):
    reads = figures["reads"]
    settings = f"{cfg.duration} s, {cfg.clients} × {cfg.comments}"
    if cfg.max_requests:
        settings += f", max-requests {cfg.max_requests}"
    return (
        f"| {info['date']} | {settings} | {'passed' if not failures else 'FAILED'} | {reads.rps:,.0f} | "
        f"{fmt_ms(reads.p50_ms)} | {fmt_ms(reads.p99_ms)} | {figures['read_5xx']} | "
        f"{figures['sent']} | {figures['accepted']} | {figures['other_answers'] + figures['unanswered']} | "
        f"{figures['once']} | {figures['missing']} | {figures['duplicated']} | {info['load']} |"
    )


RUNS_HEADER = [
    "| date | run | verdict | reads/s | p50 ms | p99 ms | read 5xx | POSTs | 303 | other | found once | "
    "missing | duplicated | load before |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
]

DEFAULT_REPORT = f"""# Load with nothing lost

`make loadcheck` (bench/nothing_lost.py) reads article pages at full speed while several clients
post a known number of comments, on PostgreSQL with gunicorn, and checks that nothing was lost:

- zero 5xx: in wrk's reads (every status counted by bench/read_articles.lua), in the comment POSTs,
  in the posting clients' own GETs, and in the server's request log;
- every POST answered 303 (nothing is retried: any other answer, or none, fails the run);
- every comment that got a 303 is in the database exactly once (matched by its unique body), nothing
  is stored for a refused POST, no row appears that no client sent, and the server's log counts as
  many accepted POSTs as the clients.

It exits 1 when any of these fails. It needs PostgreSQL at 127.0.0.1:5432 (user postgres) and Redis
at 127.0.0.1:6379 (database 2 is flushed and used as the cache); it installs wrk with apt-get when
missing. It makes a scratch database, `smpinfo_loadcheck`, and drops it at the end.

```sh
make loadcheck                                          # 20 s, 8 clients x 50 comments = 400 POSTs
.venv/bin/python bench/nothing_lost.py --max-requests 500   # the same while gunicorn recycles workers
.venv/bin/python bench/nothing_lost.py --help               # every setting
```

The load tool and the server share the machine's cores, and other work on the machine changes the
figures (see the load average): the speed figures vary from run to run; the verdict must not.

## Latest run

{{auto}}

## Every run

{RUNS_BEGIN}
{{runs}}
{RUNS_END}
"""


def marked_parts(text, begin, end):
    """(before, between, after) of the part of `text` from marker `begin` to marker `end`
    (markers excluded), or None when either marker is missing."""
    if begin not in text or end not in text.split(begin, 1)[1]:
        return None
    before, rest = text.split(begin, 1)
    between, after = rest.split(end, 1)
    return before, between, after


def write_report(text, row):
    current = REPORT.read_text() if REPORT.exists() else ""
    parts = marked_parts(current, BEGIN, END)
    current = parts[0] + text + parts[2] if parts else DEFAULT_REPORT.replace("{auto}", text, 1)
    parts = marked_parts(current, RUNS_BEGIN, RUNS_END)
    if parts:
        before, table, after = parts
        old = [line for line in table.splitlines() if line.startswith("| 2")]
        rows = [row, *old][:KEEP_RUNS]
        current = before + RUNS_BEGIN + "\n" + "\n".join([*RUNS_HEADER, *rows]) + "\n" + RUNS_END + after
    else:
        current = current.replace("{runs}", "\n".join([*RUNS_HEADER, row]), 1)
    REPORT.write_text(current)
    log(f"results written to {REPORT.relative_to(ROOT)}")


def summary(figures, failures):
    reads = figures["reads"]
    lines = [
        "",
        "Load with nothing lost",
        f"  reads:  {reads.rps:,.0f}/s, p50 {fmt_ms(reads.p50_ms)} ms, p99 {fmt_ms(reads.p99_ms)} ms, "
        f"{reads.requests:,} requests ({fmt_counts(figures['read_statuses'])}), {figures['read_5xx']} 5xx, "
        f"{reads.socket_errors} socket errors",
        f"  POSTs:  {figures['sent']} of {figures['planned']} sent, {figures['accepted']} answered 303, "
        f"{figures['other_answers']} other ({fmt_counts(figures['other_statuses'])}), "
        f"{figures['unanswered']} no answer, "
        f"p50 {fmt_ms(figures['post_p50_ms'])} ms, p99 {fmt_ms(figures['post_p99_ms'])} ms",
        f"  rows:   {figures['rows']} found; "
        f"{figures['once']} of {figures['accepted']} accepted exactly once, "
        f"{figures['missing']} missing, {figures['duplicated']} duplicated, "
        f"{figures['refused_stored']} refused but stored, {figures['unknown_rows']} unknown",
        "  verdict: " + ("passed" if not failures else "FAILED\n    - " + "\n    - ".join(failures)),
        "",
    ]
    print("\n".join(lines), flush=True)


# Main -----------------------------------------------------------------------------------------


def main():
    cfg = parse_config()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "wrk.log").write_text("")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("loadcheck: terminated"))
    bench.ensure_wrk()
    bench.check_services(cfg)

    with contextlib.ExitStack() as cleanup:
        cleanup.callback(flush_redis, cfg.redis_url)
        flush_redis(cfg.redis_url)
        db_url = bench.create_scratch_database(cfg, cleanup, DATABASE_NAME)
        env = bench.site_environment(cfg, db_url, DJANGO_ALLOWED_HOSTS="127.0.0.1")
        bench.prepare_database(env, slug=POST_SLUG, title="Load check: comments", command="make loadcheck")
        info = bench.machine(cfg, db_url)
        recycling = ()
        if cfg.max_requests:
            recycling = ("--max-requests", cfg.max_requests, "--max-requests-jitter", cfg.max_requests // 10)
        server = bench.Server("loadcheck", env, args=tuple(map(str, recycling)))
        cleanup.callback(server.stop)
        server.start()
        info["workers"], info["threads"] = server.workers, server.threads
        preflight(server)
        reads, posters, reads_seconds = load(cfg, server)
        time.sleep(1)  # a POST that got no answer may still be finishing on the server
        found = stored_comments(db_url)
        server.stop()
        info["load_end"] = bench.load_average()
        figures, failures = check(cfg, reads, posters, reads_seconds, found, server_log_problems(server))
        write_report(render(cfg, info, figures, failures), run_row(cfg, info, figures, failures))
    summary(figures, failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
