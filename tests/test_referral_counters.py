"""The ledger's counters (referrals/rollups.py) stay equal to the ledger's rows, whatever
writes them, and the pages read the counters instead of aggregating the rows.

The triggers are PostgreSQL's: every test here runs on the real database.
"""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from portability.merge import merge
from referrals import charts, reciprocity, rollups
from referrals.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Direction,
    Introduction,
    Referral,
    Spend,
    Status,
)
from referrals.views import _period_start, _totals
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

CURRENCIES = ["USD", "EUR", "GBP"]
ROLLUP_TABLES = [m._meta.db_table for m in rollups.ROLLUPS]


def _today() -> date:
    return timezone.localdate()


def _fields(rng: random.Random, partners: list[Contact]) -> dict:
    """A valid referral: closed ones have a date, won ones mostly a value."""
    status = rng.choice(list(Status))
    referred_on = _today() - timedelta(days=rng.randint(-3, 500))
    value = None
    if status == Status.WON and rng.random() < 0.85:
        value = Decimal(rng.randint(0, 900_000)) / 100
    elif rng.random() < 0.1:
        value = Decimal(rng.randint(1, 99))  # a value on a referral that is not won
    return {
        "direction": rng.choice(list(Direction)),
        "partner": rng.choice(partners),
        "prospect_name": "Prospect",
        "status": status,
        "referred_on": referred_on,
        "closed_on": (
            referred_on + timedelta(days=rng.randint(0, 90)) if status in CLOSED_STATUSES else None
        ),
        "value": value,
        "currency": rng.choice(CURRENCIES),
    }


def _assert_consistent(*users, step: str = "") -> None:
    for user in users:
        assert rollups.verify(user.pk) == [], f"{user.email} after {step}"


