"""`make loadcheck`: read articles at full speed while posting and replying to a known number of
comments, with the mail server stopped for part of the run; lose no comment and no email.

Runs end to end on PostgreSQL and gunicorn, and stops everything it starts (gunicorn, the mail
sender, the mail server), on failure and Ctrl+C too:

1. a scratch PostgreSQL database (smpinfo_loadcheck): migrate, collectstatic, seed_content, one
   article open for comments and SEEDED_PARENTS approved top-level comments on it to reply to; Redis
   database 2 (LOADCHECK_REDIS_URL) is flushed and used as the cache; a real SMTP server (aiosmtpd,
   from requirements-dev.txt) in this process on a free port records every message it accepts
   (Message-ID, recipients, subject); gunicorn serves the site with the repository's gunicorn.conf.py
   and `manage.py deliver_mail --interval 1` delivers django-mailer's queue beside it, as `make run`
   starts it, both in one environment: a throwaway secret key, COMMENTS_RATE_LIMIT=0,
   COMMENTS_MIN_SUBMIT_SECONDS=0, DJANGO_ALLOWED_HOSTS=127.0.0.1, EMAIL_URL naming the SMTP server,
   COMMENTS_NOTIFY_EMAILS set (every held comment queues an email to the moderators) and
   EMAIL_RETRY_SECONDS=2 (the site's default is 600), so that
   mail deferred during the outage is tried again within the run;
2. for a fixed time, at the same time:
   - wrk reads the two article pages (the seeded one and the open one, in turn) at full speed,
     counting every answer's status (bench/read_articles.lua);
   - several posting clients (Python threads, standard library only, each with its own cookie jar)
     each take the comment form from the article page (csrftoken cookie, csrfmiddlewaretoken,
     form_token) and POST exactly their share of comments, spread over the run, each with a unique
     body and email; every REPLY_EVERY-th comment of a client is a reply (`parent`, one of the
     seeded comments, whose Reply links the page must show), every NOTIFY_EVERY-th has `notify=on`.
     After each 303 a client follows the redirect as a browser does, which also gives it the next
     form. Nothing is retried: every POST's answer is recorded as it came;
   - the SMTP server is stopped from MAIL_DOWN[0] to MAIL_DOWN[1] of the duration (just after a
     message arrives, so that the sender's round is cut: connections are refused, the rest of the
     round is deferred), then started again on the same port;
3. after the load, the queue has up to DRAIN_SECONDS to empty (deferred mail included);
4. checks: no 5xx anywhere (wrk's reads, the POSTs, the clients' GETs, the server's log), every
   POST answered 303, every comment that got a 303 in the database exactly once with the parent and
   notify it was sent with, nothing stored for a refused POST, no row that no client sent; and for
   whatever emails the app queued, counted by Message-ID (the app fixes it when queuing, so a resend
   is recognisable): every message django-mailer logged as sent arrived at the SMTP server exactly
   once, nothing arrived that was not logged as sent, as many distinct Message-IDs arrived as the
   app queued (logged as sent plus still queued), and nothing is left queued or deferred;
5. stops gunicorn, deliver_mail and the SMTP server, drops the scratch database, flushes the Redis
   database, prints a summary and writes it into bench/NOTHING_LOST.md between its markers (text
   outside them is kept). Exits 1 if any comment or email was lost or duplicated, or anything
   refused or answered 5xx.

Settings (environment, or the options below): LOADCHECK_DURATION (s, default 20), LOADCHECK_CLIENTS
(8), LOADCHECK_COMMENTS (comments per client, 50), LOADCHECK_CONNECTIONS (wrk, 32), LOADCHECK_THREADS
(wrk, 2), LOADCHECK_PG_URL (server for the scratch database, default
postgres://postgres@127.0.0.1:5432/postgres), LOADCHECK_REDIS_URL (default redis://127.0.0.1:6379/2;
the whole Redis database is flushed before and after). Raw output: bench/out/loadcheck/ (gunicorn's
and deliver_mail's logs, wrk's output).
"""

