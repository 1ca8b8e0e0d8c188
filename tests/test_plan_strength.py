"""Relationship strength: the score's arithmetic, refresh when its inputs change (once per
transaction), the trend against last quarter, the contact list sort and the contact page
panel."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.meetings import FactInput, delete_meeting, log_meeting
from contacts.models import Contact, GainsFact, GainsKind, Meeting, MeetingKind, Stage
from plan import strength
from portability import merge as merging
from referralcrm.celery import app as celery_app
from referrals.models import Direction, Introduction, Referral, Spend
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def committed():
    """Run what the block leaves for ``on_commit`` at its end, as a commit would (tests
    run inside one transaction)."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def person(owner, name, **fields) -> Contact:
    fields.setdefault("created_at", timezone.now() - timedelta(days=400))
    with committed():
        return Contact.objects.create(owner=owner, name=name, **fields)


def meet(owner, contacts, when=None, facts=()):
    return log_meeting(
        owner=owner,
        occurred_at=when or timezone.now(),
        kind=MeetingKind.COFFEE,
        attendees=list(contacts),
        facts=list(facts),
    )


def referral(owner, partner, direction, on=None) -> Referral:
    return Referral.objects.create(
        owner=owner,
        partner=partner,
        direction=direction,
        prospect_name="Pat Prospect",
        referred_on=on or timezone.localdate(),
    )


def parts_by_key(parts) -> dict:
    return {p["key"]: p for p in parts}


def stored(contact: Contact) -> Contact:
    return Contact.objects.get(pk=contact.pk)


# --- Arithmetic ------------------------------------------------------------------


def test_recency_is_full_for_two_weeks_and_zero_after_a_year():
    assert strength.recency_points(None) == 0
    assert strength.recency_points(0) == 25
    assert strength.recency_points(14) == 25
    assert strength.recency_points(100) == round(25 * 265 / 351)  # 19
    assert strength.recency_points(364) == 0
    assert strength.recency_points(365) == 0
    assert strength.recency_points(1000) == 0


def test_each_part_of_the_score():
    parts = parts_by_key(
        strength.score_parts(
            days_since_touch=9,
            touches=3,
            given=1,
            received=1,
            introductions=1,
            spends=2,
            gains_kinds=2,
            stage=Stage.ACQUAINTANCE,
        )
    )
    assert parts["recency"] == {
        "key": "recency",
        "label": "Recency",
        "points": 25,
        "max": 25,
        "why": "last touch 9 days ago",
    }
    assert parts["frequency"]["points"] == 6
    assert parts["frequency"]["why"] == "3 touches in the last 12 months"
    # gave 3 + 2 + 2 = 7, received 3, both ways +5
    assert parts["reciprocity"]["points"] == 15
    assert "both ways +5" in parts["reciprocity"]["why"]
    assert parts["gains"]["points"] == 6
    assert parts["gains"]["why"] == "2 of 5 kinds known"
    assert parts["stage"]["points"] == 8
    assert [p["max"] for p in parts.values()] == [25, 20, 25, 15, 15]


def test_parts_are_capped_and_the_total_is_at_most_100():
    parts = strength.score_parts(
        days_since_touch=0,
        touches=50,
        given=10,
        received=10,
        introductions=10,
        spends=10,
        gains_kinds=5,
        stage=Stage.CONNECTION,
    )
    assert [p["points"] for p in parts] == [25, 20, 25, 15, 15]
    assert strength.total(parts) == 100


def test_one_way_reciprocity_gets_no_bonus_and_says_so():
    given_only = parts_by_key(
        strength.score_parts(
            days_since_touch=None,
            touches=0,
            given=2,
            received=0,
            introductions=0,
            spends=0,
            gains_kinds=0,
            stage=Stage.CONTACT,
        )
    )
    assert given_only["reciprocity"]["points"] == 6
    assert "nothing back yet" in given_only["reciprocity"]["why"]
    assert given_only["recency"]["why"] == "never met"
    long_ago = strength.score_parts(
        days_since_touch=400,
        touches=0,
        given=0,
        received=0,
        introductions=0,
        spends=0,
        gains_kinds=0,
        stage=Stage.CONTACT,
    )
    assert long_ago[0]["why"] == "last touch over a year ago"


