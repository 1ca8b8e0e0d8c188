"""Reciprocity: who gave what to whom, from aggregate SQL (no loops over rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from contacts.models import Contact

from . import rollups
from .models import Direction, Introduction, Referral, Spend, Status
from .money import format_totals

Totals = list[tuple[str, Decimal]]


@dataclass
class Balance:
    partner: Contact
    given: int = 0
    received: int = 0
    given_won: int = 0
    received_won: int = 0
    given_value: Totals = field(default_factory=list)
    received_value: Totals = field(default_factory=list)
    last_given: date | None = None
    last_received: date | None = None
    introductions: int = 0
    spend: Totals = field(default_factory=list)
    spend_count: int = 0

    @property
    def first_name(self) -> str:
        return self.partner.name.split(" ")[0]

    @property
    def sentence(self) -> str:
        """'You have sent Susan 4 referrals worth $12,400; she has sent you 1.' (gender-neutral)."""
        name = self.first_name
        if not self.given and not self.received:
            text = f"No referrals yet between you and {name}."
        else:
            mine = f"You have sent {name} {self.given} referral{'s' if self.given != 1 else ''}"
            if self.given_value:
                mine += f" worth {format_totals(self.given_value)}"
            theirs = f"{name} has sent you {self.received}"
            if self.received_value:
                theirs += f" worth {format_totals(self.received_value)}"
            text = f"{mine}; {theirs}."
        if self.spend:
            text += f" You have spent {format_totals(self.spend)} with {name}'s business."
        return text

    @property
    def leaning(self) -> str:
        """'owes' when the user gave more (referrals + spends) than received, 'owed' when less."""
        give = self.given + self.spend_count
        if give > self.received:
            return "owes"
        if give < self.received:
            return "owed"
        return "even"


def _totals(rows, direction: str) -> Totals:
    return [(r["currency"], r["total"]) for r in rows if r["direction"] == direction and r["total"]]


def balance_for(user, partner: Contact) -> Balance:
    """Four aggregate queries whatever the number of referrals, spends and introductions."""
    referrals = Referral.objects.for_user(user).filter(partner=partner)
    counts = {
        row["direction"]: row
        for row in referrals.values("direction").annotate(
            n=Count("pk"), won=Count("pk", filter=Q(status=Status.WON)), last=Max("referred_on")
        )
    }
    values = list(
        referrals.filter(status=Status.WON, value__isnull=False)
        .values("direction", "currency")
        .annotate(total=Sum("value"))
        .order_by("currency")
    )
    spend_rows = list(
        Spend.objects.for_user(user)
        .filter(contact=partner)
        .values("currency")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by("currency")
    )
    given = counts.get(Direction.GIVEN, {})
    received = counts.get(Direction.RECEIVED, {})
    return Balance(
        partner=partner,
        given=given.get("n", 0),
        received=received.get("n", 0),
        given_won=given.get("won", 0),
        received_won=received.get("won", 0),
        given_value=_totals(values, Direction.GIVEN),
        received_value=_totals(values, Direction.RECEIVED),
        last_given=given.get("last"),
        last_received=received.get("last"),
        introductions=Introduction.objects.for_user(user).involving(partner).count(),
        spend=[(r["currency"], r["total"]) for r in spend_rows],
        spend_count=sum(r["n"] for r in spend_rows),
    )


# The top of the tally's (owner, owed, given, received) index, each row's contact looked up
# by its key (the owner's own only); the money spent in the user's currency is summed for
# those partners only, by the (contact, currency) index. The lookup is a LATERAL subquery
# kept apart (OFFSET 0) so PostgreSQL walks the index in order and stops after the first
# rows: as a plain join, with other users' contacts in the table it underestimated the
# matches (the owner compared on both sides) and merged all 10,000 contacts instead.
WHO_TO_ASK_SQL = """
WITH top AS (
    SELECT c.id, c.name, c.company, c.profession, c.stage,
           t.given, t.given_won, t.received, t.last_received, t.spend_count, t.owed
    FROM referrals_reciprocitytally t
    CROSS JOIN LATERAL (
        SELECT c.id, c.name, c.company, c.profession, c.stage
        FROM contacts_contact c
        WHERE c.id = t.partner_id AND c.owner_id = t.owner_id AND NOT c.is_archived
        OFFSET 0
    ) c
    WHERE t.owner_id = %(owner)s AND t.owed > 0
    ORDER BY t.owed DESC, t.given DESC, t.received ASC, c.name ASC, c.id ASC
    LIMIT %(limit)s
)
SELECT top.*,
       (SELECT SUM(s.amount) FROM referrals_spend s
        WHERE s.contact_id = top.id AND s.currency = %(currency)s AND s.owner_id = %(owner)s
       ) AS spend_total
FROM top
ORDER BY owed DESC, given DESC, received ASC, name ASC, id ASC
"""


def who_to_ask(user, limit: int = 10):
    """Partners the user gave most to (referrals + spends) who gave least back.

    One query. On PostgreSQL, the top of the per-partner tally kept current on write
    (``rollups.ReciprocityTally``), so the cost is that of the rows shown, not of the
    network; elsewhere (the embedded SQLite default) correlated subqueries over the
    ledger's rows. Every table is scoped to ``user`` in the SQL itself.
    """
    if rollups.enabled():
        params = {"owner": user.pk, "currency": user.default_currency, "limit": limit}
        return list(Contact.objects.raw(WHO_TO_ASK_SQL, params))
    return list(_who_to_ask_portable(user, limit))


def _count(qs):
    return Coalesce(
        Subquery(qs.order_by().values("partner").annotate(c=Count("pk")).values("c")[:1]),
        Value(0),
        output_field=IntegerField(),
    )


def _who_to_ask_portable(user, limit: int):
    mine = Referral.objects.filter(owner=user, partner=OuterRef("pk"))
    spends = Spend.objects.filter(owner=user, contact=OuterRef("pk")).order_by().values("contact")
    return (
        Contact.objects.for_user(user)
        .active()
        .annotate(
            given=_count(mine.filter(direction=Direction.GIVEN)),
            given_won=_count(mine.filter(direction=Direction.GIVEN, status=Status.WON)),
            received=_count(mine.filter(direction=Direction.RECEIVED)),
            spend_count=Coalesce(
                Subquery(spends.annotate(c=Count("pk")).values("c")[:1]),
                Value(0),
                output_field=IntegerField(),
            ),
            spend_total=Subquery(
                spends.filter(currency=user.default_currency)
                .annotate(t=Sum("amount"))
                .values("t")[:1],
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
            last_received=Subquery(
                mine.filter(direction=Direction.RECEIVED)
                .order_by("-referred_on")
                .values("referred_on")[:1]
            ),
        )
        .annotate(owed=F("given") + F("spend_count") - F("received"))
        .filter(owed__gt=0)
        .order_by("-owed", "-given", "received", "name")[:limit]
    )
