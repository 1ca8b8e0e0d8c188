"""The member report: per member figures for a period, group totals, and member health.

Reads only the group's own tables (slips, one-to-ones, attendance, visitors, outside
numbers members chose to report), each with one aggregate query grouped by member, so a
300-member group over a year costs the same dozen queries as a 10-member one.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from django.db.models import CharField, Count, Exists, OuterRef, Q, Sum, Value

from referrals.models import Status
from referrals.money import format_totals

from .models import (
    ATTENDANCE_CYCLE,
    CURRENT_STATUSES,
    Attendance,
    AttendanceCode,
    Group,
    GroupMeeting,
    Membership,
    MembershipStatus,
    OneToOne,
    OutsideReport,
    Slip,
    Visitor,
)

DAYS_PER_MONTH = Decimal("30.44")
PRESENT_CODES = {"P", "L", "M", "S"}  # attended, or excused / covered by a substitute
TREND_DAYS = 91  # falling attendance: the last 13 weeks against the 13 before
TREND_DROP = 15  # percentage points


@dataclass
class Part:
    """One figure of a member's health score, with the thresholds it was judged by (its
    light and points are worked out once: a part never changes after scoring)."""

    key: str
    label: str
    value: float | None
    unit: str
    green: float
    amber: float

    @cached_property
    def light(self) -> str:
        if self.value is None:
            return "none"
        if self.value >= self.green:
            return "green"
        if self.value >= self.amber:
            return "amber"
        return "red"

    @cached_property
    def points(self) -> int:
        return {"green": 2, "amber": 1}.get(self.light, 0)

    @property
    def display(self) -> str:
        if self.value is None:
            return "not recorded"
        if self.unit == "%":
            return f"{self.value:.0f}%"
        return f"{self.value:.1f} {self.unit}"


@dataclass
class Health:
    parts: list[Part]
    green: float
    amber: float

    @cached_property
    def points(self) -> int:
        return sum(p.points for p in self.parts)

    @cached_property
    def max_points(self) -> int:
        return 2 * sum(1 for p in self.parts if p.value is not None)

    @cached_property
    def score(self) -> float:
        """Points out of 8; parts with nothing recorded are left out and the rest scaled."""
        if not self.max_points:
            return 0.0
        return round(self.points * 8 / self.max_points, 1)

    @cached_property
    def light(self) -> str:
        if self.score >= self.green:
            return "green"
        if self.score >= self.amber:
            return "amber"
        return "red"


@dataclass
class MemberRow:
    membership: Membership
    given: int = 0
    received: int = 0
    outside: int = 0
    closed_given: dict[str, Decimal] = field(default_factory=dict)
    closed_received: dict[str, Decimal] = field(default_factory=dict)
    one_to_ones: int = 0
    attendance: dict[str, int] = field(default_factory=dict)
    visitors: int = 0
    absences_in_window: int = 0
    recent_rate: float | None = None
    prior_rate: float | None = None
    health: Health | None = None
    attention: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.membership.name

    @property
    def attended(self) -> int:
        return sum(n for code, n in self.attendance.items() if code in PRESENT_CODES)

    @property
    def recorded(self) -> int:
        return sum(self.attendance.values())

    @property
    def attendance_pct(self) -> float | None:
        return 100 * self.attended / self.recorded if self.recorded else None

    @property
    def codes(self) -> list[tuple[str, int]]:
        return [(code, self.attendance.get(code, 0)) for code in ATTENDANCE_CYCLE]

    @property
    def closed_given_display(self) -> str:
        return _money(self.closed_given)

    @property
    def closed_received_display(self) -> str:
        return _money(self.closed_received)


def _money(totals: dict[str, Decimal]) -> str:
    return format_totals(sorted(totals.items())) if totals else "—"


@dataclass
class Report:
    group: Group
    start: date
    end: date
    rows: list[MemberRow]
    meetings_held: int
    thresholds: dict

    @property
    def months(self) -> Decimal:
        return max(Decimal(1), Decimal((self.end - self.start).days + 1)) / DAYS_PER_MONTH

    @property
    def totals(self) -> dict:
        closed: dict[str, Decimal] = defaultdict(Decimal)
        for row in self.rows:
            for currency, value in row.closed_received.items():
                closed[currency] += value
        codes = {
            code: sum(r.attendance.get(code, 0) for r in self.rows) for code in ATTENDANCE_CYCLE
        }
        return {
            "given": sum(r.given for r in self.rows),
            "received": sum(r.received for r in self.rows),
            "outside": sum(r.outside for r in self.rows),
            "closed": _money(dict(closed)),
            # The column's sum counts each one-to-one once per member in it (twice).
            "one_to_ones": sum(r.one_to_ones for r in self.rows),
            "one_to_one_meetings": sum(r.one_to_ones for r in self.rows) // 2,
            "codes": list(codes.items()),
            "visitors": sum(r.visitors for r in self.rows),
            "members": len(self.rows),
        }

    @property
    def needs_attention(self) -> list[MemberRow]:
        return [r for r in self.rows if r.attention]


def _per_member(qs, key: str):
    """(member id, rows) pairs: a count grouped by ``key``."""
    return qs.values_list(key).annotate(n=Count("pk")).order_by()


def _both_sides(qs, first: tuple[str, str], second: tuple[str, str], *keys, **aggregate):
    """(attribute, member id, *keys, aggregate) rows: ``aggregate`` grouped by each side's
    member field (``first``/``second``: (field, the row attribute it fills)) and ``keys``,
    both sides in one query."""

    def side(field: str, attr: str):
        labelled = qs.annotate(side=Value(attr, output_field=CharField()))
        return labelled.values_list("side", field, *keys).annotate(**aggregate).order_by()

    return side(*first).union(side(*second), all=True)


def _put(rows: dict[int, MemberRow], pairs, attr: str) -> None:
    """Set ``attr`` on each member's row (members outside the report are skipped)."""
    for pk, value in pairs:
        if pk in rows:
            setattr(rows[pk], attr, value)


