"""In-process helpers for bench/run.py, run with the bench's environment (DATABASE_URL, CACHE_URL...).

python bench/django_tools.py profile URL REQUESTS OUTPUT_PREFIX
    Profile REQUESTS GETs of URL through Django's test client with pyinstrument;
    writes OUTPUT_PREFIX.txt (call tree) and OUTPUT_PREFIX-flat.txt (functions by own time).
python bench/django_tools.py timing [--accept-encoding VALUE] REQUESTS URL...
    Milliseconds per GET of each URL through Django's test client, in this process (with
    that Accept-Encoding header when given: a cached page is then sent compressed).
python bench/django_tools.py queries [--user NAME] URL...
    Fetch each URL (as user NAME when given, logged in) and print, as JSON, its status,
    time and every SQL query it ran with its time, slowest first.
python bench/django_tools.py cache-round-trip URL REQUESTS
    Milliseconds per cache.get_many of what a page-cache hit of URL fetches (the page and
    the versions it depends on), in this process.
python bench/django_tools.py session NAME
    Create (or reuse) superuser NAME and print a session key logged in as it.
python bench/django_tools.py form-tokens SLUG CSRF_COOKIE COUNT FILE
    Write COUNT comment-form tokens for article SLUG, one per line (URL-encoded), as the site
    gives them to the browser whose csrftoken cookie is CSRF_COOKIE: each one can be used once.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smpinfo.settings")

HOST = "127.0.0.1"
RESULT_PREFIX = "BENCH-RESULT "


def result(value):
    """The one line bench/run.py reads; the site's own logging may print around it."""
    print(RESULT_PREFIX + json.dumps(value), flush=True)


def client_for(username=None):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    return client


