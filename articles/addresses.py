"""The addresses of pages named by a slug (an article, an author, a topic, a site page),
put together from parts made once per process.

An article page asks for about seven of them (its own address in the canonical link, the
JSON-LD and the thread; its topics', its related articles', its authors'): through
`reverse()` each one looks the view up, checks the slug against the pattern and quotes it,
about 6% of an uncached page. A slug is letters, digits, hyphens and underscores, none of
which an address quotes, so the address is the one reverse() gives for any other slug with
this slug in its place. The parts are made once for each path prefix and URL configuration,
as base.html's addresses are (articles.context_processors).
"""

import re
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

# What the <slug:...> path converter accepts.
SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
# The views whose addresses reader pages make most (smpinfo.warmup makes their parts first).
SLUG_PAGES = ("articles:detail", "articles:author", "articles:topic", "articles:site_page")
# Made up to be found again in the address reverse() makes for it.
STAND_IN = "slug-made-up-to-be-found-in-the-address"


def slug_address(view, slug):
    """reverse(view, kwargs={"slug": slug}): the same address, the same errors."""
    if isinstance(slug, str) and SLUG.match(slug):
        parts = address_parts(view, get_script_prefix(), get_urlconf())
        if parts:
            start, end = parts
            return f"{start}{slug}{end}"
    return reverse(view, kwargs={"slug": slug})


@lru_cache(maxsize=64)
def address_parts(view, script_prefix, urlconf):
    """What comes before and after the slug in `view`'s address under the current prefix and
    URL configuration (the arguments name them), or None when they cannot be told apart."""
    try:
        address = reverse(view, kwargs={"slug": STAND_IN})
    except NoReverseMatch:  # not a view with a slug converter: reverse() says why, each time
        return None
    if address.count(STAND_IN) != 1:
        return None
    start, _, end = address.partition(STAND_IN)
    return start, end


@receiver(setting_changed)
def forget_address_parts(setting, **kwargs):
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        address_parts.cache_clear()