def test_compute_on_a_hand_built_contact(alice):
    sue = person(alice, "Sue", stage=Stage.ACQUAINTANCE)
    other = person(alice, "Other")
    now = timezone.now()
    meet(alice, [sue], now - timedelta(days=9))
    meet(alice, [sue], now - timedelta(days=60))
    meet(alice, [sue], now - timedelta(days=200))
    meet(alice, [sue], now - timedelta(days=500))  # more than a year ago: not counted
    referral(alice, sue, Direction.GIVEN)
    referral(alice, sue, Direction.RECEIVED)
    Introduction.objects.create(owner=alice, contact_a=other, contact_b=sue)
    for _ in range(2):
        Spend.objects.create(owner=alice, contact=sue, amount=Decimal("40.00"))
    GainsFact.objects.create(owner=alice, contact=sue, kind=GainsKind.GOAL, text="A goal")
    GainsFact.objects.create(owner=alice, contact=sue, kind=GainsKind.GOAL, text="Another")
    GainsFact.objects.create(owner=alice, contact=sue, kind=GainsKind.SKILL, text="A skill")

    score, parts = strength.compute([sue], now)[sue.pk]

    points = {p["key"]: p["points"] for p in parts}
    assert points == {"recency": 25, "frequency": 6, "reciprocity": 15, "gains": 6, "stage": 8}
    assert score == 60
    assert parts_by_key(parts)["recency"]["why"] == "last touch 9 days ago"
    # The other side of the introduction counts it too.
    _, other_parts = strength.compute([other], now)[other.pk]
    assert parts_by_key(other_parts)["reciprocity"]["points"] == 2


def test_recency_decays_with_time(alice):
    sue = person(alice, "Sue")
    meet(alice, [sue], timezone.now() - timedelta(days=100))
    _, parts = strength.compute([sue])[sue.pk]
    assert parts_by_key(parts)["recency"]["points"] == 19
    assert parts_by_key(parts)["recency"]["why"] == "last touch 100 days ago"


# --- Refresh when inputs change --------------------------------------------------


def test_a_new_meeting_raises_the_strength(alice):
    sue = person(alice, "Sue")
    assert stored(sue).strength == 0

    with committed():
        meet(alice, [sue], facts=[FactInput(GainsKind.INTEREST, "Sailing")])

    sue = stored(sue)
    assert sue.strength == 25 + 2 + 3
    assert parts_by_key(sue.strength_parts["parts"])["recency"]["why"] == "last touch today"


def test_reached_out_button_refreshes_through_the_view(alice_client, alice):
    sue = person(alice, "Sue")
    with committed():
        response = alice_client.post(reverse("contacts:touch", args=[sue.pk]))
    assert response.status_code == 302
    assert stored(sue).strength == 27


def test_deleting_a_meeting_lowers_it_and_editing_attendees_refreshes_both(alice):
    sue, tom = person(alice, "Sue"), person(alice, "Tom")
    with committed():
        meeting = meet(alice, [sue])
    assert stored(sue).strength == 27

    with committed():
        meeting.attendees.set([tom])
    assert stored(sue).strength == 0
    assert stored(tom).strength == 27

    with committed():
        delete_meeting(meeting)
    assert stored(tom).strength == 0


def test_removing_and_clearing_attendees_and_deleting_meetings_in_bulk(alice):
    sue, tom = person(alice, "Sue"), person(alice, "Tom")
    with committed():
        first = meet(alice, [sue, tom])
    with committed():
        first.attendees.remove(sue)
    assert (stored(sue).strength, stored(tom).strength) == (0, 27)
    with committed():
        first.attendees.clear()
    assert stored(tom).strength == 0
    with committed():
        tom.meetings.add(first)
    assert stored(tom).strength == 27
    with committed():
        meet(alice, [sue, tom])
    with committed():
        Meeting.objects.filter(owner=alice).delete()
    assert (stored(sue).strength, stored(tom).strength) == (0, 0)


def test_editing_a_meetings_date_refreshes_its_attendees(alice):
    sue = person(alice, "Sue")
    with committed():
        meeting = meet(alice, [sue])
    with committed():
        meeting.occurred_at = timezone.now() - timedelta(days=500)
        meeting.save()
    assert stored(sue).strength == 0


