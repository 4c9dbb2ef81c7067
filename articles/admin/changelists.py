"""What every changelist of the site shares: a bad filter value is a clear answer, never an error."""

import re

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


def as_id(value):
    """`value` as a primary key when it is one, else None: ASCII digits ("²" is a digit to
    str.isdigit()) that fit a 64-bit integer (SQLite refuses larger ones)."""
    value = str(value)
    return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else None


class LenientChangeList(ChangeList):
    """A changelist that answers a filter value the database cannot take (a year out of
    range, an integer too large for its column) as Django answers an unknown lookup: the
    list again with "?e=1", not a server error. Such values only fail when the query is
    built or sent, after Django's own checks of the lookup."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:  # a date-hierarchy year beyond any date
            raise IncorrectLookupParameters(error) from error

    def get_results(self, request):
        try:
            super().get_results(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class LenientChangeListMixin:
    """For the site's admins: their changelists are LenientChangeLists."""

    def get_changelist(self, request, **kwargs):
        return LenientChangeList
