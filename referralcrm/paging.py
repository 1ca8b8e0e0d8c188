"""Pagination whose cost does not grow with the user's data.

Django's Paginator counts every matching row (``SELECT COUNT(*)``) on every page view. A
list page instead passes the total when a counter kept current on write knows it
(``known_count``); otherwise the rows are counted only up to ``cap`` — a bounded query —
and the page says "1,000+" and offers the first ``cap`` rows, asking for a narrower filter.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 1000


class CountedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, known_count: int | None = None, cap=COUNT_CAP):
        super().__init__(object_list, per_page)
        self.known_count = known_count
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        # COUNT(*) over a LIMITed subquery: at most cap + 1 rows are read, and only their
        # ids: no sort (a search's rank) and no annotation (a search's reason) computed.
        rows = self.object_list
        if hasattr(rows, "values"):
            rows = rows.order_by().values("pk")
        counted = rows[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)
