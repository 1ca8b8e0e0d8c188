"""The digests of a batch of users (what the sweep builds): ``build_many`` gives each user
exactly what ``build`` gives them, each on their own local date, in a few queries
whatever the number of users."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.mail import get_connection

from contacts.models import Contact, GainsFact, GainsKind, Occasion, OccasionKind
from followups import digest
from followups.mail import build_message
from followups.models import DigestLog, FollowUp, Status
from groups import slips
from referrals.models import Direction, Referral, Temperature
from referrals.models import Status as ReferralStatus
from tests.conftest import make_user
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db

# 10:30 UTC: already 15 April on Kiritimati (UTC+14), 14 April in London, still 13 April
# in Pago Pago (UTC-11). One sweep claims all three; each digest reads its own day.
NOW = datetime(2026, 4, 14, 10, 30, tzinfo=ZoneInfo("UTC"))
ZONES = ["Pacific/Kiritimati", "Europe/London", "Pacific/Pago_Pago", "Europe/London"]


def local_day(user):
    return NOW.astimezone(ZoneInfo(user.time_zone)).date()


def networker(email: str, zone: str, overdue: int = 8):
    """A user whose network has one of each thing the digest reports or leaves out, all
    dated from their own local day, and more stalled contacts than the digest shows."""
    user = make_user(email, display_name=email.split("@")[0].title(), time_zone=zone)
    day = local_day(user)
    friend = Contact.objects.create(owner=user, name=f"Friend of {email}", company="Co")
    for i in range(overdue):
        FollowUp.objects.create(
            owner=user, contact=friend, title=f"Overdue {i}", due_on=day - timedelta(days=i + 1)
        )
    FollowUp.objects.create(owner=user, contact=friend, title="Due today", due_on=day)
    FollowUp.objects.create(owner=user, contact=friend, title="Tomorrow", due_on=day + timedelta(1))
    FollowUp.objects.create(
        owner=user, contact=friend, title="Done", due_on=day, status=Status.DONE, completed_at=NOW
    )
    for i in range(digest.STALLED_IN_DIGEST + 2):
        cold = Contact.objects.create(owner=user, name=f"Cold {i} of {email}")
        Contact.objects.filter(pk=cold.pk).update(touch_due_at=NOW - timedelta(days=10 * i + 1))
        if i % 3 == 0:  # a goal beats a newer interest
            GainsFact.objects.create(
                owner=user, contact=cold, kind=GainsKind.GOAL, text=f"Goal {i}", learned_on=day
            )
            GainsFact.objects.create(
                owner=user,
                contact=cold,
                kind=GainsKind.INTEREST,
                text=f"Interest {i}",
                learned_on=day + timedelta(1),
            )
        elif i % 3 == 1:  # only networks and skills: the newest of them
            for kind, age in ((GainsKind.NETWORK, 2), (GainsKind.SKILL, 1)):
                GainsFact.objects.create(
                    owner=user,
                    contact=cold,
                    kind=kind,
                    text=f"{kind.label} {i}",
                    learned_on=day - timedelta(age),
                )
    archived = Contact.objects.create(owner=user, name="Archived", is_archived=True)
    Contact.objects.filter(pk=archived.pk).update(touch_due_at=NOW - timedelta(days=999))
    for name, age, temperature, status in (
        ("Week old", 7, Temperature.WARM, ReferralStatus.PASSED),
        ("Six days", 6, Temperature.WARM, ReferralStatus.PASSED),
        ("Hot today", 0, Temperature.HOT, ReferralStatus.CONTACTED),
        ("Closed", 30, Temperature.HOT, ReferralStatus.LOST),
    ):
        Referral.objects.create(
            owner=user,
            partner=friend,
            direction=Direction.GIVEN,
            prospect_name=name,
            referred_on=day - timedelta(age),
            temperature=temperature,
            status=status,
            closed_on=day if status == ReferralStatus.LOST else None,
        )
    for title, offset in (("Yesterday", -1), ("Day seven", 6), ("Day eight", 7)):
        on = day + timedelta(offset)
        Occasion.objects.create(
            owner=user,
            contact=friend,
            kind=OccasionKind.OTHER,
            label=title,
            month=on.month,
            day=on.day,
        )
    return user


def thank(giver, receiver, group_name: str):
    """A slip from ``giver`` to ``receiver`` in a new group of theirs, closed won: a
    thank-you for the giver's digest, a new slip for the receiver's."""
    group = build_group(group_name, members=[giver, receiver])
    slip = slips.give(
        giver=group.m[giver.email.split("@")[0]],
        receiver=group.m[receiver.email.split("@")[0]],
        by=giver,
        prospect_name=f"Prospect of {giver.email}",
        referred_on=NOW.date() - timedelta(days=3),
    )
    slips.close(slip, receiver, status=ReferralStatus.WON, on=NOW.date(), value=Decimal(900))
    return slip


def section_named(built, name: str) -> list:
    return [items for section, items in built.sections if section.name == name]


@pytest.fixture
def users():
    return [networker(f"user{i}@example.com", zone) for i, zone in enumerate(ZONES)]


def rendered(built) -> tuple[str, str]:
    """The e-mail's subject and text body, with its one-click links' tokens (a fresh nonce
    each time) blanked. A template reaching for a row not loaded with the digest would run
    a query here."""
    entry = DigestLog(user=built.user, local_date=built.local_date)
    message = build_message(built, entry, connection=get_connection())
    return message.subject, re.sub(r"/followups/(\w+)/[^/\s]+/", r"/followups/\1/-/", message.body)


def test_build_many_gives_each_user_the_digest_build_gives_them(users):
    crowded = users[3]  # more follow-ups due than the digest shows, for one user only
    friend = Contact.objects.get(owner=crowded, name=f"Friend of {crowded.email}")
    for i in range(3):
        FollowUp.objects.create(
            owner=crowded, contact=friend, title=f"Extra {i}", due_on=NOW.date() - timedelta(30)
        )
    thanked = thank(users[0], users[1], "Leeds Chapter")

    built = digest.build_many([(user, local_day(user)) for user in users], NOW)

    assert sorted(built) == sorted(user.pk for user in users)
    assert len({local_day(user) for user in users}) == 3
    for user in users:
        alone = digest.build(user, local_day(user), NOW)
        assert built[user.pk] == alone
        assert rendered(built[user.pk]) == rendered(alone)
    # Each list is the user's own, read from their own day, and cut at its limit.
    for user in users[:3]:
        mine = built[user.pk]
        assert (mine.user, mine.local_date) == (user, local_day(user))
        assert [f.title for f in mine.overdue] == [f"Overdue {i}" for i in range(7, -1, -1)]
        assert [f.title for f in mine.due_today] == ["Due today"]
        assert [r.prospect_name for r in mine.referrals] == ["Week old", "Hot today"]
        [coming] = section_named(mine, "occasions")
        assert [(u.title, u.days) for u in coming] == [("Day seven", 6)]
    assert len(built[crowded.pk].overdue) == digest.FOLLOWUPS_IN_DIGEST
    assert built[crowded.pk].due_today == []
    for user in users:
        assert [s.contact.name for s in built[user.pk].stalled] == [
            f"Cold {i} of {user.email}" for i in range(6, 1, -1)
        ]
        assert [s.reason_fact and s.reason_fact.text for s in built[user.pk].stalled] == [
            "Goal 6",
            None,
            "Skills 4",
            "Goal 3",
            None,
        ]
    [giver_notices] = section_named(built[users[0].pk], "groups")
    [receiver_notices] = section_named(built[users[1].pk], "groups")
    assert [(n.kind, n.slip) for n in giver_notices] == [("thanks", thanked)]
    assert [(n.kind, n.slip) for n in receiver_notices] == [("received", thanked)]
    assert section_named(built[users[2].pk], "groups") == []


def test_build_many_of_users_with_nothing_to_report_gives_empty_digests(alice, bob):
    built = digest.build_many([(alice, local_day(alice)), (bob, local_day(bob))], NOW)
    assert [d.is_empty for d in built.values()] == [True, True]
    assert digest.build_many([], NOW) == {}


@pytest.mark.parametrize("count", [2, 20])
def test_build_many_query_count_does_not_grow_with_users(
    count, django_assert_max_num_queries, users
):
    """Follow-ups, stalled contacts, their reasons to call, referrals, occasions, and the
    groups' thank-yous and new slips: seven queries, and rendering adds none."""
    more = [networker(f"more{i}@example.com", ZONES[i % 4]) for i in range(count - len(users))]
    batch = [*users, *more][:count]
    for giver, receiver in pairwise(batch):
        thank(giver, receiver, f"Group of {giver.email}")

    with django_assert_max_num_queries(7):
        built = digest.build_many([(user, local_day(user)) for user in batch], NOW)
        for one in built.values():
            rendered(one)

    assert len(built) == count
    assert all(len(d.overdue) == 8 and len(d.due_today) == 1 for d in built.values())
    assert all(len(d.stalled) == digest.STALLED_IN_DIGEST for d in built.values())
    assert all(len(d.sections) == 2 for d in built.values())  # occasions and groups