def test_referrals_both_ways(alice):
    sue = person(alice, "Sue")
    with committed():
        given = referral(alice, sue, Direction.GIVEN)
    assert stored(sue).strength == 3

    with committed():
        referral(alice, sue, Direction.RECEIVED)
    sue = stored(sue)
    assert sue.strength == 3 + 3 + 5
    assert "both ways +5" in parts_by_key(sue.strength_parts["parts"])["reciprocity"]["why"]

    with committed():
        given.delete()
    assert stored(sue).strength == 3


def test_moving_a_referral_to_another_partner_refreshes_both(alice):
    sue, tom = person(alice, "Sue"), person(alice, "Tom")
    with committed():
        row = referral(alice, sue, Direction.GIVEN)
    row = Referral.objects.get(pk=row.pk)
    with committed():
        row.partner = tom
        row.save()
    assert stored(sue).strength == 0
    assert stored(tom).strength == 3


def test_introductions_and_spends(alice):
    sue, tom = person(alice, "Sue"), person(alice, "Tom")
    with committed():
        Introduction.objects.create(owner=alice, contact_a=sue, contact_b=tom)
        Spend.objects.create(owner=alice, contact=sue, amount=Decimal("10"))
    assert stored(sue).strength == 3
    assert stored(tom).strength == 2


def test_gains_facts(alice):
    sue = person(alice, "Sue")
    with committed():
        fact = GainsFact.objects.create(owner=alice, contact=sue, kind=GainsKind.GOAL, text="G")
        GainsFact.objects.create(owner=alice, contact=sue, kind=GainsKind.SKILL, text="S")
    sue = stored(sue)
    assert sue.strength == 6
    assert parts_by_key(sue.strength_parts["parts"])["gains"]["why"] == "2 of 5 kinds known"

    with committed():
        fact.delete()
    assert stored(sue).strength == 3


