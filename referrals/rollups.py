"""The ledger's counts and totals, kept current on write instead of counted on every view.

On PostgreSQL, statement-level triggers on ``referrals_referral``, ``referrals_spend`` and
``referrals_introduction`` (migration ``rollups``) add each statement's change to these
tables in the same transaction, whatever wrote it: a form, a slip, an API call, an import's
``bulk_create``, a merge (``UPDATE ... SET partner_id``), an archive restore, ``seed_demo``
or a deletion. A page then reads a few rows that grow with the months of history or with one
partner, never with the whole ledger:

- ``ReferralMonth``: per owner, month of ``referred_on``, direction, status and currency,
  how many referrals and the sum of their values (the ledger's totals, the month widget's
  counts, the chart's bars);
- ``ClosedWonMonth``: per owner, month of ``closed_on``, direction and currency, the value
  of closed-won business (the month widget's and the chart's closed value);
- ``ReciprocityTally``: per owner and partner contact, referrals each way, won, spends and
  the last date each way; ``owed`` (given + spends - received) is indexed, so "who to ask"
  is the top of an index;
- ``SpendTotal`` (per owner and currency) and ``IntroductionTally`` (per owner): the money
  trail's total and the lists' page counts.

A row whose counts fall to zero is deleted, so a deleted contact or account leaves nothing
behind; the owner and partner are plain ids (the database cascades them) rather than
Django relations, so merge, deletion and the account-deletion checks never move or collect
these rows themselves: they follow the ledger's rows through the triggers.

Elsewhere (the embedded SQLite default: a demo, small data) there are no triggers: the
tables stay empty and the pages aggregate the ledger's rows directly (``enabled()``).
``verify()`` compares the tables with a fresh aggregate of the ledger; ``rebuild()`` (and
``manage.py rebuild_rollups``) recomputes them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import TruncMonth

from .money import format_totals

MONEY = {"max_digits": 18, "decimal_places": 2}  # a sum of many 12-digit values


class ReferralMonth(models.Model):
    pk = models.CompositePrimaryKey("owner_id", "month", "direction", "status", "currency")
    owner_id = models.BigIntegerField()
    month = models.DateField(help_text="First day of the month of referred_on.")
    direction = models.CharField(max_length=8)
    status = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    count = models.IntegerField(db_default=0)
    value = models.DecimalField(db_default=0, **MONEY)

    class Meta:
        app_label = "referrals"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.direction} {self.status} {self.currency}: {self.count}"


class ClosedWonMonth(models.Model):
    pk = models.CompositePrimaryKey("owner_id", "month", "direction", "currency")
    owner_id = models.BigIntegerField()
    month = models.DateField(help_text="First day of the month of closed_on.")
    direction = models.CharField(max_length=8)
    currency = models.CharField(max_length=3)
    count = models.IntegerField(db_default=0)
    value = models.DecimalField(db_default=0, **MONEY)

    class Meta:
        app_label = "referrals"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.direction} {self.currency}: {self.value}"


class ReciprocityTally(models.Model):
    pk = models.CompositePrimaryKey("owner_id", "partner_id")
    owner_id = models.BigIntegerField()
    partner_id = models.BigIntegerField()
    given = models.IntegerField(db_default=0)
    given_won = models.IntegerField(db_default=0)
    received = models.IntegerField(db_default=0)
    received_won = models.IntegerField(db_default=0)
    spend_count = models.IntegerField(db_default=0)
    last_given = models.DateField(null=True)
    last_received = models.DateField(null=True)
    owed = models.GeneratedField(
        expression=F("given") + F("spend_count") - F("received"),
        output_field=models.IntegerField(),
        db_persist=True,
    )

    class Meta:
        app_label = "referrals"
        indexes = [
            # reciprocity.who_to_ask: the owner's partners in its order, read from the top.
            models.Index(
                fields=["owner_id", "-owed", "-given", "received"], name="tally_who_to_ask_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"partner {self.partner_id}: {self.given} given, {self.received} received"


class SpendTotal(models.Model):
    pk = models.CompositePrimaryKey("owner_id", "currency")
    owner_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    count = models.IntegerField(db_default=0)
    amount = models.DecimalField(db_default=0, **MONEY)

    class Meta:
        app_label = "referrals"

    def __str__(self) -> str:
        return f"{self.currency}: {self.amount} in {self.count}"


class IntroductionTally(models.Model):
    owner_id = models.BigIntegerField(primary_key=True)
    count = models.IntegerField(db_default=0)

    class Meta:
        app_label = "referrals"

    def __str__(self) -> str:
        return f"{self.count} introductions"


def enabled() -> bool:
    """Whether triggers keep the rollups (PostgreSQL); elsewhere pages aggregate the rows."""
    return connection.vendor == "postgresql"


# --- Reading ---------------------------------------------------------------------------

ONE_DAY = timedelta(days=1)
WON = "won"
OPEN = ("passed", "contacted", "meeting_held")  # models.OPEN_STATUSES (a circular import)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _whole_months(start: date | None, end: date | None):
    """Split [start, end] into whole months [low, high) read from the rollup, and the part
    months at either end as date ranges read from the referrals themselves."""
    low = start if start is None or start.day == 1 else _next_month(start)
    high = None if end is None else _month_start(end)
    if end is not None and _next_month(end) - ONE_DAY == end:
        high = _next_month(end)  # the period ends with its month: that month is whole
    if low is not None and high is not None and low >= high:
        return None, [(start, end)]  # inside one month: no whole month at all
    parts = []
    if start is not None and start != low:
        parts.append((start, low - ONE_DAY))
    if end is not None and high <= end:
        parts.append((high, end))
    return (low, high), parts


def _fold(rows, won_rows=None) -> dict:
    """views._totals' figures from rows of (direction, status, currency, n, total); the
    closed-won value from ``won_rows`` of (direction, currency, total) when given."""
    totals = {"given": 0, "received": 0, "open": 0, "won": 0}
    values = {"given": defaultdict(Decimal), "received": defaultdict(Decimal)}
    for row in rows:
        totals[row["direction"]] += row["n"]
        if row["status"] in OPEN:
            totals["open"] += row["n"]
        elif row["status"] == WON:
            totals["won"] += row["n"]
            if won_rows is None:
                values[row["direction"]][row["currency"]] += row["total"] or 0
    for row in won_rows or []:
        values[row["direction"]][row["currency"]] += row["total"] or 0
    totals["given_value"] = format_totals(sorted(values["given"].items()))
    totals["received_value"] = format_totals(sorted(values["received"].items()))
    return totals


def ledger_totals(user, *, direction="", statuses=(), start=None, end=None) -> dict:
    """The ledger's totals for its filters (referred between ``start`` and ``end``), in
    ``views._totals``' shape, in one query whatever the length of the ledger.

    Whole months come from ``ReferralMonth``; a period that starts or ends inside a month
    (the last 30 days, the quarter) adds that part month's referrals, read by the (owner,
    date) index: a few weeks of activity, not the whole ledger."""
    from .models import Referral

    whole, parts = _whole_months(start, end)
    filters = Q(direction=direction) if direction else Q()
    if statuses:
        filters &= Q(status__in=statuses)
    fields = ("direction", "status", "currency")
    queries = []
    if whole is not None:
        low, high = whole
        months = ReferralMonth.objects.filter(filters, owner_id=user.pk)
        if low is not None:
            months = months.filter(month__gte=low)
        if high is not None:
            months = months.filter(month__lt=high)
        queries.append(months.values(*fields).annotate(n=Sum("count"), total=Sum("value")))
    for first, last in parts:
        queries.append(
            Referral.objects.filter(filters, owner=user, referred_on__range=(first, last))
            .values(*fields)
            .annotate(n=Count("pk"), total=Sum("value"))
        )
    query = queries[0].order_by()
    if len(queries) > 1:
        query = query.union(*(q.order_by() for q in queries[1:]), all=True)
    return _fold(query)


def month_totals(user, start: date) -> dict:
    """The month widget: referrals passed since ``start`` (a month's first day), and the
    value of business closed since then, whenever it was passed. Two small queries."""
    rows = (
        ReferralMonth.objects.filter(owner_id=user.pk, month__gte=start)
        .values("direction", "status", "currency")
        .annotate(n=Sum("count"))
        .order_by()
    )
    won = (
        ClosedWonMonth.objects.filter(owner_id=user.pk, month__gte=start)
        .values("direction", "currency")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return _fold(rows, list(won))


def chart_counts(user, since: date) -> dict[tuple[date, str], int]:
    """{(month, direction): referrals passed} from ``since`` (a month's first day) on."""
    rows = (
        ReferralMonth.objects.filter(owner_id=user.pk, month__gte=since)
        .values("month", "direction")
        .annotate(n=Sum("count"))
        .order_by()
    )
    return {(row["month"], row["direction"]): row["n"] for row in rows}


def chart_values(user, since: date, currency: str) -> dict[date, Decimal]:
    """{month: value of business closed won that month in ``currency``} from ``since`` on."""
    rows = (
        ClosedWonMonth.objects.filter(owner_id=user.pk, month__gte=since, currency=currency)
        .values("month")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {row["month"]: row["total"] for row in rows}


def spend_totals(user) -> tuple[int, list[tuple[str, Decimal]]]:
    """(how many spends, [(currency, total)]) of the money trail, one small query."""
    rows = SpendTotal.objects.filter(owner_id=user.pk).order_by("currency")
    return sum(r.count for r in rows), [(r.currency, r.amount) for r in rows]


def introduction_count(user) -> int:
    row = IntroductionTally.objects.filter(owner_id=user.pk).first()
    return row.count if row else 0


# --- Checking and rebuilding --------------------------------------------------------------


def expected(owner_id: int) -> dict[str, dict[tuple, tuple]]:
    """One owner's rollup rows as they should be, aggregated afresh from the ledger's rows
    with the ORM (independently of the triggers' SQL): {table: {key: values}}."""
    from .models import Introduction, Referral, Spend

    referrals = Referral.objects.filter(owner_id=owner_id).order_by()
    months = {
        (r["month"], r["direction"], r["status"], r["currency"]): (r["n"], r["total"] or 0)
        for r in referrals.annotate(month=TruncMonth("referred_on"))
        .values("month", "direction", "status", "currency")
        .annotate(n=Count("pk"), total=Sum("value"))
    }
    won = {
        (r["month"], r["direction"], r["currency"]): (r["n"], r["total"])
        for r in referrals.filter(status=WON, value__isnull=False, closed_on__isnull=False)
        .annotate(month=TruncMonth("closed_on"))
        .values("month", "direction", "currency")
        .annotate(n=Count("pk"), total=Sum("value"))
    }
    given, received = Q(direction="given"), Q(direction="received")
    tally = {
        r["partner"]: [
            r["given"],
            r["given_won"],
            r["received"],
            r["received_won"],
            0,
            r["last_given"],
            r["last_received"],
        ]
        for r in referrals.filter(partner__isnull=False)
        .values("partner")
        .annotate(
            given=Count("pk", filter=given),
            given_won=Count("pk", filter=given & Q(status=WON)),
            received=Count("pk", filter=received),
            received_won=Count("pk", filter=received & Q(status=WON)),
            last_given=Max("referred_on", filter=given),
            last_received=Max("referred_on", filter=received),
        )
    }
    spends = Spend.objects.filter(owner_id=owner_id).order_by()
    for r in spends.values("contact").annotate(n=Count("pk")):
        tally.setdefault(r["contact"], [0, 0, 0, 0, 0, None, None])[4] = r["n"]
    intros = Introduction.objects.filter(owner_id=owner_id).count()
    return {
        "months": months,
        "won": won,
        "tally": {(partner,): tuple(v) for partner, v in tally.items()},
        "spends": {
            (r["currency"],): (r["n"], r["total"])
            for r in spends.values("currency").annotate(n=Count("pk"), total=Sum("amount"))
        },
        "introductions": {(): (intros,)} if intros else {},
    }


TALLY_FIELDS = (
    "given",
    "given_won",
    "received",
    "received_won",
    "spend_count",
    "last_given",
    "last_received",
)


def stored(owner_id: int) -> dict[str, dict[tuple, tuple]]:
    """One owner's rollup rows as stored, in ``expected()``'s shape."""
    intros = IntroductionTally.objects.filter(owner_id=owner_id).first()
    return {
        "months": {
            (r.month, r.direction, r.status, r.currency): (r.count, r.value)
            for r in ReferralMonth.objects.filter(owner_id=owner_id)
        },
        "won": {
            (r.month, r.direction, r.currency): (r.count, r.value)
            for r in ClosedWonMonth.objects.filter(owner_id=owner_id)
        },
        "tally": {
            (r.partner_id,): tuple(getattr(r, f) for f in TALLY_FIELDS)
            for r in ReciprocityTally.objects.filter(owner_id=owner_id)
        },
        "spends": {
            (r.currency,): (r.count, r.amount) for r in SpendTotal.objects.filter(owner_id=owner_id)
        },
        "introductions": {(): (intros.count,)} if intros else {},
    }


def verify(owner_id: int) -> list[str]:
    """What differs between one owner's rollups and a fresh aggregate (empty: consistent)."""
    want, have = expected(owner_id), stored(owner_id)
    problems = []
    for table, rows in want.items():
        for key in sorted(rows.keys() | have[table].keys(), key=repr):
            if rows.get(key) != have[table].get(key):
                problems.append(
                    f"{table} {key}: expected {rows.get(key)}, stored {have[table].get(key)}"
                )
    return problems


ROLLUPS = [ReferralMonth, ClosedWonMonth, ReciprocityTally, SpendTotal, IntroductionTally]


def ledger_owners() -> list[int]:
    """Everyone with a referral, a spend or an introduction, or a rollup row."""
    from .models import Introduction, Referral, Spend

    owners = set()
    for model in [Referral, Spend, Introduction, *ROLLUPS]:
        owners.update(model.objects.order_by().values_list("owner_id", flat=True).distinct())
    return sorted(owners)


@transaction.atomic
def rebuild(owner_ids: list[int]) -> None:
    """Recompute these owners' rollups from the ledger's rows (``manage.py rebuild_rollups``).

    The ledger's tables are locked against writes meanwhile (reads go on), so no trigger
    adds a change to a row being rebuilt."""
    from .models import Introduction, Referral, Spend

    if enabled():
        tables = ", ".join(m._meta.db_table for m in (Referral, Spend, Introduction))
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN SHARE MODE")
    for owner_id in owner_ids:
        for model in ROLLUPS:
            model.objects.filter(owner_id=owner_id).delete()
        want = expected(owner_id)
        ReferralMonth.objects.bulk_create(
            ReferralMonth(
                owner_id=owner_id,
                month=m,
                direction=d,
                status=s,
                currency=c,
                count=n,
                value=v,
            )
            for (m, d, s, c), (n, v) in want["months"].items()
        )
        ClosedWonMonth.objects.bulk_create(
            ClosedWonMonth(owner_id=owner_id, month=m, direction=d, currency=c, count=n, value=v)
            for (m, d, c), (n, v) in want["won"].items()
        )
        ReciprocityTally.objects.bulk_create(
            ReciprocityTally(
                owner_id=owner_id, partner_id=p, **dict(zip(TALLY_FIELDS, v, strict=True))
            )
            for (p,), v in want["tally"].items()
        )
        SpendTotal.objects.bulk_create(
            SpendTotal(owner_id=owner_id, currency=c, count=n, amount=a)
            for (c,), (n, a) in want["spends"].items()
        )
        IntroductionTally.objects.bulk_create(
            IntroductionTally(owner_id=owner_id, count=n) for (n,) in want["introductions"].values()
        )
