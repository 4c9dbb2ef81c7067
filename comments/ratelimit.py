"""Per-address limit on comment posts, kept in Django's cache (shared when Redis is set)."""

import logging
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)

RATE_PATTERN = re.compile(r"^(\d+)/(\d*)([smhd])$")
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate, setting="COMMENTS_RATE_LIMIT"):
    """`"5/10m"` -> (5, 600); `"0"` or empty -> None (no limit). Anything else is an error
    that names the `setting` it came from."""
    rate = (rate or "").strip()
    if rate in ("", "0"):
        return None
    match = RATE_PATTERN.match(rate)
    if not match or int(match.group(1)) == 0:
        raise ImproperlyConfigured(
            f"{setting} must look like 5/10m (count/period, period in s, m, h or d) "
            f"or be 0 to turn it off; got {rate!r}."
        )
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * PERIOD_SECONDS[unit]


def reader_address(request):
    """The reader's address: REMOTE_ADDR, which the project's client-address middleware
    sets to the address the trusted proxies saw when the site runs behind them."""
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


def retry_after_seconds(rate=None, setting="COMMENTS_RATE_LIMIT"):
    """The Retry-After of a refusal by `rate` (COMMENTS_RATE_LIMIT unless given): its period."""
    parsed = parse_rate(settings.COMMENTS_RATE_LIMIT if rate is None else rate, setting)
    return parsed[1] if parsed else 0


def comment_rate_exceeded(request):
    """Count this post against the reader's address; True when over COMMENTS_RATE_LIMIT.

    If the cache is down the limit is skipped and the failure logged: an outage
    of the cache must not stop readers from commenting.
    """
    return rate_exceeded(
        request, "comments.post", settings.COMMENTS_RATE_LIMIT, "COMMENTS_RATE_LIMIT", "Comment"
    )


def report_rate_exceeded(request):
    """Count this report against the reader's address; True when over COMMENTS_REPORT_RATE_LIMIT."""
    return rate_exceeded(
        request,
        "comments.report",
        settings.COMMENTS_REPORT_RATE_LIMIT,
        "COMMENTS_REPORT_RATE_LIMIT",
        "Report",
    )


def rate_exceeded(request, group, rate, setting, what):
    parsed = parse_rate(rate, setting)
    if parsed is None:
        return False
    try:
        return is_ratelimited(
            request,
            group=group,
            key=lambda group, request: reader_address(request),
            rate=parsed,
            increment=True,
        )
    except Exception:
        logger.exception("%s rate limit skipped: the cache did not answer", what)
        return False