MEMBER_FIELDS = (
    "group_id",
    "user_id",
    "role",
    "seat",
    "status",
    "joined_on",
    "left_on",
    "user__display_name",
    "user__email",
)


def build(group: Group, start: date, end: date) -> Report:
    """The report for ``group`` from ``start`` to ``end`` (both included): 8 queries."""
    members = list(
        Membership.objects.filter(group=group)
        .filter(
            Q(status__in=[*CURRENT_STATUSES, MembershipStatus.SUSPENDED])
            | Q(left_on__gte=start, joined_on__lte=end)
        )
        .select_related("user")
        # What the report shows of a member (their name, seat, status), no more: 300
        # members' whole accounts cost more to load than to count their year.
        .only(*MEMBER_FIELDS)
        .order_by("user__display_name", "user__email", "pk")
    )
    rows = {m.pk: MemberRow(m) for m in members}

    # Each figure counted per member on both sides of a slip or one-to-one: one query each
    # (both sides' groups in a UNION ALL), not one a side.
    slips = Slip.objects.filter(group=group, referred_on__range=(start, end))
    for attr, pk, n in _both_sides(
        slips, ("giver", "given"), ("receiver", "received"), n=Count("pk")
    ):
        if pk in rows:
            setattr(rows[pk], attr, n)

    won = Slip.objects.filter(
        group=group, status=Status.WON, closed_on__range=(start, end), value__isnull=False
    )
    sides = (("giver", "closed_given"), ("receiver", "closed_received"))
    for attr, pk, currency, total in _both_sides(won, *sides, "currency", total=Sum("value")):
        if pk in rows:
            getattr(rows[pk], attr)[currency] = total

    one_to_ones = OneToOne.objects.filter(group=group, on__range=(start, end))
    sides = (("member_low", "one_to_ones"), ("member_high", "one_to_ones"))
    for _attr, pk, n in _both_sides(one_to_ones, *sides, n=Count("pair_day", distinct=True)):
        if pk in rows:
            rows[pk].one_to_ones += n

    # One pass over the attendance from the earliest day any figure needs: each member's
    # codes in the period, absences in the window, and the two 13-week attendance rates.
    window_start = end - timedelta(days=group.absence_window_days - 1)
    recent_start = end - timedelta(days=TREND_DAYS - 1)
    prior_start = recent_start - timedelta(days=TREND_DAYS)
    in_period = Q(meeting__on__gte=start, meeting__on__lte=end)
    recent = Q(meeting__on__gte=recent_start)
    prior = Q(meeting__on__lt=recent_start, meeting__on__gte=prior_start)
    attendance = (
        Attendance.objects.filter(
            meeting__group=group,
            meeting__on__lte=end,
            meeting__on__gte=min(start, window_start, prior_start),
        )
        .values_list("membership", "code")
        .annotate(
            n=Count("pk", filter=in_period),
            absences=Count("pk", filter=Q(meeting__on__gte=window_start)),
            recent=Count("pk", filter=recent),
            prior=Count("pk", filter=prior),
        )
        .order_by()
    )
    trends: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for pk, code, n, absences, in_recent, in_prior in attendance:
        if pk not in rows:
            continue
        if n:
            rows[pk].attendance[code] = n
        t = trends[pk]
        t[0] += absences if code == AttendanceCode.ABSENT else 0
        t[1] += in_recent
        t[2] += in_recent if code in PRESENT_CODES else 0
        t[3] += in_prior
        t[4] += in_prior if code in PRESENT_CODES else 0
    for pk, (absences, in_recent, recent_present, in_prior, prior_present) in trends.items():
        row = rows[pk]
        row.absences_in_window = absences
        row.recent_rate = 100 * recent_present / in_recent if in_recent else None
        row.prior_rate = 100 * prior_present / in_prior if in_prior else None

    visitors = Visitor.objects.filter(group=group, visited_on__range=(start, end))
    _put(rows, _per_member(visitors, "brought_by"), "visitors")

    outside = OutsideReport.objects.filter(
        membership__group=group, month__range=(start.replace(day=1), end)
    )
    _put(rows, outside.values_list("membership").annotate(n=Sum("count")).order_by(), "outside")

    meetings_held = GroupMeeting.objects.filter(
        Exists(Attendance.objects.filter(meeting=OuterRef("pk"))),
        group=group,
        on__range=(start, end),
    ).count()

    report = Report(
        group=group,
        start=start,
        end=end,
        rows=list(rows.values()),
        meetings_held=meetings_held,
        thresholds=group.thresholds(),
    )
    for row in report.rows:
        score(report, row)
    return report


