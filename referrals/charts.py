"""A server-rendered SVG chart: referrals given vs received and closed value per month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from . import rollups
from .models import Direction, Referral, Status
from .money import format_money

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 220, 34, 28, 14


@dataclass
class Bar:
    x: float
    y: float
    height: float
    value: int
    label: str


@dataclass
class Chart:
    months: list[dict]
    given: list[Bar]
    received: list[Bar]
    value_points: str
    value_dots: list[dict]
    max_count: int
    max_value_label: str
    currency: str
    width: int = WIDTH
    height: int = HEIGHT
    plot_bottom: int = HEIGHT - PAD_BOTTOM
    pad_left: int = PAD_LEFT
    has_data: bool = False
    bar_width: float = 0


def _month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    out = []
    y, m = first.year, first.month
    for _ in range(months):
        out.append(date(y, m, 1))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return list(reversed(out))


def monthly_chart(user, partner=None, months: int = 12) -> Chart:
    """Two queries: the user's from the month rollups (referrals/rollups.py), a partner's
    grouped by month in SQL over that partner's referrals (the partner index)."""
    starts = _month_starts(timezone.localdate(), months)
    currency = user.default_currency
    if partner is None and rollups.enabled():
        counts = rollups.chart_counts(user, starts[0])
        values = rollups.chart_values(user, starts[0], currency)
    else:
        counts, values = _aggregate(user, partner, starts[0], currency)
    max_count = max([*counts.values(), 1])
    max_value = max([*values.values(), Decimal(1)])
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / months
    bar_w = slot * 0.36
    given, received, points, dots, labels = [], [], [], [], []
    for i, start in enumerate(starts):
        x0 = PAD_LEFT + i * slot + slot * 0.12
        label = start.strftime("%b")
        for direction, series, offset in (
            (Direction.GIVEN, given, 0),
            (Direction.RECEIVED, received, bar_w),
        ):
            n = counts.get((start, direction), 0)
            h = plot_h * n / max_count
            series.append(Bar(x0 + offset, HEIGHT - PAD_BOTTOM - h, h, n, label))
        v = values.get(start, Decimal(0))
        cx = PAD_LEFT + i * slot + slot / 2
        cy = HEIGHT - PAD_BOTTOM - float(plot_h * v / max_value)
        points.append(f"{cx:.1f},{cy:.1f}")
        dots.append({"x": cx, "y": cy, "label": f"{label}: {format_money(v, currency)}"})
        labels.append({"x": cx, "label": label, "year": start.year})
    return Chart(
        months=labels,
        given=given,
        received=received,
        value_points=" ".join(points),
        value_dots=dots,
        max_count=max_count,
        max_value_label=format_money(max_value, currency) if values else "",
        currency=currency,
        has_data=bool(counts or values),
        bar_width=round(bar_w, 1),
    )


def _aggregate(user, partner, since: date, currency: str):
    referrals = Referral.objects.for_user(user)
    if partner is not None:
        referrals = referrals.filter(partner=partner)
    counts = {
        (_as_date(row["month"]), row["direction"]): row["n"]
        for row in referrals.filter(referred_on__gte=since)
        .annotate(month=TruncMonth("referred_on"))
        .values("month", "direction")
        .annotate(n=Count("pk"))
        .order_by()
    }
    values = {
        _as_date(row["month"]): row["total"]
        for row in referrals.filter(
            status=Status.WON, closed_on__gte=since, currency=currency, value__isnull=False
        )
        .annotate(month=TruncMonth("closed_on"))
        .values("month")
        .annotate(total=Sum("value"))
        .order_by()
    }
    return counts, values


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") else value