import argparse
import collections
import contextlib
import email
import email.policy
import http.client
import http.cookiejar
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
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
# Conversations: approved top-level comments seeded on the posting article; every REPLY_EVERY-th
# comment of a client replies to one of them, every NOTIFY_EVERY-th ticks notify.
SEEDED_PARENTS = 4
REPLY_EVERY = 3
NOTIFY_EVERY = 2
# Mail: held comments email this address (COMMENTS_NOTIFY_EMAILS); deliver_mail looks at the queue
# every SENDER_INTERVAL s and tries deferred mail again every RETRY_SECONDS (EMAIL_RETRY_SECONDS);
# the mail server is down from MAIL_DOWN[0] to MAIL_DOWN[1] of
# the load's duration; afterwards the queue has up to DRAIN_SECONDS to empty.
MODERATORS = "moderators@loadcheck.example"
SENDER_INTERVAL = 1
RETRY_SECONDS = 2
MAIL_DOWN = (0.30, 0.65)
DRAIN_SECONDS = 60
# django-mailer's codes (mailer.models): a deferred message's priority, the log's results.
PRIORITY_DEFERRED = 4
RESULT_SUCCESS, RESULT_DONT_SEND, RESULT_FAILURE = "1", "2", "3"


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


def preflight(server, parents):
    """Both pages answer 200; the open article shows the comment form and a Reply link for each of
    the seeded comments."""
    for slug in (READ_SLUG, POST_SLUG):
        status, _headers, html = bench.http_request(f"{server.url}/articles/{slug}/")
        if status != 200:
            raise SystemExit(f"GET /articles/{slug}/ answered {status} before the load")
        if slug == POST_SLUG and not FORM_TOKEN_INPUT.search(html):
            raise SystemExit(f"/articles/{slug}/ shows no comment form")
        if slug == POST_SLUG:
            links = {int(pk) for pk in re.findall(r'href="[^"]*/comments/(\d+)/reply/"', html)}
            if not set(parents) <= links:
                raise SystemExit(f"/articles/{slug}/ has Reply links for {sorted(links)}, not {parents}")


