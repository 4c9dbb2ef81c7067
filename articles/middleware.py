"""Old addresses answer where the site has no page: 301 to where they lead now, or 410 Gone."""

import logging
from contextlib import suppress
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.cache import patch_cache_control

from articles import missing_paths
from articles.models import Redirect

logger = logging.getLogger(__name__)

# How long browsers and proxies may keep a 301 or a 410: a permanent redirect is otherwise
# kept for good by some browsers, and an editor may give the old address to a new article.
ANSWER_MAX_AGE = 3600


class RedirectMiddleware:
    """Answer a 404 to GET or HEAD from the redirects (articles.models.Redirect), and count
    the paths that stay missing for the 404 report (articles.missing_paths).

    It acts on the response alone, so an article or any other page at an address always
    wins over a redirect saved from it. It sits just below the page cache: a cached page
    is never a 404 (the cache stores only successful pages), so hits never reach it, and a
    page cached at an address that becomes old is retired by the article's save (the
    "articles" scope) before its redirect is asked. A POST (a comment sent to an old
    address) keeps its 404. The admin and static files are left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code != 404
            or request.method not in ("GET", "HEAD")
            or is_left_alone(request.path)
        ):
            return response
        try:
            answer = Redirect.objects.answering(request.path_info, request.META.get("QUERY_STRING", ""))
        except DatabaseError:
            logger.exception("Redirects unavailable: %s answered 404", request.path)
            return response
        if answer is None:
            missing_paths.count(request.path_info)
            return response
        redirect, location = answer
        if redirect.is_gone:
            answered = render(request, "410.html", status=410)
        else:
            if location.startswith("/"):
                location = get_script_prefix().rstrip("/") + location
            answered = HttpResponsePermanentRedirect(location)
        patch_cache_control(answered, max_age=ANSWER_MAX_AGE)
        return answered


def is_left_alone(path):
    """The admin's pages and static or media files: their 404s are theirs."""
    return path.startswith(left_alone_prefixes(get_urlconf() or settings.ROOT_URLCONF))


@lru_cache(maxsize=8)
def left_alone_prefixes(urlconf):
    # An unset MEDIA_URL reads as the script prefix ("/"): that is the whole site, not media.
    urls = (settings.STATIC_URL, settings.MEDIA_URL)
    prefixes = [url for url in urls if url and url.startswith("/") and url != get_script_prefix()]
    with suppress(NoReverseMatch):  # a site without the admin
        prefixes.append(reverse("admin:index", urlconf=urlconf))
    return tuple(prefixes)


@receiver(setting_changed)
def forget_prefixes(setting, **kwargs):
    if setting in ("STATIC_URL", "MEDIA_URL", "ROOT_URLCONF"):
        left_alone_prefixes.cache_clear()