class Ledger:
    """A random walk over one user's ledger: every kind of write the app makes."""

    def __init__(self, rng: random.Random, user):
        self.rng, self.user = rng, user
        self.partners = [self.new_contact() for _ in range(5)]

    def new_contact(self) -> Contact:
        return Contact.objects.create(owner=self.user, name=f"Partner {self.rng.random():.6f}")

    def referrals(self):
        return Referral.objects.filter(owner=self.user)

    def some_referral(self) -> Referral | None:
        ids = list(self.referrals().values_list("pk", flat=True))
        return Referral.objects.get(pk=self.rng.choice(ids)) if ids else None

    # Referrals ---------------------------------------------------------------

    def create(self):
        Referral.objects.create(owner=self.user, **_fields(self.rng, self.partners))

    def bulk_create(self):
        Referral.objects.bulk_create(
            Referral(owner=self.user, **_fields(self.rng, self.partners))
            for _ in range(self.rng.randint(2, 12))
        )

    def edit(self):
        """A form's save(): some fields change, all are written."""
        if not (referral := self.some_referral()):
            return
        new = _fields(self.rng, self.partners)
        keys = self.rng.sample(
            ["direction", "partner", "currency", "referred_on", "value", "status"],
            self.rng.randint(1, 3),
        )
        if "status" in keys:
            keys += ["closed_on", "value"]
        for key in keys:
            setattr(referral, key, new[key])
        referral.save()

    def move(self):
        if not (referral := self.some_referral()):
            return
        status = self.rng.choice(list(Status))
        value = Decimal(self.rng.randint(1, 5000)) if status == Status.WON else None
        referral.move_to(status, on=_today() - timedelta(days=self.rng.randint(0, 40)), value=value)

    def thank(self):
        """A write of columns no counter reads."""
        if referral := self.some_referral():
            referral.mark_thanks_sent()

    def bulk_update(self):
        partner = self.rng.choice(self.partners)
        mine = self.referrals().filter(partner=partner)
        choice = self.rng.randrange(4)
        if choice == 0:
            mine.update(currency=self.rng.choice(CURRENCIES))
        elif choice == 1:
            mine.filter(direction=Direction.GIVEN).update(direction=Direction.RECEIVED)
        elif choice == 2:
            mine.update(referred_on=F("referred_on") - timedelta(days=self.rng.randint(1, 60)))
        else:
            mine.update(partner=self.rng.choice(self.partners), value=F("value") + 1)

    def delete(self):
        if referral := self.some_referral():
            referral.delete()

    def bulk_delete(self):
        self.referrals().filter(
            partner=self.rng.choice(self.partners), direction=self.rng.choice(list(Direction))
        ).delete()

    # Spends and introductions ------------------------------------------------------

    def spend(self):
        Spend.objects.bulk_create(
            Spend(
                owner=self.user,
                contact=self.rng.choice(self.partners),
                amount=Decimal(self.rng.randint(1, 99_999)) / 100,
                currency=self.rng.choice(CURRENCIES),
            )
            for _ in range(self.rng.randint(1, 4))
        )

    def edit_spend(self):
        spend = Spend.objects.filter(owner=self.user).order_by("?").first()
        if spend:
            spend.amount += 1
            spend.currency = self.rng.choice(CURRENCIES)
            spend.contact = self.rng.choice(self.partners)
            spend.save()

    def delete_spend(self):
        if spend := Spend.objects.filter(owner=self.user).order_by("?").first():
            spend.delete()

    def introduce(self):
        a, b = self.rng.sample(self.partners, 2)
        Introduction.objects.create(owner=self.user, contact_a=a, contact_b=b)

    def delete_introduction(self):
        if intro := Introduction.objects.filter(owner=self.user).order_by("?").first():
            intro.delete()

    # Contacts -------------------------------------------------------------------------

    def merge(self):
        survivor, other = self.rng.sample(self.partners, 2)
        merge(self.user, survivor, other)
        self.partners.remove(other)
        self.partners.append(self.new_contact())

    def delete_contact(self):
        contact = self.rng.choice(self.partners)
        contact.delete()
        self.partners.remove(contact)
        self.partners.append(self.new_contact())

    OPS = [
        (create, 6),
        (bulk_create, 2),
        (edit, 5),
        (move, 4),
        (thank, 1),
        (bulk_update, 3),
        (delete, 2),
        (bulk_delete, 1),
        (spend, 2),
        (edit_spend, 1),
        (delete_spend, 1),
        (introduce, 1),
        (delete_introduction, 1),
        (merge, 1),
        (delete_contact, 1),
    ]

    def step(self) -> str:
        op = self.rng.choices([o for o, _ in self.OPS], weights=[w for _, w in self.OPS])[0]
        op(self)
        return op.__name__


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counters_equal_a_fresh_aggregate_after_any_writes(alice, charlie, seed):
    rng = random.Random(seed)
    mine, theirs = Ledger(rng, alice), Ledger(rng, charlie)
    done = set()
    for i in range(90):
        ledger = mine if i % 4 else theirs
        name = ledger.step()
        done.add(name)
        _assert_consistent(alice, charlie, step=f"step {i}: {name}")
    assert Referral.objects.filter(owner=alice).exists()
    assert rollups.stored(alice.pk)["tally"]  # the check compared something
    assert {"merge", "delete_contact", "bulk_update", "edit"} <= done


def test_a_deleted_partner_leaves_no_tally(alice):
    susan = Contact.objects.create(owner=alice, name="Susan Park")
    raj = Contact.objects.create(owner=alice, name="Raj Realtor")
    for partner in (susan, raj):
        Referral.objects.create(
            owner=alice, partner=partner, direction=Direction.GIVEN, prospect_name="P"
        )
    Spend.objects.create(owner=alice, contact=susan, amount=Decimal("20"))
    assert set(rollups.stored(alice.pk)["tally"]) == {(susan.pk,), (raj.pk,)}

    susan.delete()

    assert set(rollups.stored(alice.pk)["tally"]) == {(raj.pk,)}
    _assert_consistent(alice)


def test_a_deleted_account_leaves_no_counters(alice, charlie):
    for user in (alice, charlie):
        rng = random.Random(user.pk)
        ledger = Ledger(rng, user)
        for _ in range(10):
            ledger.create()
        ledger.spend()
        ledger.introduce()
    alice_pk = alice.pk

    alice.delete()

    with connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE owner_id = %s", [alice_pk])
            assert cursor.fetchone()[0] == 0, table
    _assert_consistent(charlie)
    assert rollups.stored(charlie.pk)["months"]


