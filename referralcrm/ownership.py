"""Owner scoping in one place: every user-owned model's manager is built from this."""

from __future__ import annotations

import operator
from functools import reduce

from django.db import models
from django.db.models.functions import RowNumber


class OwnedQuerySet(models.QuerySet):
    def for_user(self, user) -> OwnedQuerySet:
        """Rows owned by ``user``; nothing at all for an anonymous user."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


OwnedManager = models.Manager.from_queryset(OwnedQuerySet)


def first_per_owner(queryset, order_by: list[str], limit: int, owner: str = "owner") -> dict:
    """{owner id: the first ``limit`` rows of that owner in ``order_by`` order}, in one
    query whatever the number of owners: ``ROW_NUMBER() OVER (PARTITION BY owner ORDER BY
    ...)`` kept where it is at most ``limit`` (Django filters on the window in an outer
    query). Every matching row of those owners is ranked, so it suits lists that are short
    per user once filtered (the batch digest's follow-ups due, stalled contacts, open
    referrals). ``owner`` is the lookup of the user id ("giver__user" for a slip)."""
    ranked = (
        queryset.annotate(
            row_owner=models.F(owner),
            row_rank=models.Window(
                RowNumber(), partition_by=models.F(owner), order_by=list(order_by)
            ),
        )
        .filter(row_rank__lte=limit)
        .order_by("row_owner", "row_rank")
    )
    rows: dict = {}
    for row in ranked:
        rows.setdefault(row.row_owner, []).append(row)
    return rows


def each_on_their_day(owners_days, condition, owner: str = "owner") -> models.Q:
    """``condition(day)`` for each owner on their own day, as one filter: owners sharing a
    day share a term, so a batch swept at one instant (two or three local dates across
    the time zones) stays a short condition. ``owners_days`` is (owner id, day) pairs."""
    by_day: dict = {}
    for owner_id, day in owners_days:
        by_day.setdefault(day, []).append(owner_id)
    terms = [models.Q(**{f"{owner}__in": ids}) & condition(day) for day, ids in by_day.items()]
    return reduce(operator.or_, terms) if terms else models.Q(pk__in=[])
