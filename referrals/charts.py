"""A server-rendered SVG chart: referrals given vs received and closed value per month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from referralcrm.links import escape

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


# --- Markup --------------------------------------------------------------------------------

EMPTY = (
    '<p class="muted">No referrals in the last 12 months yet: the chart fills in as you log '
    "them.</p>"
)


TENTH = Decimal("0.1")


def one_place(x: float) -> str:
    """``{{ x|floatformat:1 }}`` of a coordinate: its repr rounded half up to one decimal
    place, as the filter does, without its localisation (a coordinate is never grouped or
    written with a decimal comma); ~15 times faster, and a chart has a hundred."""
    return format(Decimal(repr(x)).quantize(TENTH, ROUND_HALF_UP), "f")


def render(chart: Chart, id: str = "main") -> SafeString:
    """referrals/_chart.html, in Python (~50 shapes whose coordinates the template engine
    formatted one filter at a time; tests compare the two). Coordinates are rounded as its
    ``floatformat:1`` rounds them (``one_place``); every text is escaped."""
    if not chart.has_data:
        return mark_safe(EMPTY)  # noqa: S308  # nosec B308, B703
    id = escape(id or "main")
    bottom, width = chart.plot_bottom, chart.bar_width
    out = [
        '<figure class="chart">\n'
        f'<svg viewBox="0 0 {chart.width} {chart.height}" role="img" '
        f'aria-labelledby="chart-title-{id}" preserveAspectRatio="xMidYMid meet">\n'
        f'<title id="chart-title-{id}">Referrals given and received per month, and closed '
        f"value in {escape(chart.currency)}, last 12 months</title>\n"
        f'<line x1="{chart.pad_left}" y1="{bottom}" x2="{chart.width}" y2="{bottom}" '
        'class="axis"/>\n'
        f'<text x="2" y="20" class="tick">{chart.max_count}</text>\n'
    ]
    for series, kind in ((chart.given, "given"), (chart.received, "received")):
        out.extend(
            f'<rect x="{one_place(bar.x)}" y="{one_place(bar.y)}" width="{width}" '
            f'height="{one_place(bar.height)}" class="bar-{kind}"><title>'
            f"{escape(bar.label)}: {bar.value} {kind}</title></rect>\n"
            for bar in series
        )
    out.append(f'<polyline points="{escape(chart.value_points)}" class="value-line"/>\n')
    out.extend(
        f'<circle cx="{one_place(dot["x"])}" cy="{one_place(dot["y"])}" r="3" '
        f'class="value-dot"><title>{escape(dot["label"])} closed</title></circle>'
        for dot in chart.value_dots
    )
    out.extend(
        f'<text x="{one_place(m["x"])}" y="{chart.height - 8}" class="tick" '
        f'text-anchor="middle">{escape(m["label"])}</text>'
        for m in chart.months
    )
    peak = f" (peak {escape(chart.max_value_label)})" if chart.max_value_label else ""
    out.append(
        "\n</svg>\n"
        '<figcaption class="legend">\n'
        '<span><i class="swatch bar-given"></i> given</span>\n'
        '<span><i class="swatch bar-received"></i> received</span>\n'
        f'<span><i class="swatch value-line-swatch"></i> closed value{peak}</span>\n'
        "</figcaption>\n</figure>"
    )
    return mark_safe("".join(out))  # noqa: S308  # nosec B308, B703