def seed_parents(env, count):
    """`count` approved top-level comments on the posting article, to reply to: {id: body}."""
    code = (
        "import json\n"
        "from articles.models import Article\n"
        "from comments.models import Comment\n"
        f"article = Article.objects.get(slug={POST_SLUG!r})\n"
        "seeds = [Comment.objects.create(article=article, author_name=f'Load check host {n}',\n"
        "    author_email=f'loadcheck-host-{n}@example.com', status=Comment.Status.APPROVED,\n"
        "    body=f'Load check conversation {n}: replies welcome.') for n in range(1, "
        f"{count} + 1)]\n"
        "print('LOADCHECK-SEEDS ' + json.dumps({c.pk: c.body for c in seeds}))\n"
    )
    output = bench.manage(env, "shell", "-c", code)
    for line in output.splitlines():
        if line.startswith("LOADCHECK-SEEDS "):
            return {int(pk): body for pk, body in json.loads(line.removeprefix("LOADCHECK-SEEDS ")).items()}
    raise SystemExit(f"seeding the comments to reply to printed nothing:\n{output[-2000:]}")


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
    notify: bool = False  # sent with notify=on (the reader asks to be emailed)
    parent: int | None = None  # sent as a reply to this approved comment


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
    parents: tuple = ()  # ids of approved top-level comments of the article, to reply to
    notify_every: int = 0  # every so many comments ticks notify (0: none)
    reply_every: int = 0  # every so many comments is a reply to one of `parents` (0: none)
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

    def plan(self, number):
        """(notify, parent) of this client's comment `number`: the shares spread over clients and time."""
        notify = bool(self.notify_every) and (self.number + number) % self.notify_every == 0
        parent = None
        if self.parents and self.reply_every and number % self.reply_every == 0:
            parent = self.parents[(self.number + number // self.reply_every) % len(self.parents)]
        return notify, parent

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
        if post.notify:
            fields["notify"] = "on"
        if post.parent is not None:
            fields["parent"] = str(post.parent)
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
            notify, parent = self.plan(number)
            post = Post(
                self.number,
                number,
                f"Load check {'reply' if parent else 'comment'} {self.run_id}-{self.number}-{number}: "
                "every accepted word is kept.",
                notify=notify,
                parent=parent,
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


# Mail: the server, the sender, the outage ---------------------------------------------------


@dataclass
class Arrival:
    message_id: str  # the Message-ID header, "" when the message had none
    recipients: tuple
    subject: str
    at: float  # time.monotonic()


class MailServer:
    """A real SMTP server (aiosmtpd) in this process on a port of its own, recording every message
    it accepts. stop() closes the port (connections are refused); start() opens it again."""

    def __init__(self):
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            raise SystemExit(
                "aiosmtpd is missing: `make loadcheck` installs it (requirements-dev.txt)"
            ) from None
        self.controller_class = Controller
        self.port = bench.free_port()
        self.arrivals = []
        self.lock = threading.Lock()
        self.controller = None
        self.arrived = threading.Event()  # set at each message accepted

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        arrival = Arrival(
            message_id=str(parsed["Message-ID"] or "").strip(),
            recipients=tuple(sorted(envelope.rcpt_tos)),
            subject=" ".join(str(parsed["Subject"] or "").split()),
            at=time.monotonic(),
        )
        with self.lock:  # recorded as the 250 is given: a message the sender saw accepted is here
            self.arrivals.append(arrival)
        self.arrived.set()
        return "250 OK"

    def start(self):
        self.controller = self.controller_class(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            controller, self.controller = self.controller, None
            controller.stop()

    def refuses(self):
        """Whether a connection to the port is refused now."""
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        return False


class Outage:
    """Stops the mail server at `down_at` and starts it again on the same port at `up_at`
    (time.monotonic() values), in a thread; stopped early by `stop` (then the server stays as it is).

    It stops the server just after a message arrives (waiting up to SENDER_INTERVAL + 1 s past
    `down_at` for one): the sender is then in the middle of a round, so the stop cuts its SMTP
    conversation and the messages left in that round fail and are deferred, not only held back."""

    def __init__(self, mail, down_at, up_at, stop):
        self.mail, self.down_at, self.up_at, self.stop = mail, down_at, up_at, stop
        self.went_down = self.came_back = None  # time.monotonic()
        self.came_back_wall = self.went_down_wall = None  # time.time(), for the queue's own times
        self.refused = []  # at each probe while down: was the connection refused?
        self.mid_round = False  # stopped just after a message arrived
        self.error = ""
        self.thread = threading.Thread(target=self.run, name="mail-outage", daemon=True)

    def run(self):
        try:
            if self.stop.wait(max(0.0, self.down_at - time.monotonic())):
                return
            self.mail.arrived.clear()
            self.mid_round = self.mail.arrived.wait(SENDER_INTERVAL + 1)
            self.mail.stop()
            self.went_down, self.went_down_wall = time.monotonic(), time.time()
            when = " just after a message arrived" if self.mid_round else ""
            log(f"mail server stopped{when} (its port refuses connections)")
            self.refused.append(self.mail.refuses())
            if self.stop.wait(max(0.0, self.up_at - time.monotonic())):
                return
            self.refused.append(self.mail.refuses())
            self.mail.start()
            self.came_back, self.came_back_wall = time.monotonic(), time.time()
            log(f"mail server started again on port {self.mail.port}")
        except Exception as error:  # reported by check_mail()
            self.error = f"{type(error).__name__}: {error}"

    @property
    def down_seconds(self):
        if self.went_down is None:
            return float("nan")
        return (self.came_back or time.monotonic()) - self.went_down


class MailSender:
    """`manage.py deliver_mail`, as `make run` starts it beside gunicorn, in the same environment."""

    LOG = OUT / "deliver_mail.log"

    def __init__(self, env):
        self.env = env
        self.process = None
        self.log_path = self.LOG
        self.returncode = None  # when it had exited before stop()

    def start(self):
        with self.log_path.open("w") as output:
            self.process = subprocess.Popen(
                [bench.BIN / "python", "manage.py", "deliver_mail", "--interval", str(SENDER_INTERVAL)],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends it and anything it started
            )
        log(f"deliver_mail started (pid {self.process.pid}, --interval {SENDER_INTERVAL})")

    def stop(self):
        if self.process is None or self.process.returncode is not None:
            return
        if self.process.poll() is not None:
            self.returncode = self.process.returncode
            return
        log(f"stopping deliver_mail (pid {self.process.pid})")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def exited(self):
        """None while it runs; else how it ended."""
        if self.process is None:
            return "never started"
        code = self.process.poll()
        return None if code is None else f"exit status {code}"

    def log_figures(self):
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return {
            "server_down": text.count("The mail server did not answer"),
            "deferred": text.count("could not be sent"),
            "tracebacks": text.count("Traceback (most recent call last)"),
        }


def queue_now(db_url):
    """(messages in django-mailer's queue, of them deferred)."""
    output = bench.psql(
        db_url, f"SELECT count(*), count(*) FILTER (WHERE priority = {PRIORITY_DEFERRED}) FROM mailer_message"
    )
    left, deferred = output.split("|")
    return int(left), int(deferred)


def wait_for_empty_queue(db_url, seconds):
    """Wait up to `seconds` until nothing is queued (deferred included): (left, deferred, waited)."""
    started = time.monotonic()
    while True:
        left, deferred = queue_now(db_url)
        waited = time.monotonic() - started
        if not left or waited >= seconds:
            return left, deferred, waited
        time.sleep(0.25)


def message_log(db_url):
    """django-mailer's log of every attempt: [message_id, result, when_added, when_attempted (epoch s)]."""
    output = bench.psql(
        db_url,
        "SELECT coalesce(json_agg(json_build_array(message_id, result, extract(epoch FROM when_added), "
        "extract(epoch FROM when_attempted)) ORDER BY id), '[]') FROM mailer_messagelog",
    )
    return json.loads(output)


def subject_kind(subject):
    """A subject with its numbers and quoted titles taken out, to count the emails by kind."""
    return re.sub(r"\d+", "#", re.sub(r"“[^”]*”", "“…”", subject))


def mail_figures(arrivals, log_rows, left, deferred, outage, load_started, load_ended):
    """What the app queued (the queue's log of messages sent, and what is still queued) against
    what the mail server received, counted by Message-ID."""
    sent = [row for row in log_rows if row[1] == RESULT_SUCCESS]
    sent_ids = collections.Counter(row[0] for row in sent if row[0])
    arrived = collections.Counter(arrival.message_id for arrival in arrivals if arrival.message_id)
    up_wall = outage.came_back_wall
    # The backlog: mail queued before the server came back and sent after it came back.
    backlog = [row for row in sent if up_wall and row[2] < up_wall <= row[3]]
    last_arrival = max((arrival.at for arrival in arrivals), default=float("nan"))
    return {
        "queued": len(sent_ids) + sum(1 for row in sent if not row[0]) + left,
        "sent_logged": len(sent),
        "sent_logged_twice": sum(1 for n in sent_ids.values() if n > 1),
        "sent_without_id": sum(1 for row in sent if not row[0]),
        "failed_attempts": sum(1 for row in log_rows if row[1] == RESULT_FAILURE),
        "not_sent": sum(1 for row in log_rows if row[1] == RESULT_DONT_SEND),
        "arrivals": len(arrivals),
        "delivered": len(arrived),
        "arrived_without_id": sum(1 for arrival in arrivals if not arrival.message_id),
        "duplicates": sum(n - 1 for n in arrived.values() if n > 1),
        "duplicated_messages": sum(1 for n in arrived.values() if n > 1),
        "missing": sum(1 for message_id in sent_ids if message_id not in arrived),
        "unknown": sum(1 for message_id in arrived if message_id not in sent_ids),
        "left": left,
        "left_deferred": deferred,
        "to_moderators": sum(1 for arrival in arrivals if MODERATORS in arrival.recipients),
        "kinds": dict(collections.Counter(subject_kind(a.subject) for a in arrivals).most_common()),
        "down_seconds": outage.down_seconds,
        "down_from_s": None if outage.went_down is None else outage.went_down - load_started,
        "up_at_s": None if outage.came_back is None else outage.came_back - load_started,
        "refused": outage.refused,
        "mid_round": outage.mid_round,
        "outage_error": outage.error,
        "backlog": len(backlog),
        "backlog_drained_s": max((row[3] for row in backlog), default=float("nan")) - (up_wall or 0),
        "after_return": sum(1 for arrival in arrivals if outage.came_back and arrival.at > outage.came_back),
        "last_arrival_after_load_s": last_arrival - load_ended,
    }


def mail_failures(mail, sender_exit, queue_wait):
    failures = []
    if mail["outage_error"]:
        failures.append(f"the mail server outage went wrong: {mail['outage_error']}")
    elif mail["up_at_s"] is None:
        failures.append("the mail server was not started again")
    elif not all(mail["refused"]) or not mail["refused"]:
        failures.append("the stopped mail server's port did not refuse connections")
    if sender_exit is not None:
        failures.append(f"deliver_mail was not running at the end ({sender_exit}); see {rel(MailSender.LOG)}")
    if not mail["queued"]:
        failures.append("no email was queued (held comments email COMMENTS_NOTIFY_EMAILS): nothing checked")
    if mail["left"]:
        failures.append(
            f"{mail['left']} emails still queued ({mail['left_deferred']} deferred) {queue_wait:.0f} s "
            "after the load ended"
        )
    for key, text in (
        ("missing", "emails logged as sent never arrived"),
        ("duplicated_messages", f"emails arrived more than once ({mail['duplicates']} extra copies)"),
        ("unknown", "emails arrived that the queue has not logged as sent"),
        ("sent_logged_twice", "emails logged as sent more than once"),
        ("sent_without_id", "emails sent without a fixed Message-ID (a resend cannot be recognised)"),
        ("arrived_without_id", "emails arrived without a Message-ID"),
        ("not_sent", "emails the queue decided not to send (don't-send list)"),
    ):
        if mail[key]:
            failures.append(f"{mail[key]} {text}")
    if mail["delivered"] != mail["queued"]:
        failures.append(f"{mail['delivered']} distinct emails arrived for {mail['queued']} queued")
    return failures


def rel(path):
    return path.relative_to(ROOT)


# The run --------------------------------------------------------------------------------------


def load(cfg, server, mail, parents):
    """wrk reads for cfg.duration seconds while the posters post (some replying to `parents`, some
    with notify) and the mail server is down for a while; returns (wrk result, posters, seconds of
    reads, the Outage)."""
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
            parents=tuple(parents),
            notify_every=NOTIFY_EVERY,
            reply_every=REPLY_EVERY,
        )
        for number in range(1, cfg.clients + 1)
    ]
    outage = Outage(
        mail, load_started + MAIL_DOWN[0] * cfg.duration, load_started + MAIL_DOWN[1] * cfg.duration, stop
    )
    log(
        f"load: wrk reads {len(paths)} pages for {cfg.duration} s ({cfg.threads} threads, "
        f"{cfg.connections} connections); {cfg.clients} clients post {cfg.comments} comments each "
        f"({cfg.clients * cfg.comments} in all, one every {interval:.2f} s per client; every "
        f"{ordinal(REPLY_EVERY)} a reply, every {ordinal(NOTIFY_EVERY)} with notify); the mail server "
        f"is down from {MAIL_DOWN[0] * cfg.duration:.0f} s to {MAIL_DOWN[1] * cfg.duration:.0f} s"
    )
    for poster in posters:
        poster.thread.start()
    outage.thread.start()
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
        outage.thread.join(timeout=30)
    return reads, posters, reads_seconds, outage


def stored_comments(db_url):
    """{body: [status, ...]} of every comment on the posting article."""
    output = bench.psql(
        db_url,
        "SELECT coalesce(json_object_agg(body, statuses), '{}') FROM (SELECT c.body, json_agg(c.status) "
        "AS statuses FROM comments_comment c JOIN articles_article a ON a.id = c.article_id "
        f"WHERE a.slug = '{POST_SLUG}' GROUP BY c.body) s",
    )
    return json.loads(output)


def stored_conversations(db_url):
    """{body: [[parent id, notify], ...]} of every comment on the posting article."""
    output = bench.psql(
        db_url,
        "SELECT coalesce(json_object_agg(body, fields), '{}') FROM (SELECT c.body, "
        "json_agg(json_build_array(c.parent_id, c.notify)) AS fields FROM comments_comment c "
        f"JOIN articles_article a ON a.id = c.article_id WHERE a.slug = '{POST_SLUG}' GROUP BY c.body) s",
    )
    return json.loads(output)


def conversation_figures(posts, details):
    """Replies and notify: what was sent, accepted, and stored with the parent and notify it was sent with."""
    accepted = [post for post in posts if post.status == 303]
    matched = [(post, details[post.body][0]) for post in accepted if len(details.get(post.body, [])) == 1]
    return {
        "replies_sent": sum(1 for post in posts if post.parent),
        "replies_accepted": sum(1 for post in accepted if post.parent),
        "replies_stored": sum(1 for rows in details.values() for parent, _notify in rows if parent),
        "notify_sent": sum(1 for post in posts if post.notify),
        "notify_accepted": sum(1 for post in accepted if post.notify),
        "notify_stored": sum(1 for rows in details.values() for _parent, notify in rows if notify),
        "wrong_parent": sum(1 for post, (parent, _notify) in matched if parent != post.parent),
        "wrong_notify": sum(1 for post, (_parent, notify) in matched if notify != post.notify),
    }


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


def check(cfg, reads, posters, reads_seconds, found, problems, *, details, mail, sender_exit, queue_wait):
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
        "talk": conversation_figures(posts, details),
        "mail": mail,
        "queue_wait_s": queue_wait,
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
    talk = figures["talk"]
    if talk["wrong_parent"] or talk["wrong_notify"]:
        failures.append(
            f"accepted comments stored with another parent ({talk['wrong_parent']}) or notify "
            f"({talk['wrong_notify']}) than they were sent with"
        )
    if not talk["replies_accepted"] or not talk["notify_accepted"]:
        failures.append("no reply or no comment with notify was accepted: the conversations went unchecked")
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
    failures += mail_failures(mail, sender_exit, queue_wait)
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
    talk = figures["talk"]
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
        "(`COMMENTS_RATE_LIMIT=0`, `COMMENTS_MIN_SUBMIT_SECONDS=0`, moderation `all`): every "
        f"{ordinal(REPLY_EVERY)} comment of a client a reply (`parent`) to one of {SEEDED_PARENTS} approved "
        f"comments seeded on the article, every {ordinal(NOTIFY_EVERY)} with `notify=on`; held comments "
        f"email `COMMENTS_NOTIFY_EMAILS`, and the mail server was down for a middle part of the run.",
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
        f"Of the 303s, {talk['replies_accepted']} replies (of {talk['replies_sent']} sent) and "
        f"{talk['notify_accepted']} with notify (of {talk['notify_sent']} sent).",
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
        f"Stored: {talk['replies_stored']} replies and {talk['notify_stored']} comments with notify; "
        f"{talk['wrong_parent']} stored with another parent and {talk['wrong_notify']} with another notify "
        "than they were sent with.",
        "",
        f"Server log: {log_figures['POST 303']} POSTs answered 303 (the clients counted "
        f"{figures['accepted']}), {log_figures['5xx']} answers 5xx, {log_figures['errors']} error lines, "
        f"{log_figures['tracebacks']} tracebacks, {log_figures['worker timeouts']} worker timeouts; "
        f"{log_figures['restarts']} worker restarts (`max_requests`).",
        "",
        *mail_lines(figures),
        "",
        END,
    ]
    return "\n".join(lines)


def ordinal(number):
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number if number < 20 else number % 10, 'th') }"


