"""Per-address limit on comment posts, kept in Django's cache (shared when Redis is set)."""

import logging
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)

RATE_PATTERN = re.compile(r"^(\d+)/(\d*)([smhd])$")
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """`"5/10m"` -> (5, 600); `"0"` or empty -> None (no limit). Anything else is an error."""
    rate = (rate or "").strip()
    if rate in ("", "0"):
        return None
    match = RATE_PATTERN.match(rate)
    if not match or int(match.group(1)) == 0:
        raise ImproperlyConfigured(
            f"COMMENTS_RATE_LIMIT must look like 5/10m (count/period, period in s, m, h or d) "
            f"or be 0 to turn it off; got {rate!r}."
        )
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * PERIOD_SECONDS[unit]


def client_ip(request):
    """The reader's address: REMOTE_ADDR, or the address the trusted proxies saw.

    With DJANGO_TRUSTED_PROXIES=N, the Nth address from the right of
    X-Forwarded-For is the client (each trusted proxy appends the one it saw);
    addresses further left were written by the client and cannot be trusted.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


def retry_after_seconds():
    parsed = parse_rate(settings.COMMENTS_RATE_LIMIT)
    return parsed[1] if parsed else 0


def comment_rate_exceeded(request):
    """Count this post against the reader's address; True when over COMMENTS_RATE_LIMIT.

    If the cache is down the limit is skipped and the failure logged: an outage
    of the cache must not stop readers from commenting.
    """
    parsed = parse_rate(settings.COMMENTS_RATE_LIMIT)
    if parsed is None:
        return False
    try:
        return is_ratelimited(
            request,
            group="comments.post",
            key=lambda group, request: client_ip(request),
            rate=parsed,
            increment=True,
        )
    except Exception:
        logger.exception("Comment rate limit skipped: the cache did not answer")
        return False
