"""Holes: the personal or time-bound values of a cached page, filled in per request.

PAGE_CACHE_HOLES maps a form field's name to the dotted path of a function
`fill(request, stored_value)` returning the value this request gets, as it goes into
the page's HTML (tokens need no escaping); `stored_value` is what that place held when
the page was stored (a signed token may say what it was made for). A stored page keeps
a numbered marker where each such value was, so each place is filled from its own
stored value.

A hole is a hidden input as Django writes it (`{% csrf_token %}`, a form's HiddenInput):
`<input type="hidden" name="…" value="…"`. Only templates write such a tag: text that
editors or readers wrote reaches the page escaped or sanitized, so a code example that
quotes a field (`name="csrfmiddlewaretoken" value="…"`) is never filled in.
"""

import re
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware.csrf import get_token

from pagecache.store import import_setting

DEFAULT_HOLES = {"csrfmiddlewaretoken": "pagecache.holes.csrf_token"}


def csrf_token(request, stored_value):
    """The CSRF token of this reader (Django's own, as `{% csrf_token %}` gives it)."""
    return get_token(request)


def marker(number):
    return f"\x00hole:{number}\x00"


@lru_cache(maxsize=1)
def fillers():
    """{field name: fill function} from PAGE_CACHE_HOLES."""
    holes = getattr(settings, "PAGE_CACHE_HOLES", DEFAULT_HOLES)
    return {name: import_setting("PAGE_CACHE_HOLES", name, path) for name, path in holes.items()}


@lru_cache(maxsize=1)
def hole_pattern():
    names = "|".join(re.escape(name) for name in fillers())
    return re.compile(rf'(<input type="hidden" name="({names})" value=")([^"]*)(")') if names else None


def cut_holes(content):
    """The content with a numbered marker in place of each hole's value, and the
    [(field name, stored value)] of the holes, in order."""
    pattern = hole_pattern()
    stored = []
    if pattern is None:
        return content, stored

    def cut(match):
        stored.append((match.group(2), match.group(3)))
        return match.group(1) + marker(len(stored) - 1) + match.group(4)

    return pattern.sub(cut, content), stored


def hole_values(request, stored):
    """This request's value of each hole, in order."""
    functions = fillers()
    return [functions[name](request, stored_value) for name, stored_value in stored]


def fill_holes(request, content, stored, values=None):
    """The content with this request's value in each hole (`values`, when already known)."""
    if not stored:
        return content
    for number, value in enumerate(hole_values(request, stored) if values is None else values):
        content = content.replace(marker(number), value)
    return content


@receiver(setting_changed)
def forget_fillers(setting, **kwargs):
    if setting == "PAGE_CACHE_HOLES":
        fillers.cache_clear()
        hole_pattern.cache_clear()