def test_stage_change_through_the_edit_form(alice_client, alice):
    sue = person(alice, "Sue")
    with committed():
        response = alice_client.post(
            reverse("contacts:edit", args=[sue.pk]),
            {"name": "Sue", "stage": Stage.CONNECTION, "cadence_days": 30, **_tri_states()},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert stored(sue).stage == Stage.CONNECTION
    assert stored(sue).strength == 15

    with committed():
        sue = stored(sue)
        sue.stage = Stage.ACQUAINTANCE
        sue.save()
    assert stored(sue).strength == 8


def _tri_states() -> dict:
    return {"is_expert": "unknown", "is_passionate": "unknown", "honours_referrals": "unknown"}


def test_archiving_does_not_refresh(alice):
    sue = person(alice, "Sue", stage=Stage.CONNECTION)
    with TestCase.captureOnCommitCallbacks() as callbacks:
        sue.archive()
    assert not [c for c in callbacks if isinstance(c, strength._Pending)]


def test_a_merge_refreshes_the_survivor(alice):
    sue, sue2 = person(alice, "Sue"), person(alice, "Sue B")
    with committed():
        meet(alice, [sue2])
        referral(alice, sue2, Direction.RECEIVED)
    assert stored(sue).strength == 0

    with committed():
        merging.merge(alice, sue, sue2)

    assert stored(sue).strength == 25 + 2 + 3


def test_one_refresh_per_transaction(alice):
    people = [person(alice, f"P{i}") for i in range(5)]
    with TestCase.captureOnCommitCallbacks() as callbacks:
        meet(alice, people, facts=[FactInput(GainsKind.GOAL, "Grow")])
        referral(alice, people[0], Direction.GIVEN)
        GainsFact.objects.create(owner=alice, contact=people[1], kind=GainsKind.SKILL, text="S")
    mine = [c for c in callbacks if isinstance(c, strength._Pending)]
    assert len(mine) == 1
    assert mine[0].contact_ids == {p.pk for p in people}


def _quick_log_refresh_queries(owner, n: int) -> int:
    people = [person(owner, f"Attendee {n}-{i}") for i in range(n)]
    with transaction.atomic():
        meet(owner, people, facts=[FactInput(GainsKind.GOAL, "Grow")])
        pending = strength._pending()
    with CaptureQueriesContext(connection) as queries:
        pending()
    assert all(stored(p).strength > 0 for p in people)
    return len(queries)


def test_a_quick_log_refresh_costs_the_same_for_2_or_5_attendees(alice, bob):
    assert _quick_log_refresh_queries(alice, 2) == _quick_log_refresh_queries(bob, 5)


def test_a_rolled_back_change_does_not_swallow_later_ones(alice):
    sue = person(alice, "Sue")
    with transaction.atomic():
        try:
            with transaction.atomic():
                referral(alice, sue, Direction.GIVEN)
                raise RuntimeError
        except RuntimeError:
            pass
        pending_after_rollback = strength._pending()
        referral(alice, sue, Direction.RECEIVED)
        assert sue.pk in pending_after_rollback.contact_ids
        assert any(entry[1] is pending_after_rollback for entry in connection.run_on_commit)


def _network(owner, n: int) -> list[int]:
    people = [person(owner, f"N{n}-{i}") for i in range(n)]
    for i, p in enumerate(people):
        meet(owner, [p, people[(i + 1) % n]], timezone.now() - timedelta(days=i))
        referral(owner, p, Direction.GIVEN if i % 2 else Direction.RECEIVED)
        Spend.objects.create(owner=owner, contact=p, amount=Decimal("5"))
        GainsFact.objects.create(owner=owner, contact=p, kind=GainsKind.GOAL, text="G")
        Introduction.objects.create(owner=owner, contact_a=p, contact_b=people[(i + 2) % n])
    return [p.pk for p in people]


@pytest.mark.parametrize("n", [3, 30])
def test_refresh_query_count_is_fixed(alice, n):
    ids = _network(alice, n)
    with CaptureQueriesContext(connection) as queries:
        changed = strength.refresh(ids)
    assert changed == n
    # one read, five aggregates, one bulk update
    assert len(queries) == 7
    # Nothing changed: no write at all.
    with CaptureQueriesContext(connection) as queries:
        assert strength.refresh(ids) == 0
    assert len(queries) == 6


# --- Trend: this quarter against last -------------------------------------------


def test_strength_before_is_scored_as_of_the_start_of_the_quarter(alice):
    now = timezone.now()
    cut = strength.quarter_start(now)
    sue = person(alice, "Sue", created_at=cut - timedelta(days=200))
    meet(alice, [sue], cut - timedelta(days=100))  # before the quarter: 100 days before it
    referral(alice, sue, Direction.GIVEN, on=timezone.localdate(cut) - timedelta(days=5))
    meet(alice, [sue], now)  # this quarter
    referral(alice, sue, Direction.RECEIVED, on=timezone.localdate(now))
    GainsFact.objects.create(
        owner=alice, contact=sue, kind=GainsKind.GOAL, text="G", learned_on=timezone.localdate()
    )

    strength.refresh([sue.pk], now)

    sue = stored(sue)
    # last quarter: recency 100 days before the cut (19), 1 touch (2), 1 given (3)
    assert sue.strength_before == 19 + 2 + 3
    # now: recency 25, 2 touches 4, given 3 + received 3 + both 5, GAINS 3
    assert sue.strength == 25 + 4 + 11 + 3
    assert strength.trend(sue) == {
        "arrow": "↑",
        "direction": "up",
        "text": f"up from {sue.strength_before} last quarter",
    }


def test_a_contact_new_this_quarter_has_no_before(alice):
    sue = person(alice, "Sue", created_at=timezone.now())
    strength.refresh([sue.pk])
    assert stored(sue).strength_before is None
    assert strength.trend(stored(sue))["text"] == "new this quarter"


def test_trend_down_and_same():
    c = Contact(strength=40, strength_before=58)
    assert strength.trend(c)["text"] == "down from 58 last quarter"
    assert strength.trend(c)["arrow"] == "↓"
    c.strength = 58
    assert strength.trend(c)["arrow"] == "→"


# --- Pages ------------------------------------------------------------------------


def test_the_list_sorts_strongest_first_and_shows_a_badge(alice_client, alice):
    names = {"Weak": 10, "Strong": 72, "Middle": 40}
    for name, score in names.items():
        c = person(alice, name)
        Contact.objects.filter(pk=c.pk).update(strength=score)

    response = alice_client.get(reverse("contacts:list") + "?sort=-strength")

    html = response.content.decode()
    order = [m for m in re.findall(r"<strong>(\w+)</strong></a>", html) if m in names]
    assert order == ["Strong", "Middle", "Weak"]
    assert 'value="-strength" selected' in html
    assert "Strongest first" in html
    text = re.sub(r"<[^>]+>", "", html)
    assert "strength 72 of 100" in text


def test_the_contact_page_shows_the_score_its_parts_and_the_trend(alice_client, alice):
    sue = person(alice, "Sue", stage=Stage.CONNECTION)
    with committed():
        meet(alice, [sue], timezone.now() - timedelta(days=9))
    Contact.objects.filter(pk=sue.pk).update(strength_before=20)

    html = alice_client.get(sue.get_absolute_url()).content.decode()

    assert "Relationship strength" in html
    assert '<strong class="strength-number">42</strong>' in html
    assert "up from 20 last quarter" in html
    for label, shown, why in [
        ("Recency", "25/25", "last touch 9 days ago"),
        ("Frequency", "2/20", "1 touch in the last 12 months"),
        ("Reciprocity", "0/25", "no referrals, introductions or spends yet"),
        ("GAINS", "0/15", "0 of 5 kinds known"),
        ("Stage", "15/15", "connection"),
    ]:
        assert f"<span>{label}</span>" in html
        assert shown in html
        assert why in html


def test_another_users_contact_page_and_panel_are_404(alice_client, alice, charlie):
    secret = person(charlie, "Charlie Secret Contact")
    with committed():
        GainsFact.objects.create(
            owner=charlie, contact=secret, kind=GainsKind.GOAL, text="MARKER-strength-goal"
        )
        meet(charlie, [secret])
    assert stored(secret).strength > 0
    person(alice, "Alice Own")

    assert alice_client.get(secret.get_absolute_url()).status_code == 404
    for url in [reverse("contacts:list"), reverse("contacts:list") + "?sort=-strength"]:
        html = alice_client.get(url).content.decode()
        assert "Charlie Secret Contact" not in html
        assert "Alice Own" in html


# --- Batch refresh: command, task, seeding -----------------------------------------


def test_refresh_strength_command(alice, bob):
    sue, tom = person(alice, "Sue"), person(bob, "Tom")
    # A stage written without signals (as an import might): only a refresh sees it.
    Contact.objects.filter(pk__in=[sue.pk, tom.pk]).update(stage=Stage.CONNECTION)

    out = StringIO()
    call_command("refresh_strength", "--user", "alice@example.com", stdout=out)
    assert "1 contacts changed" in out.getvalue()
    assert stored(sue).strength == 15
    assert stored(tom).strength == 0

    call_command("refresh_strength", stdout=StringIO())
    assert stored(tom).strength == 15

    with pytest.raises(CommandError):
        call_command("refresh_strength", "--user", "nobody@example.com")


def test_daily_task_is_scheduled_and_refreshes_everyone(alice):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert any(entry["task"] == "plan.refresh_all_strength" for entry in schedule.values())
    sue = person(alice, "Sue")
    Contact.objects.filter(pk=sue.pk).update(stage=Stage.ACQUAINTANCE)
    assert strength.refresh_all_strength.apply().get() == 1
    assert stored(sue).strength == 8


def test_seed_demo_gives_contacts_a_strength():
    call_command("seed_demo", users=1, contacts=10, meetings=30, seed=3, stdout=StringIO())
    scores = list(
        Contact.objects.filter(owner__email="user1@example.com").values_list("strength", flat=True)
    )
    assert len(scores) == 10
    assert any(s > 0 for s in scores)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_daily_refresh():
    """Committed data (transaction=True): outside a transaction the post_save refresh runs
    at once, so the stage is written without signals for the task to find."""
    owner = make_user("worker-strength@example.com")
    sue = Contact.objects.create(owner=owner, name="Sue")
    Contact.objects.filter(pk=sue.pk).update(stage=Stage.CONNECTION)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        strength.refresh_all_strength.delay()
        deadline = time.monotonic() + 20
        while stored(sue).strength == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert stored(sue).strength == 15