def profile(url, requests, prefix):
    from pyinstrument import Profiler

    client = client_for()
    for _ in range(20):  # warm up: imports, template loading, the database connection
        assert client.get(url).status_code == 200
    started = time.perf_counter()
    for _ in range(requests):
        client.get(url)
    unprofiled = time.perf_counter() - started
    profiler = Profiler(interval=0.0002)
    started = time.perf_counter()
    profiler.start()
    for _ in range(requests):
        client.get(url)
    profiler.stop()
    elapsed = time.perf_counter() - started
    Path(f"{prefix}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    Path(f"{prefix}-flat.txt").write_text(profiler.output_text(unicode=True, flat=True))
    shares = time_by_category(profiler.last_session.root_frame())
    result(
        {
            "requests": requests,
            "ms_per_request": elapsed * 1000 / requests,
            "ms_unprofiled": unprofiled * 1000 / requests,
            "categories": shares,
        }
    )


# Where a sample's own time is spent, by the file of the function it was in (first match wins).
CATEGORIES = [
    ("psycopg/", "PostgreSQL: driver, sending queries and waiting for answers"),
    ("redis/", "Redis: client, round trips"),
    ("django/core/cache", "Redis: client, round trips"),
    ("django/db/", "Django ORM: building SQL, making model instances"),
    ("django/template", "templates: rendering, tags and filters"),
    ("crispy_forms", "templates: rendering, tags and filters"),
    ("django/forms", "forms and widgets"),
    ("django/urls", "URL resolving and reversing"),
    ("pythonjsonlogger", "request log (one JSON line per request)"),
    ("/logging/", "request log (one JSON line per request)"),
    ("django/middleware", "middleware: security, CSP, sessions, CSRF, auth, axes, static files"),
    ("django/contrib/sessions", "middleware: security, CSP, sessions, CSRF, auth, axes, static files"),
    ("django/contrib/messages", "middleware: security, CSP, sessions, CSRF, auth, axes, static files"),
    ("django/contrib/auth", "middleware: security, CSP, sessions, CSRF, auth, axes, static files"),
    ("smpinfo/middleware", "middleware: security, CSP, sessions, CSRF, auth, axes, static files"),
    ("whitenoise", "middleware: security, CSP, sessions, CSRF, auth, axes, static files"),
    ("csp/", "middleware: security, CSP, sessions, CSRF, auth, axes, static files"),
    ("axes/", "middleware: security, CSP, sessions, CSRF, auth, axes, static files"),
    ("django/core/handlers", "Django request handling"),
    ("django/http", "Django request handling"),
    ("django/test", "test client (not in production)"),
    ("/articles/", "project code (articles, comments)"),
    ("/comments/", "project code (articles, comments)"),
    ("/json/", "JSON encoding (JSON-LD, request log)"),
]

GENERIC = ("django/utils/functional.py", "asgiref/", "/copy.py", "/inspect.py")


def time_by_category(root):
    """Own time of every frame, summed by CATEGORIES, as [(category, percent)] largest first."""
    totals = {}
    stack = [(root, "")]
    while stack:
        frame, parent_path = stack.pop()
        # pyinstrument keeps a function's own time in a synthetic "[self]" child; built-ins and
        # generic helpers (lazy objects, thread locals, copy) work for their caller: count
        # their time where the caller's code lives.
        path = (frame.file_path or "").replace("\\", "/")
        if frame.is_synthetic or path.startswith("<") or any(part in path for part in GENERIC):
            path = parent_path
        stack.extend((child, path) for child in frame.children)
        own = frame.time - sum(child.time for child in frame.children)
        name = next(
            (label for marker, label in CATEGORIES if marker in path), "other Python (Django core, stdlib)"
        )
        totals[name] = totals.get(name, 0.0) + own
    whole = sum(totals.values()) or 1.0
    return sorted(((name, 100 * seconds / whole) for name, seconds in totals.items()), key=lambda x: -x[1])


def timing(requests, urls, accept_encoding=None):
    """Milliseconds per GET of each URL, in this process (after a warm-up)."""
    client = client_for()
    headers = {"HTTP_ACCEPT_ENCODING": accept_encoding} if accept_encoding else {}
    timings = {}
    for url in urls:
        for _ in range(20):
            assert client.get(url, **headers).status_code == 200, url
        started = time.perf_counter()
        for _ in range(requests):
            client.get(url, **headers)
        timings[url] = (time.perf_counter() - started) * 1000 / requests
    result(timings)


def cache_round_trip(url, requests):
    """The one cache round trip a page-cache hit costs, alone (the page must be cached)."""
    from django.test import RequestFactory

    from pagecache.store import page_and_version_keys, page_cache

    client = client_for()
    client.get(url)
    client.get(url)
    keys = page_and_version_keys(RequestFactory().get(url, HTTP_HOST=HOST))
    cache = page_cache()
    assert keys[0] in cache.get_many(keys), "the page is not in the cache"
    started = time.perf_counter()
    for _ in range(requests):
        cache.get_many(keys)
    result((time.perf_counter() - started) * 1000 / requests)


def queries(urls, username=None):
    from django.db import connection

    client = client_for(username)
    pages = []
    for url in urls:
        client.get(url)  # warm up
        found = []

        def timed(execute, sql, params, many, context, found=found):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                bound = connection.ops.last_executed_query(context["cursor"].cursor, sql, params)
                found.append({"sql": bound, "ms": elapsed})

        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        found.sort(key=lambda query: query["ms"], reverse=True)
        pages.append({"url": url, "status": response.status_code, "ms": elapsed * 1000, "queries": found})
    result(pages)


def session(username):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True, "email": ""}
    )
    if created:
        user.set_unusable_password()
        user.save()
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    result(store.session_key)


def form_tokens(slug, csrf_cookie, count, path):
    """Tokens as the article page gives them to one browser, made here rather than fetched
    one page at a time: a comment POST needs a token of its own (they are single-use)."""
    import urllib.parse

    from django.http import HttpRequest

    from articles.models import Article
    from comments.forms import make_form_token

    article = Article.objects.get(slug=slug)
    browser = HttpRequest()
    browser.META["CSRF_COOKIE"] = csrf_cookie  # as CsrfViewMiddleware reads it from the cookie
    with open(path, "w") as file:
        for _ in range(count):
            file.write(urllib.parse.quote(make_form_token(article, request=browser), safe="") + "\n")
    result(count)


if __name__ == "__main__":
    import django

    django.setup()
    command, *args = sys.argv[1:]
    if command == "profile":
        profile(args[0], int(args[1]), args[2])
    elif command == "queries":
        user = None
        if args[0] == "--user":
            user, args = args[1], args[2:]
        queries(args, user)
    elif command == "timing":
        accept_encoding = None
        if args[0] == "--accept-encoding":
            accept_encoding, args = args[1], args[2:]
        timing(int(args[0]), args[1:], accept_encoding)
    elif command == "cache-round-trip":
        cache_round_trip(args[0], int(args[1]))
    elif command == "session":
        session(args[0])
    elif command == "form-tokens":
        form_tokens(args[0], args[1], int(args[2]), args[3])
    else:
        sys.exit(__doc__)
