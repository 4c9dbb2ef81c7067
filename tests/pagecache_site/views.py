"""Views whose pages say what they show, so tests can tell a cached page from a fresh one."""

import threading
import time

from django.http import HttpResponse
from django.middleware.csrf import get_token

from pagecache import cache_for_readers, page_changes_at, page_shows

# What the views show; tests change it as a write would.
shown = {"greeting": "hello", "closes_at": None}


@cache_for_readers
def greeting(request, name):
    if name == "missing":
        return HttpResponse("no such greeting", status=404)
    # Three pages; anything else shows the first, as a paginated list does.
    page = request.GET.get("page") if request.GET.get("page") in ("1", "2", "3") else "1"
    page_shows(request, page=page)
    return HttpResponse(f"<p>{shown['greeting']}, {name}, page {page}</p>")


@cache_for_readers
def form(request):
    page_changes_at(request, shown["closes_at"])
    token = f"made-for-{request.GET.get('for', 'x')}"
    return HttpResponse(
        f'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="{get_token(request)}">'
        f'<input type="hidden" name="ticket" value="{token}"></form>'
    )


def renew_ticket(request, stored_value):
    """The hole filler of the test site: says what it was given, and that it is fresh."""
    return f"fresh-{stored_value}"


@cache_for_readers
def slow(request, status):
    """A page that takes a while to render and counts its renders."""
    time.sleep(SLOW_SECONDS)
    with render_lock:
        renders.append(status)
    return HttpResponse(f"<p>slow page, status {status}</p>", status=status)


SLOW_SECONDS = 0.3
renders = []
render_lock = threading.Lock()


@cache_for_readers
def broken(request):
    return HttpResponse("server error", status=500)


def next_greeting_change():
    """The test site's scheduled change (PAGE_CACHE_SCOPES)."""
    return shown.get("next_change")