def fmt_s(value):
    return "–" if value is None or value != value else f"{value:.1f}"


def mail_lines(figures):
    """The report's email section."""
    mail = figures["mail"]
    sender = mail["sender_log"]
    refused = "refusing connections" if mail["refused"] and all(mail["refused"]) else "NOT refusing"
    kinds = "; ".join(f"`{kind}`: {count}" for kind, count in mail["kinds"].items()) or "none"
    return [
        f"**Email** (django-mailer's queue, sent by `manage.py deliver_mail --interval {SENDER_INTERVAL}` "
        f"with `EMAIL_RETRY_SECONDS={RETRY_SECONDS}`, to an aiosmtpd server in the load check's process, "
        "counted there by Message-ID). The mail server was stopped "
        f"{fmt_s(mail['down_from_s'])} s into the load"
        f"{' just after a message arrived (in a round of the sender)' if mail['mid_round'] else ''}, "
        f"its port {refused}, and "
        + (
            "never started again."
            if mail["up_at_s"] is None
            else f"started again on the same port {fmt_s(mail['up_at_s'])} s in."
        ),
        "",
        "| queued | delivered (distinct Message-IDs) | arrivals | duplicates | sent, never arrived | "
        "arrived, not logged sent | left queued (deferred) | server down s | backlog | "
        "backlog delivered s after the return | queue empty s after the load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {mail['queued']} | {mail['delivered']} | {mail['arrivals']} | {mail['duplicates']} | "
        f"{mail['missing']} | {mail['unknown']} | {mail['left']} ({mail['left_deferred']}) | "
        f"{fmt_s(mail['down_seconds'])} | {mail['backlog']} | {fmt_s(mail['backlog_drained_s'])} | "
        f"{'not empty at ' * bool(mail['left'])}{fmt_s(figures['queue_wait_s'])} |",
        "",
        f"Queued = messages the queue logged as sent ({mail['sent_logged']} success entries) plus those "
        f"still queued; the backlog is the mail queued before the server came back and sent after it "
        f"came back; {mail['after_return']} arrivals came after the return. By subject: {kinds}. To the "
        f"moderators' address: {mail['to_moderators']}. The sender found the mail server down "
        f"{sender['server_down']} times and deferred {sender['deferred']} messages whose sending failed "
        f"({mail['failed_attempts']} failed attempts logged, each sent later); "
        f"{sender['tracebacks']} tracebacks in its log.",
    ]


