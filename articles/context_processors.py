"""The addresses every reader page links to (head, navigation, footer), made once per process.

Eleven `{% url %}` and three `{% static %}` tags in base.html cost about a tenth of an uncached
article page; their addresses only change with the site's path prefix, its URLs or its static
files, so they are made once for each prefix and URL configuration and kept.
"""

from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse

# {name in templates: (view name, its arguments)}
PAGES = {
    "home": ("articles:list", ()),
    "topics": ("articles:topics", ()),
    "search": ("articles:search", ()),
    "feed": ("articles:feed", ()),
    "atom_feed": ("articles:atom_feed", ()),
    "what_is_smp": ("articles:detail", ("what-is-scalp-micropigmentation",)),
    "about": ("articles:site_page", ("about",)),
    "editorial_policy": ("articles:site_page", ("editorial-policy",)),
    "privacy": ("articles:site_page", ("privacy",)),
}
STATIC_FILES = {
    "favicon": "favicon.svg",
    "bootstrap_css": "bootstrap/css/bootstrap.min.css",
    "site_css": "css/site.css",
}


def site_addresses(request):
    """`site_addresses.<name>` in templates: the address of each of PAGES and STATIC_FILES."""
    return {"site_addresses": addresses(get_script_prefix(), get_urlconf())}


@lru_cache(maxsize=16)
def addresses(prefix, urlconf):
    """Made under the current prefix and URL configuration, which the arguments name."""
    made = {name: reverse(view, args=args) for name, (view, args) in PAGES.items()}
    return made | {name: static(path) for name, path in STATIC_FILES.items()}


@receiver(setting_changed)
def forget_addresses(setting, **kwargs):
    if setting in ("ROOT_URLCONF", "STATIC_URL", "STORAGES", "FORCE_SCRIPT_NAME"):
        addresses.cache_clear()