def score(report: Report, row: MemberRow) -> None:
    """Fill ``row.health`` and ``row.attention`` from its figures and the group's thresholds."""
    t = report.thresholds
    months = float(report.months)
    row.health = Health(
        parts=[
            Part(
                "referrals_per_month",
                "Referrals given",
                row.given / months,
                "a month",
                **t["referrals_per_month"],
            ),
            Part(
                "one_to_ones_per_month",
                "One-to-ones",
                row.one_to_ones / months,
                "a month",
                **t["one_to_ones_per_month"],
            ),
            Part("attendance_pct", "Attendance", row.attendance_pct, "%", **t["attendance_pct"]),
            Part(
                "visitors_per_month",
                "Visitors brought",
                row.visitors / months,
                "a month",
                **t["visitors_per_month"],
            ),
        ],
        green=t["points"]["green"],
        amber=t["points"]["amber"],
    )
    if row.membership.status != MembershipStatus.ACTIVE:
        return
    group = report.group
    if not row.given:
        row.attention.append("No referral given in the period")
    if not row.one_to_ones:
        row.attention.append("No one-to-one in the period")
    if row.absences_in_window >= group.absence_limit:
        row.attention.append(
            f"{row.absences_in_window} absences in the last {group.absence_window_days} days "
            f"(limit {group.absence_limit})"
        )
    if (
        row.recent_rate is not None
        and row.prior_rate is not None
        and row.recent_rate + TREND_DROP <= row.prior_rate
    ):
        row.attention.append(
            f"Attendance fell from {row.prior_rate:.0f}% to {row.recent_rate:.0f}% "
            f"(last 13 weeks against the 13 before)"
        )


