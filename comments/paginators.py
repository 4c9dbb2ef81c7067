"""An admin paginator that does not count a million rows to show fifty."""

import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 10_000


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, use the planner's row estimate when it is large.

    `COUNT(*)` reads every matching row; on a big table that costs more than the page
    itself. When the planner expects more than EXACT_COUNT_LIMIT rows, the page count
    is based on its estimate (the last pages may then be off by a little); smaller
    results, and every result on other databases, are counted exactly.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor == "postgresql":
            try:
                sql, params = queryset.order_by().query.sql_with_params()
            except EmptyResultSet:  # a filter that nothing can match (an unknown status)
                return 0
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            estimate = int(plan[0]["Plan"]["Plan Rows"])
            if estimate > EXACT_COUNT_LIMIT:
                return estimate
        return super().count
