"""Site-wide request handling: one log line per request, and a calm page when the database is down."""

import ipaddress
import logging
import time
from functools import lru_cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.shortcuts import render
from django.urls import NoReverseMatch, get_urlconf, reverse

request_logger = logging.getLogger("smpinfo.request")
logger = logging.getLogger(__name__)


class RequestLogMiddleware:
    """Log one structured line per request: method, path, status, duration, cache outcome.

    No client address, browser or query string (search terms): only what operating the
    site needs. Comment moderation keeps its own record of addresses, in the database.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "page_cache": response.get("X-Page-Cache", ""),
            },
        )
        return response


@lru_cache(maxsize=1)
def site_policies():
    """The site-wide policy headers, built once from settings (about 90 µs a response otherwise)."""
    return build_policy(), build_policy(report_only=True)


@receiver(setting_changed)
def forget_site_policies(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        site_policies.cache_clear()


def excluded_from_policy(request, setting_name):
    """Whether the path is under the setting's EXCLUDE_URL_PREFIXES, checked as django-csp does."""
    prefixes = (getattr(settings, setting_name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
    return request.path_info.startswith(tuple(prefixes))


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site-wide policy built once, not per response.

    The cached headers are used only when django-csp's own get_policy_parts() has
    nothing to add, for the policy and the report-only policy alike: no @csp,
    @csp_update or @csp_replace on the view, and no nonce used. Anything else, and
    every response under DEBUG, goes through django-csp's process_response. As
    django-csp does, a header already on the response is kept and paths under
    EXCLUDE_URL_PREFIXES get none.

    get_policy_parts() does not report @csp_exempt, so the cached path cannot see
    it and would still add the headers. This site exempts no view; one that starts
    to must drop this fast path.
    """

    def process_response(self, request, response):
        if (
            settings.DEBUG
            or self.get_policy_parts(request, response) != PolicyParts()
            or self.get_policy_parts(request, response, report_only=True) != PolicyParts()
        ):
            return super().process_response(request, response)
        policy, report_only = site_policies()
        if policy and HEADER not in response and not excluded_from_policy(request, "CONTENT_SECURITY_POLICY"):
            response[HEADER] = policy
        if (
            report_only
            and HEADER_REPORT_ONLY not in response
            and not excluded_from_policy(request, "CONTENT_SECURITY_POLICY_REPORT_ONLY")
        ):
            response[HEADER_REPORT_ONLY] = report_only
        return response


def forwarded_client_address(forwarded_for, proxies):
    """The client's address in an X-Forwarded-For value written through `proxies` trusted
    proxies, or None when the value does not hold one.

    Each trusted proxy appends the address it saw, so the client is the Nth address from
    the right; addresses further left were written by the client and cannot be trusted.
    """
    hops = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if len(hops) < proxies:
        return None
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return None


# The headers only a proxy may set; from anyone else they are dropped.
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_FORWARDED",
)


def is_trusted_proxy(peer):
    """Whether the connecting address is one of TRUSTED_PROXY_ADDRESSES (FORWARDED_ALLOW_IPS).

    A peer without an address is a UNIX socket, which only the machine's own proxy can
    reach: gunicorn trusts it too.
    """
    if not peer:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in settings.TRUSTED_PROXY_ADDRESSES)


class ClientAddressMiddleware:
    """Trust forwarded headers from the proxies the settings name only, and make
    REMOTE_ADDR the reader's address when the site runs behind them.

    X-Forwarded-For, X-Forwarded-Proto (which SECURE_PROXY_SSL_HEADER reads under
    DJANGO_HTTPS) and their kin are dropped unless the peer is in FORWARDED_ALLOW_IPS.
    With DJANGO_TRUSTED_PROXIES=N, the address is then taken from X-Forwarded-For (see
    forwarded_client_address). Every part of the site reads the one address: comments
    store it and rate-limit by it, and login throttling (django-axes) locks it out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        proxies = settings.TRUSTED_PROXY_COUNT
        if proxies:
            address = forwarded_client_address(request.META.get("HTTP_X_FORWARDED_FOR", ""), proxies)
            if address is not None:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)


class RejectUnreadableCharsetMiddleware:
    """400 for a request body whose declared charset is not a text encoding.

    Django's form parsers raise an exception (a 500) on a charset such as rot13 or
    base64, and the CSRF check reads the body before any view runs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        charset = (request.content_params or {}).get("charset")
        if charset:
            try:
                b"x".decode(charset, "replace")
            except (LookupError, UnicodeError):
                return render(
                    request,
                    "400.html",
                    {"reason": f"It declared the character set “{charset}”, which is not a text encoding."},
                    status=400,
                )
        return self.get_response(request)


# No link of the admin has a longer query value (SQLite refuses LIKE patterns over 50,000 bytes).
ADMIN_QUERY_VALUE_MAX_LENGTH = 2000


class RejectUnusableAdminQueriesMiddleware:
    """400, with the reason, for an admin address whose query string the database could
    not take: a NUL character, or a value longer than any admin link has.

    The admin passes its query string to the database as filters and searches (any field
    lookup, such as `?status__exact=…`): PostgreSQL cannot compare text holding NUL, and
    SQLite refuses a LIKE pattern that long, so either would otherwise fail the page.
    Reader pages handle their few parameters themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        prefix = admin_prefix(get_urlconf() or settings.ROOT_URLCONF)
        if prefix and request.path.startswith(prefix):
            reason = unusable_query_reason(request.GET)
            if reason:
                return render(request, "400.html", {"reason": reason}, status=400)
        return self.get_response(request)


def unusable_query_reason(query):
    for key, values in query.lists():
        for text in (key, *values):
            if "\x00" in text:
                return "Its address held a NUL character (%00), which no admin page can use."
            if len(text) > ADMIN_QUERY_VALUE_MAX_LENGTH:
                limit = ADMIN_QUERY_VALUE_MAX_LENGTH
                return f"Its address held a value of {len(text):,} characters; the limit is {limit:,}."
    return None


@lru_cache(maxsize=8)
def admin_prefix(urlconf):
    """Where the admin's pages start in `urlconf`, or None when it has no admin."""
    try:
        return reverse("admin:index", urlconf=urlconf)
    except NoReverseMatch:
        return None


class DatabaseUnavailableMiddleware:
    """Answer 503 with the site's own page when the database cannot be reached.

    A reader who was sending a comment sees their text again, to copy and send later.
    Persistent connections are health-checked (CONN_HEALTH_CHECKS), so the same
    process serves normally again as soon as the database is back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("Database unavailable while serving %s %s: %s", request.method, request.path, exception)
        unsaved = None
        if request.method == "POST" and request.POST.get("body"):
            unsaved = {"name": request.POST.get("author_name", ""), "body": request.POST.get("body", "")}
        response = render(request, "503.html", {"unsaved_comment": unsaved}, status=503)
        response["Retry-After"] = "30"
        return response


def admin_login_locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: our page, status 429, how long to wait."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(request, "admin_lockout.html", {"cooloff_minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