def test_writes_from_two_connections_at_once_lose_nothing(transactional_db):
    alice = make_user("alice@example.com")
    susan = Contact.objects.create(owner=alice, name="Susan Park")
    barrier = threading.Barrier(2)

    def write(direction):
        try:
            barrier.wait()
            for _ in range(15):
                Referral.objects.create(
                    owner=alice,
                    partner=susan,
                    direction=direction,
                    prospect_name="P",
                    status=Status.WON,
                    closed_on=_today(),
                    value=Decimal("10"),
                    referred_on=_today(),
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(d,)) for d in Direction]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    _assert_consistent(alice)
    tally = rollups.stored(alice.pk)["tally"][(susan.pk,)]
    assert tally[:4] == (15, 15, 15, 15)


# --- What the pages read ---------------------------------------------------------------


@pytest.fixture
def history(alice, charlie):
    """Two years of alice's referrals (both ways, every status, three currencies), a day
    every few days so every period has a part month, and charlie's on the same days."""
    rng = random.Random(7)
    partners = [Contact.objects.create(owner=alice, name=f"Partner {i}") for i in range(6)]
    rows = []
    for days in range(-2, 760, 3):
        fields = _fields(rng, partners)
        fields["referred_on"] = _today() - timedelta(days=days)
        if fields["closed_on"]:
            fields["closed_on"] = min(fields["referred_on"] + timedelta(days=20), _today())
        rows.append(Referral(owner=alice, **fields))
    theirs = Contact.objects.create(owner=charlie, name="Charlie's partner")
    for direction in Direction:
        rows.append(
            Referral(
                owner=charlie,
                partner=theirs,
                direction=direction,
                prospect_name="Not alice's",
                status=Status.WON,
                closed_on=_today(),
                value=Decimal("77"),
            )
        )
    Referral.objects.bulk_create(rows)
    return partners


PERIODS = ["", "month", "30d", "quarter", "year", "last_year"]
STATUS_FILTERS = ["", "open", *Status.values]


@pytest.mark.parametrize("period", PERIODS)
def test_ledger_totals_from_counters_equal_the_aggregate(alice, history, period):
    start, end = _period_start(period, _today())
    for direction in ["", *Direction.values]:
        for status in STATUS_FILTERS:
            referrals = Referral.objects.for_user(alice)
            if direction:
                referrals = referrals.filter(direction=direction)
            statuses = (OPEN_STATUSES if status == "open" else [status]) if status else ()
            if statuses:
                referrals = referrals.filter(status__in=statuses)
            if start:
                referrals = referrals.filter(referred_on__gte=start)
            if end:
                referrals = referrals.filter(referred_on__lte=end)

            counted = rollups.ledger_totals(
                alice, direction=direction, statuses=statuses, start=start, end=end
            )

            assert counted == _totals(referrals), (direction, status)
    assert _totals(Referral.objects.for_user(alice))["given_value"].count("+") == 2


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2025, 3, 15), date(2025, 3, 20)),  # inside one month
        (date(2025, 3, 15), date(2025, 6, 10)),  # part months at both ends
        (date(2025, 3, 1), date(2025, 5, 31)),  # whole months
        (date(2025, 2, 28), None),
        (None, date(2025, 2, 27)),
    ],
)
def test_any_period_splits_into_whole_and_part_months(alice, history, start, end):
    referrals = Referral.objects.for_user(alice)
    if start:
        referrals = referrals.filter(referred_on__gte=start)
    if end:
        referrals = referrals.filter(referred_on__lte=end)
    assert rollups.ledger_totals(alice, start=start, end=end) == _totals(referrals)


def test_month_widget_and_chart_from_counters_equal_the_aggregate(alice, history):
    start = _today().replace(day=1)
    mine = Referral.objects.for_user(alice)
    assert rollups.month_totals(alice, start) == _totals(
        mine.filter(referred_on__gte=start), closed=mine.filter(closed_on__gte=start)
    )
    since = charts._month_starts(_today(), 12)[0]
    for currency in CURRENCIES:
        counts, values = charts._aggregate(alice, None, since, currency)
        assert rollups.chart_counts(alice, since) == counts
        assert rollups.chart_values(alice, since, currency) == values
        assert values


