"""The dates reader pages show are the date filter's, made faster (articles.dates)."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from articles import dates
from tests.strategies import fuzz_settings

ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Amsterdam",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
]


@fuzz_settings(500)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
)
# 01:30 comes twice that night in London (the clocks go back): the filter gives no offset.
@example(moment=datetime(2026, 10, 25, 0, 30, tzinfo=UTC), zone="Europe/London")
# Amsterdam's local mean time, +00:19:32: the filter leaves the seconds out.
@example(moment=datetime(1890, 5, 1, 12, 0, tzinfo=UTC), zone="Europe/Amsterdam")
def test_an_aware_moment_reads_as_the_date_filter_writes_it(moment, zone):
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))

    assert dates.iso_moment(local) == date_filter(local, "Y-m-d\\TH:i:sO")
    assert dates.day_month_year(local) == date_filter(local, "j F Y")
    assert dates.clock(local) == date_filter(local, "H:i")


@pytest.mark.parametrize("value", [None, "", datetime(2026, 12, 2, 9, 16)])
def test_values_that_are_not_aware_moments_are_left_to_the_date_filter(value):
    assert dates.iso_moment(value) == date_filter(value, "Y-m-d\\TH:i:sO")
    assert dates.day_month_year(value) == date_filter(value, "j F Y")


def test_the_filters_show_the_moment_in_the_current_time_zone_as_the_date_filter_does():
    template = engines["django"].from_string(
        "{% load shown_dates %}{{ moment|iso_moment }} {{ moment|day_month_year }}|"
        "{{ moment|date:'Y-m-d\\TH:i:sO' }} {{ moment|date:'j F Y' }}"
    )
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)

    with timezone.override(zoneinfo.ZoneInfo("Asia/Kolkata")):
        ours, djangos = template.render({"moment": moment}).split("|")

    assert ours == djangos == "2027-01-01T05:00:00+0530 1 January 2027"


def test_a_thread_dates_its_comments_as_the_filter_would(db):
    from comments.thread import with_shown_dates
    from tests.factories import CommentFactory

    comment = CommentFactory(created_at=timezone.now() - timedelta(days=3))
    local = timezone.localtime(comment.created_at)

    [shown] = with_shown_dates([comment])

    assert shown.shown_at == date_filter(local, "j F Y, H:i")
    assert shown.shown_at_iso == date_filter(local, "Y-m-d\\TH:i:sO")