def run_row(cfg, info, figures, failures):
    reads, talk, mail = figures["reads"], figures["talk"], figures["mail"]
    settings = f"{cfg.duration} s, {cfg.clients} × {cfg.comments}"
    if cfg.max_requests:
        settings += f", max-requests {cfg.max_requests}"
    return (
        f"| {info['date']} | {settings} | {'passed' if not failures else 'FAILED'} | {reads.rps:,.0f} | "
        f"{fmt_ms(reads.p50_ms)} | {fmt_ms(reads.p99_ms)} | {figures['read_5xx']} | "
        f"{figures['sent']} | {figures['accepted']} | {figures['other_answers'] + figures['unanswered']} | "
        f"{figures['once']} | {figures['missing']} | {figures['duplicated']} | {info['load']} | "
        f"{talk['replies_accepted']} | {talk['notify_accepted']} | {mail['queued']} | {mail['delivered']} | "
        f"{mail['duplicates']} | {mail['left']} | {fmt_s(mail['down_seconds'])} |"
    )


RUNS_HEADER = [
    "| date | run | verdict | reads/s | p50 ms | p99 ms | read 5xx | POSTs | 303 | other | found once | "
    "missing | duplicated | load before | replies | notify | mail queued | delivered | mail duplicates | "
    "mail left | mail down s |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
]

