"""seed_demo's ledger and follow-up seeders: referrals, status history, introductions,
spends and follow-ups in proportion to the meetings, consistent and reproducible."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from contacts.models import Meeting, Stage
from followups.models import FollowUp
from followups.models import Status as FollowUpStatus
from referrals.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Direction,
    Introduction,
    Referral,
    Spend,
    Status,
    StatusChange,
)

pytestmark = pytest.mark.django_db

CONTACTS, MEETINGS = 40, 500
PIPELINE = [Status.PASSED, Status.CONTACTED, Status.MEETING_HELD, *CLOSED_STATUSES]


def seed(**options) -> None:
    options = {"contacts": CONTACTS, "meetings": MEETINGS, "seed": 7, **options}
    call_command("seed_demo", stdout=StringIO(), **options)


def today_for(user: User):
    return timezone.now().astimezone(user.tzinfo).date()


@pytest.fixture
def user() -> User:
    seed()
    return User.objects.get(email="user1@example.com")


def test_counts_are_in_proportion_to_the_meetings(user):
    referrals = Referral.objects.filter(owner=user)
    assert referrals.count() == MEETINGS // 5
    assert Introduction.objects.filter(owner=user).count() == MEETINGS // 50
    assert Spend.objects.filter(owner=user).count() == MEETINGS // 25
    assert FollowUp.objects.filter(owner=user).count() == MEETINGS // 20
    changes = StatusChange.objects.filter(referral__owner=user).count()
    assert referrals.count() < changes <= 4 * referrals.count()

    given = referrals.filter(direction=Direction.GIVEN).count()
    assert 0.35 < given / referrals.count() < 0.75
    # partners are mostly acquaintances and connections, connections most of all
    by_stage = {s: referrals.filter(partner__stage=s).count() for s in Stage.values}
    assert by_stage[Stage.CONNECTION] > by_stage[Stage.ACQUAINTANCE] > by_stage[Stage.CONTACT]
    assert by_stage[Stage.CONTACT] < referrals.count() * 0.2
    # both open and closed referrals, some won
    assert referrals.filter(status__in=OPEN_STATUSES).exists()
    assert referrals.filter(status=Status.WON).exists()
    assert referrals.filter(status__in=[Status.LOST, Status.NOT_A_FIT]).exists()
    # spends go to a few businesses only
    payees = Spend.objects.filter(owner=user).values("contact").distinct().count()
    assert 1 <= payees <= max(2, CONTACTS // 10)


def test_closed_referrals_have_a_past_closing_date_and_won_ones_a_value(user):
    today = today_for(user)
    referrals = list(Referral.objects.filter(owner=user))
    for referral in referrals:
        assert referral.referred_on <= today
        if referral.status in CLOSED_STATUSES:
            assert referral.closed_on is not None
            assert referral.referred_on <= referral.closed_on <= today
        else:
            assert referral.closed_on is None
        if referral.status == Status.WON:
            assert isinstance(referral.value, Decimal)
            assert referral.value >= 0
            assert referral.value.as_tuple().exponent == -2
            assert Decimal(500) <= referral.value <= Decimal(25_000)
        else:
            assert referral.value is None
        for day in (referral.thanks_sent_on, referral.thanks_received_on):
            if day is not None:
                assert referral.status == Status.WON
                assert referral.closed_on <= day <= today
        assert referral.prospect_name
    currencies = [r.currency for r in referrals]
    assert currencies.count(user.default_currency) > 0.9 * len(currencies)


def test_status_history_is_in_order_and_ends_with_the_status(user):
    referrals = Referral.objects.filter(owner=user).prefetch_related("history")
    for referral in referrals:
        history = list(referral.history.all())  # in the model's order
        assert history, referral
        assert history[0].status == Status.PASSED
        assert history[0].changed_on == referral.referred_on
        days = [h.changed_on for h in history]
        assert days == sorted(days)
        steps = [PIPELINE.index(h.status) for h in history]
        assert steps == sorted(set(steps)), "each step once, in pipeline order"
        assert history[-1].status == referral.status
        if referral.status in CLOSED_STATUSES:
            assert history[-1].changed_on == referral.closed_on
        assert all(h.changed_on <= today_for(user) for h in history)


def test_everything_belongs_to_the_users_own_contacts():
    seed(users=2)
    for user in User.objects.filter(email__in=["user1@example.com", "user2@example.com"]):
        referrals = Referral.objects.filter(owner=user)
        assert referrals.exists()
        assert not referrals.exclude(partner__owner=user).exists()
        assert not referrals.filter(prospect_contact__isnull=False).exclude(
            prospect_contact__owner=user
        )
        intros = Introduction.objects.filter(owner=user)
        assert intros.exists()
        assert not intros.exclude(contact_a__owner=user).exists()
        assert not intros.exclude(contact_b__owner=user).exists()
        assert not intros.filter(contact_a=F("contact_b")).exists()
        spends = Spend.objects.filter(owner=user)
        assert spends.exists()
        assert not spends.exclude(contact__owner=user).exists()
        for amount in spends.values_list("amount", flat=True):
            assert isinstance(amount, Decimal)
            assert Decimal(20) <= amount <= Decimal(800)
        assert {True, False} >= set(spends.values_list("imported", flat=True))
        followups = FollowUp.objects.filter(owner=user)
        assert not followups.exclude(contact__owner=user).exists()
        linked = followups.filter(meeting__isnull=False)
        assert linked.exists()
        assert not linked.exclude(meeting__owner=user).exists()
        # a follow-up from a meeting is about one of its attendees
        attended = set(
            Meeting.attendees.through.objects.filter(meeting__owner=user).values_list(
                "meeting_id", "contact_id"
            )
        )
        assert all(pair in attended for pair in linked.values_list("meeting_id", "contact_id"))


def test_follow_ups_are_mostly_done_with_a_few_overdue_and_upcoming(user):
    today = today_for(user)
    now = timezone.now()
    followups = FollowUp.objects.filter(owner=user)
    done = followups.filter(status=FollowUpStatus.DONE)
    assert done.count() > followups.count() / 2
    assert not done.filter(completed_at__isnull=True).exists()
    assert not done.filter(completed_at__gt=now).exists()
    assert not done.filter(completed_at__lt=F("created_at")).exists()
    assert not followups.pending().filter(completed_at__isnull=False).exists()
    assert not followups.filter(created_at__gt=now).exists()

    overdue = followups.overdue(today)
    assert 1 <= overdue.count() <= 12
    assert not overdue.exclude(status=FollowUpStatus.OPEN).exists()
    upcoming = followups.upcoming(today)
    assert upcoming.exists()
    assert not upcoming.filter(due_on__gt=today + timedelta(days=30)).exists()
    assert all(title.strip() for title in followups.values_list("title", flat=True))


def test_a_bigger_seed_adds_snoozed_and_due_today():
    seed(contacts=60, meetings=2000)
    user = User.objects.get(email="user1@example.com")
    today = today_for(user)
    followups = FollowUp.objects.filter(owner=user)
    assert followups.count() == 100
    assert followups.filter(status=FollowUpStatus.SNOOZED, due_on__gt=today).exists()
    assert followups.due_today(today).exists()
    referrals = Referral.objects.filter(owner=user)
    closed = referrals.filter(status__in=CLOSED_STATUSES).count()
    won = referrals.filter(status=Status.WON).count()
    assert 0.2 < won / closed < 0.5
    # most won referrals received were thanked for
    won_received = referrals.filter(status=Status.WON, direction=Direction.RECEIVED)
    assert won_received.filter(thanks_sent_on__isnull=False).count() > 0.6 * won_received.count()
    # old referrals are mostly closed, recent ones mostly open
    old = referrals.filter(referred_on__lt=today - timedelta(days=365))
    assert old.filter(status__in=CLOSED_STATUSES).count() > 0.8 * old.count()
    recent = referrals.filter(referred_on__gte=today - timedelta(days=14))
    assert recent.filter(status__in=OPEN_STATUSES).count() >= recent.count() / 2


def prospect_names() -> list[str]:
    return list(
        Referral.objects.filter(owner__email="user1@example.com")
        .order_by("pk")
        .values_list("prospect_name", flat=True)
    )


def test_the_same_seed_gives_the_same_prospects():
    seed(seed=11)
    first = prospect_names()
    User.objects.filter(email="user1@example.com").delete()
    seed(seed=11)
    assert prospect_names() == first
    User.objects.filter(email="user1@example.com").delete()
    seed(seed=12)
    assert prospect_names() != first


@pytest.mark.parametrize(("contacts", "meetings"), [(0, 0), (1, 3), (2, 60), (30, 0)])
def test_tiny_and_empty_seeds_work(contacts, meetings):
    seed(contacts=contacts, meetings=meetings)
    user = User.objects.get(email="user1@example.com")
    assert Referral.objects.filter(owner=user).count() == round(meetings / 5) * bool(contacts)
    assert not Introduction.objects.filter(owner=user, contact_a=F("contact_b")).exists()
