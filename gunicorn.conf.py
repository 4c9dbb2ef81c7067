"""Gunicorn settings, used by `make run` and recommended for production.

Every value can be changed from the environment: HOST and PORT (bind address),
WEB_CONCURRENCY (worker processes), GUNICORN_THREADS, GUNICORN_TIMEOUT and
FORWARDED_ALLOW_IPS (addresses of the proxies trusted for X-Forwarded-*).
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Two workers per core plus one, the usual starting point for a mostly I/O-bound
# Django site; a few threads each let slow clients wait without blocking a worker.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
