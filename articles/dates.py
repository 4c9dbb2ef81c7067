"""Dates as reader pages show them, made from the parts of the date.

Django's date filter reads its format string a letter at a time and looks up each letter's
method: about 45 µs a date, and an article page shows four (a home page twenty), a tenth of
an uncached article page. These give the very text of `|date:"Y-m-d\\TH:i:sO"` (a <time>
element's datetime) and `|date:"j F Y"` (a property test compares them) in a few µs, for an
aware datetime, which is what the database gives; anything else goes to the filter itself.
"""

from datetime import datetime
from functools import lru_cache

from django.template.defaultfilters import date as date_filter
from django.utils.dates import MONTHS
from django.utils.translation import get_language

ISO_FORMAT = "Y-m-d\\TH:i:sO"
LONG_FORMAT = "j F Y"


def iso_moment(value):
    """`value|date:"Y-m-d\\TH:i:sO"`: "2026-12-02T09:16:05+0100", in value's own time zone."""
    if not is_aware(value):
        return date_filter(value, ISO_FORMAT)
    day = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    return f"{day}T{clock(value)}:{value.second:02d}{offset(value)}"


def day_month_year(value):
    """`value|date:"j F Y"`: "2 December 2026"."""
    if not is_aware(value):
        return date_filter(value, LONG_FORMAT)
    return f"{value.day} {month_names(get_language())[value.month]} {value.year:04d}"


def clock(value):
    """The time of day as the date filter's "H:i" gives it: "09:16"."""
    return f"{value.hour:02d}:{value.minute:02d}"


def offset(value):
    """The date filter's "O" ("+0100"): nothing for a local time that a change of the clocks
    makes ambiguous or impossible, as the filter does."""
    zone = value.tzinfo
    difference = zone.utcoffset(value)
    if zone.utcoffset(value.replace(fold=not value.fold)) != difference:
        return ""
    seconds = difference.days * 86400 + difference.seconds
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}{seconds // 60 % 60:02d}"


@lru_cache(maxsize=8)
def month_names(language):
    """The months' names ("F") in `language` (the active one names the cache entry), 1 to 12."""
    return [None, *(str(MONTHS[number]) for number in range(1, 13))]


def is_aware(value):
    return isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is not None