def test_who_to_ask_from_the_tally_equals_the_portable_aggregate(alice, history):
    for partner in history[:3]:
        Spend.objects.create(owner=alice, contact=partner, amount=Decimal("40"))
    history[4].is_archived = True
    history[4].save()
    fields = ("pk", "given", "given_won", "received", "last_received", "spend_count", "owed")

    counted = reciprocity.who_to_ask(alice, limit=10)
    portable = list(reciprocity._who_to_ask_portable(alice, 10))

    assert [tuple(getattr(c, f) for f in fields) for c in counted] == [
        tuple(getattr(c, f) for f in fields) for c in portable
    ]
    assert [c.spend_total for c in counted] == [c.spend_total for c in portable]
    assert len(counted) >= 2


def _referral_queries(client, url) -> list[str]:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries if '"referrals_referral"' in q["sql"]]


@pytest.mark.parametrize(
    "url",
    ["/referrals/", "/referrals/?period=year&direction=given", "/referrals/?status=open"],
)
def test_the_ledger_counts_nothing_but_reads_the_counters(alice_client, history, url):
    """One query of the referrals: the page of rows; the totals and the page count come
    from the month rollup."""
    queries = _referral_queries(alice_client, url)
    assert len(queries) == 1
    assert "LIMIT 25" in queries[0]
    assert "COUNT(" not in queries[0] and "SUM(" not in queries[0]


def test_who_to_ask_and_the_lists_read_no_ledger_rows_to_count(alice_client, alice, history):
    Spend.objects.create(owner=alice, contact=history[0], amount=Decimal("40"))
    Introduction.objects.create(owner=alice, contact_a=history[0], contact_b=history[1])
    assert _referral_queries(alice_client, reverse("referrals:who_to_ask")) == []
    for url, table in [
        (reverse("referrals:spends"), '"referrals_spend"'),
        (reverse("referrals:intros"), '"referrals_introduction"'),
    ]:
        alice_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            alice_client.get(url)
        reads = [q["sql"] for q in queries if table in q["sql"]]
        assert len(reads) == 1 and "LIMIT" in reads[0], reads  # the page of rows only
        assert "COUNT(" not in reads[0] and "SUM(" not in reads[0]


def test_spends_and_introductions_pages_show_the_counted_totals(alice_client, alice):
    susan = Contact.objects.create(owner=alice, name="Susan Park")
    raj = Contact.objects.create(owner=alice, name="Raj Realtor")
    Spend.objects.bulk_create(
        Spend(owner=alice, contact=susan, amount=Decimal("10.50"), description=f"Spend {i}")
        for i in range(30)
    )
    Spend.objects.create(owner=alice, contact=raj, amount=Decimal("5"), currency="EUR")
    for _ in range(26):
        Introduction.objects.create(owner=alice, contact_a=susan, contact_b=raj)

    spends = alice_client.get(reverse("referrals:spends")).content.decode()
    intros = alice_client.get(reverse("referrals:intros")).content.decode()

    assert "Total: <strong>€5 + $315</strong>" in spends
    assert "Page 1 of 2" in spends
    assert "Page 1 of 2" in intros


# --- Rebuilding --------------------------------------------------------------------------


def test_rebuild_rollups_finds_and_repairs_a_drifted_counter(alice, charlie, history):
    Spend.objects.create(owner=alice, contact=history[0], amount=Decimal("40"))
    Introduction.objects.create(owner=alice, contact_a=history[0], contact_b=history[1])
    call_command("rebuild_rollups", "--check")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE referrals_reciprocitytally SET given = given + 5 WHERE owner_id = %s",
            [alice.pk],
        )
        cursor.execute("DELETE FROM referrals_spendtotal WHERE owner_id = %s", [alice.pk])
    assert rollups.verify(alice.pk)

    with pytest.raises(CommandError, match="differ"):
        call_command("rebuild_rollups", "--check")
    call_command("rebuild_rollups", "--user", alice.email)

    _assert_consistent(alice, charlie)
    call_command("rebuild_rollups")
    _assert_consistent(alice, charlie)
    # The rebuilt rows are the triggers' rows: writes go on adding to them.
    Referral.objects.filter(owner=alice).delete()
    _assert_consistent(alice)
    assert rollups.stored(alice.pk)["months"] == {}