DEFAULT_REPORT = f"""# Load with nothing lost

`make loadcheck` (bench/nothing_lost.py) reads article pages at full speed while several clients
post a known number of comments, on PostgreSQL with gunicorn, and checks that nothing was lost:

- zero 5xx: in wrk's reads (every status counted by bench/read_articles.lua), in the comment POSTs,
  in the posting clients' own GETs, and in the server's request log;
- every POST answered 303 (nothing is retried: any other answer, or none, fails the run);
- every comment that got a 303 is in the database exactly once (matched by its unique body), with
  the parent (replies) and notify it was sent with; nothing is stored for a refused POST, no row
  appears that no client sent, and the server's log counts as many accepted POSTs as the clients;
- every email the app queued (django-mailer's queue, sent by `manage.py deliver_mail` to a real SMTP
  server that is stopped for a middle part of the run) arrives exactly once, counted by Message-ID,
  and none is left queued or deferred once the server is back and the sender has had time.

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
    reads, talk, mail = figures["reads"], figures["talk"], figures["mail"]
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
        f"  talk:   {talk['replies_accepted']} replies and {talk['notify_accepted']} with notify accepted; "
        f"stored {talk['replies_stored']} replies, {talk['notify_stored']} with notify, "
        f"{talk['wrong_parent']} wrong parent, {talk['wrong_notify']} wrong notify",
        f"  mail:   {mail['queued']} queued, {mail['delivered']} delivered ({mail['arrivals']} arrivals, "
        f"{mail['duplicates']} duplicates, {mail['missing']} sent but never arrived, {mail['unknown']} "
        f"unknown), {mail['left']} left ({mail['left_deferred']} deferred); server down "
        f"{fmt_s(mail['down_seconds'])} s, backlog of {mail['backlog']} delivered "
        f"{fmt_s(mail['backlog_drained_s'])} s after it came back, queue "
        f"{'not empty' if mail['left'] else 'empty'} {fmt_s(figures['queue_wait_s'])} s after the load",
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
        mail = MailServer()
        cleanup.callback(mail.stop)
        mail.start()
        log(f"mail server (aiosmtpd) listening on port {mail.port}")
        # gunicorn, deliver_mail and the setup commands share one environment.
        env = bench.site_environment(
            cfg,
            db_url,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            EMAIL_URL=f"smtp://127.0.0.1:{mail.port}",
            EMAIL_RETRY_SECONDS=str(RETRY_SECONDS),
            COMMENTS_NOTIFY_EMAILS=MODERATORS,
        )
        bench.prepare_database(env, slug=POST_SLUG, title="Load check: comments", command="make loadcheck")
        seeds = seed_parents(env, SEEDED_PARENTS)
        info = bench.machine(cfg, db_url)
        recycling = ()
        if cfg.max_requests:
            recycling = ("--max-requests", cfg.max_requests, "--max-requests-jitter", cfg.max_requests // 10)
        server = bench.Server("loadcheck", env, args=tuple(map(str, recycling)))
        cleanup.callback(server.stop)
        server.start()
        info["workers"], info["threads"] = server.workers, server.threads
        sender = MailSender(env)
        cleanup.callback(sender.stop)
        sender.start()
        preflight(server, list(seeds))
        reads, posters, reads_seconds, outage = load(cfg, server, mail, list(seeds))
        load_ended = time.monotonic()
        time.sleep(1)  # a POST that got no answer may still be finishing on the server
        found = {body: rows for body, rows in stored_comments(db_url).items() if body not in seeds.values()}
        details = {body: rows for body, rows in stored_conversations(db_url).items() if body in found}
        server.stop()
        info["load_end"] = bench.load_average()
        log(f"waiting up to {DRAIN_SECONDS} s for the mail queue to empty")
        left, deferred, _waited = wait_for_empty_queue(db_url, DRAIN_SECONDS)
        queue_wait = time.monotonic() - load_ended
        sender_exit = sender.exited()
        sender.stop()
        mail.stop()
        with mail.lock:
            arrivals = list(mail.arrivals)
        mail_counts = mail_figures(
            arrivals, message_log(db_url), left, deferred, outage, posters[0].load_started, load_ended
        )
        mail_counts["sender_log"] = sender.log_figures()
        figures, failures = check(
            cfg,
            reads,
            posters,
            reads_seconds,
            found,
            server_log_problems(server),
            details=details,
            mail=mail_counts,
            sender_exit=sender_exit,
            queue_wait=queue_wait,
        )
        write_report(render(cfg, info, figures, failures), run_row(cfg, info, figures, failures))
    summary(figures, failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
