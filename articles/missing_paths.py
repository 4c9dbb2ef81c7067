"""The 404 report: the paths readers asked for that had no page, and how often.

Counting happens in each process's memory (a request never writes to the database): a
tally bounded to MAX_PENDING_PATHS distinct paths, written to MissingPath by a daemon
thread every ARTICLES_MISSING_PATHS_FLUSH_SECONDS and once more when the process exits,
in one short transaction. The table keeps the ARTICLES_MISSING_PATHS_KEPT most requested
paths. A write that fails is logged and its counts wait for the next one.

The writer starts in a process that serves the site through a WSGI or ASGI server (on
its first request, so each worker forked by gunicorn starts its own). The test client
is neither: the suite's requests are counted, and written when a test calls flush().
"""

import atexit
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from articles.models import MissingPath, Redirect
from articles.models.navigation import redirect_candidates

logger = logging.getLogger(__name__)

# Distinct paths a process keeps between two writes; others are left out until the next
# write (a scan of made-up addresses cannot grow the memory). Hits on paths kept still count.
MAX_PENDING_PATHS = 1000
# Longer paths are not counted: MissingPath.path holds 500 characters, and no address of
# the site is that long.
MAX_PATH_LENGTH = 500


@dataclass
class Count:
    hits: int
    first_seen: datetime
    last_seen: datetime

    def add(self, other):
        self.hits += other.hits
        self.first_seen = min(self.first_seen, other.first_seen)
        self.last_seen = max(self.last_seen, other.last_seen)


class Tally:
    """Counts of missing paths in this process since the last write; thread-safe and bounded."""

    def __init__(self, limit=MAX_PENDING_PATHS):
        self.limit = limit
        self.lock = threading.Lock()
        self.counts = {}
        self.left_out = 0

    def count(self, path, when=None):
        if len(path) > MAX_PATH_LENGTH:
            return
        when = when or timezone.now()
        with self.lock:
            counted = self.counts.get(path)
            if counted is not None:
                counted.add(Count(1, when, when))
            elif len(self.counts) < self.limit:
                self.counts[path] = Count(1, when, when)
            else:
                self.left_out += 1

    def take(self):
        """The counts so far, leaving the tally empty."""
        with self.lock:
            counts, self.counts = self.counts, {}
            left_out, self.left_out = self.left_out, 0
        return counts, left_out

    def put_back(self, counts):
        """Counts a write could not store, added to those counted since (within the bound)."""
        with self.lock:
            for path, count in counts.items():
                counted = self.counts.get(path)
                if counted is not None:
                    counted.add(count)
                elif len(self.counts) < self.limit:
                    self.counts[path] = count
                else:
                    self.left_out += count.hits

    def __len__(self):
        return len(self.counts)


tally = Tally()


def count(path):
    """Count one request for `path` (a path of the site, without query string) that had no page."""
    tally.count(path)


def flush():
    """Write the counts of this process to the 404 report; returns how many paths it wrote.

    Never raises: a database that fails is logged, and the counts are kept for the next write.
    """
    counts, left_out = tally.take()
    if left_out:
        logger.warning(
            "404 report: %d requests for other missing paths were not counted (too many paths)", left_out
        )
    if not counts:
        return 0
    try:
        write(counts)
    except Exception:
        logger.exception("404 report: could not write %d paths; kept for the next write", len(counts))
        tally.put_back(counts)
        return 0
    return len(counts)


def write(counts):
    """Add `counts` to MissingPath in one transaction, leaving out paths that have a
    redirect now, and keep the table to the ARTICLES_MISSING_PATHS_KEPT most requested."""
    with transaction.atomic():
        answered = set(
            Redirect.objects.filter(old_path__in=answering_paths(counts)).values_list("old_path", flat=True)
        )
        counts = {
            path: count for path, count in counts.items() if answered.isdisjoint(answering_paths([path]))
        }
        rows = list(MissingPath.objects.filter(path__in=counts))
        for row in rows:
            counted = counts.pop(row.path)
            row.hits = F("hits") + counted.hits
            row.last_seen = max(row.last_seen, counted.last_seen)
        MissingPath.objects.bulk_update(rows, ["hits", "last_seen"])
        # Another process may create one of these meanwhile: its row is kept, these hits are not.
        MissingPath.objects.bulk_create(
            [
                MissingPath(
                    path=path, hits=count.hits, first_seen=count.first_seen, last_seen=count.last_seen
                )
                for path, count in counts.items()
            ],
            ignore_conflicts=True,
        )
        kept = MissingPath.objects.order_by("-hits", "-last_seen", "pk").values("pk")[
            : settings.ARTICLES_MISSING_PATHS_KEPT
        ]
        MissingPath.objects.exclude(pk__in=kept).delete()


def answering_paths(paths):
    """The old addresses whose redirect would answer any of `paths` (see Redirect.objects.answering)."""
    return {old_path for path in paths for old_path in redirect_candidates(path, "")}


class Writer:
    """The daemon thread that writes this process's counts, and the write at exit."""

    def __init__(self):
        self.pid = None
        self.thread = None
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    def start(self):
        """Start writing in this process, once (a forked worker starts its own)."""
        with self.lock:
            if self.pid == os.getpid():
                return
            self.pid = os.getpid()
            self.stopped = threading.Event()
            self.thread = threading.Thread(
                target=self.run,
                args=(self.stopped, settings.ARTICLES_MISSING_PATHS_FLUSH_SECONDS),
                name="missing-paths-writer",
                daemon=True,
            )
            self.thread.start()
            atexit.register(self.stop)

    def run(self, stopped, seconds):
        while not stopped.wait(seconds):
            flush_in_own_connection()

    def stop(self):
        """Stop the thread and write what is left (at exit)."""
        self.stopped.set()
        if (
            self.thread is not None
            and self.thread.is_alive()
            and self.thread is not threading.current_thread()
        ):
            self.thread.join(timeout=5)
        flush_in_own_connection()


def flush_in_own_connection():
    """flush(), then close the connections this thread opened for it."""
    try:
        flush()
    finally:
        connections.close_all()


writer = Writer()


def start_writing_when_served(sender, **kwargs):
    """request_started receiver: a request a server hands to the site starts this process's writer."""
    if issubclass(sender, (WSGIHandler, ASGIHandler)):
        writer.start()


def connect_signals():
    request_started.connect(start_writing_when_served, dispatch_uid="missing-paths-writer")