SORTS = {
    "name": lambda r: (r.name.lower(),),
    "seat": lambda r: (r.membership.seat.lower(), r.name.lower()),
    "given": lambda r: (r.given,),
    "received": lambda r: (r.received,),
    "outside": lambda r: (r.outside,),
    "closed_given": lambda r: (sum(r.closed_given.values()),),
    "closed_received": lambda r: (sum(r.closed_received.values()),),
    "one_to_ones": lambda r: (r.one_to_ones,),
    "attendance": lambda r: (r.attendance_pct or 0,),
    "visitors": lambda r: (r.visitors,),
    "score": lambda r: (r.health.score if r.health else 0,),
}


def sort_rows(rows: list[MemberRow], sort: str) -> list[MemberRow]:
    key = sort.lstrip("-")
    if key not in SORTS:
        return rows
    return sorted(
        rows, key=lambda r: (*SORTS[key](r), r.name.lower()), reverse=sort.startswith("-")
    )


# --- CSV ---------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like text gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


CSV_HEADER = [
    "Member",
    "Seat",
    "Status",
    "Referrals given (inside)",
    "Referrals received (inside)",
    "Outside referrals reported",
    "Closed business received",
    "Closed business from referrals given",
    "One-to-ones",
    *[f"{code} ({AttendanceCode(code).label})" for code in ATTENDANCE_CYCLE],
    "Attendance %",
    "Visitors brought",
    "Health score (of 8)",
    "Health",
    "Needs attention",
]


def to_csv(report: Report, rows: list[MemberRow] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [safe_cell(f"{report.group.name}: member report {report.start} to {report.end}")]
    )
    writer.writerow(CSV_HEADER)
    for row in rows if rows is not None else report.rows:
        pct = row.attendance_pct
        writer.writerow(
            [
                safe_cell(v)
                for v in [
                    row.name,
                    row.membership.seat,
                    row.membership.get_status_display(),
                    row.given,
                    row.received,
                    row.outside,
                    row.closed_received_display,
                    row.closed_given_display,
                    row.one_to_ones,
                    *[n for _, n in row.codes],
                    "" if pct is None else f"{pct:.0f}",
                    row.visitors,
                    row.health.score if row.health else "",
                    row.health.light if row.health else "",
                    "; ".join(row.attention),
                ]
            ]
        )
    totals = report.totals
    writer.writerow(
        [
            "Group total",
            "",
            f"{totals['members']} members",
            totals["given"],
            totals["received"],
            totals["outside"],
            safe_cell(totals["closed"]),
            "",
            totals["one_to_ones"],
            *[n for _, n in totals["codes"]],
            "",
            totals["visitors"],
            "",
            "",
            "",
        ]
    )
    return out.getvalue()


# --- Periods -----------------------------------------------------------------------------

PERIODS = [
    ("month", "This month"),
    ("last_month", "Last month"),
    ("6m", "Last 6 months"),
    ("12m", "Last 12 months"),
    ("custom", "Custom"),
]
MAX_PERIOD_DAYS = 3 * 366


def period_bounds(period: str, today: date) -> tuple[date, date]:
    if period == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if period == "6m":
        return today - timedelta(days=182), today
    if period == "12m":
        return today - timedelta(days=365), today
    return today.replace(day=1), today
