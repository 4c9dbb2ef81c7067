"""Gunicorn settings, used by `make run` and recommended for production.

Every value can be changed from the environment: HOST and PORT (bind address),
WEB_CONCURRENCY (worker processes), GUNICORN_THREADS, GUNICORN_TIMEOUT,
REQUEST_READ_TIMEOUT (seconds a request has to arrive) and FORWARDED_ALLOW_IPS (the
proxies trusted for forwarded headers; nobody by default).
"""

import multiprocessing
import os
import sys
from pathlib import Path

# gunicorn puts the directory it was started from on sys.path, but applies --chdir only
# after reading this file: the project directory is added so smpinfo imports either way.
PROJECT_DIR = str(Path(__file__).resolve().parent)
if PROJECT_DIR not in sys.path:
    sys.path.insert(0, PROJECT_DIR)

from smpinfo.cache_url import cache_url, is_shared_cache  # noqa: E402 (needs PROJECT_DIR)

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# With a shared cache (REDIS_URL / CACHE_URL naming Redis): two worker processes per
# core plus one, the usual start for a mostly I/O-bound Django site. Without one, the
# cache is local memory, which only threads of one process share: the comment rate
# limit and cached pages must be the same for every request, so `make run` serves
# from one process with several threads.
SHARED_CACHE = is_shared_cache(cache_url())
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1 if SHARED_CACHE else 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2 if SHARED_CACHE else 8))
# gthread, except that a request is read in the worker's event loop and must arrive within
# REQUEST_READ_TIMEOUT seconds (10 by default): slow clients cannot hold the threads.
worker_class = "smpinfo.gunicorn_worker.RequestReadWorker"


def on_starting(server):
    if workers > 1 and not SHARED_CACHE:
        server.log.warning(
            "%s worker processes with a local-memory cache: each process keeps its own comment "
            "rate limits and page cache. Set REDIS_URL to share them.",
            workers,
        )
    counted_proxies = os.environ.get("DJANGO_TRUSTED_PROXIES", "").strip() not in ("", "0")
    if counted_proxies and not BEHIND_PROXY:
        server.log.warning(
            "DJANGO_TRUSTED_PROXIES is set but FORWARDED_ALLOW_IPS is not: readers' addresses come "
            "from the proxy, but its X-Forwarded-Proto is ignored. Name the proxy in FORWARDED_ALLOW_IPS."
        )
    elif BEHIND_PROXY and not counted_proxies:
        server.log.warning(
            "FORWARDED_ALLOW_IPS names a proxy but DJANGO_TRUSTED_PROXIES is 0: every reader will "
            "have the proxy's address (comment rate limit, login throttling). Set DJANGO_TRUSTED_PROXIES."
        )


timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5

# Load the site once in the master process: workers fork ready to serve, and a worker
# that dies is replaced in milliseconds, not after a fresh import of Django.
preload_app = True

# Recycling workers guards against slow memory leaks but costs a restart each time: at
# a few thousand requests a second a small max_requests restarts a worker every second
# (measured in bench/RESULTS.md). Off by default; GUNICORN_MAX_REQUESTS turns it on.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 10

# Forwarded headers come from the proxies named in FORWARDED_ALLOW_IPS (addresses or
# networks, comma-separated) and from nobody else: unset, as for `make run`, no client's
# header may change the scheme or the path prefix of the pages it gets (gunicorn would
# trust 127.0.0.1 by default). From a named proxy gunicorn takes X-Forwarded-Proto (HTTPS
# or not) and SCRIPT_NAME (a path prefix), the headers the README's nginx example sets.
# A UNIX-socket peer counts as trusted in gunicorn whatever this says, so without a proxy
# the headers themselves are switched off too.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
BEHIND_PROXY = bool(forwarded_allow_ips.strip())
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"} if BEHIND_PROXY else {}
forwarder_headers = "SCRIPT_NAME" if BEHIND_PROXY else ""

# Django logs one JSON line per request without client addresses (smpinfo.middleware);
# GUNICORN_ACCESS_LOG=- adds gunicorn's own access log, addresses included.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# gunicorn's control socket (gunicornc) lives at one path per user, shared by every
# instance on the machine (tests and the bench start several): the site does not use it.
control_socket_disable = True
