"""A member's private data never reaches the organisers' site, nor the other party of a slip.

Alice and bob, members of one group, each keep a private network: contacts (with every
text field filled), GAINS facts, meetings with non-members and a one-to-one with each
other, private notes on both sides of their slips, spends, follow-ups, outside referrals,
introductions and the parts of their own GAINS profile they do not share. Each of those
texts is a unique marker. The organiser then opens every page of the organisers' site for
the group, and no marker may appear in any of them. The other party of a slip opens the
slip, their ledger and their contact pages, and never sees the first party's notes.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, GainsFact, Meeting, MeetingKind
from followups.models import FollowUp
from groups.models import Attendance, GroupMeeting, OneToOne, Slip
from groups.report import PERIODS
from referrals.models import Direction, Introduction, Referral, Spend
from tests.groups_fixtures import build_group, furnish, report_table

pytestmark = pytest.mark.django_db

SHARED_PART = "skills"
UNSHARED_PARTS = ["goals", "accomplishments", "interests", "networks"]


def _mark(who: str, what: str) -> str:
    return f"{who}-{what}-q7x"


def _plant(user, fellow_user, who: str, today) -> dict[str, str]:
    """Fill every private field of ``user`` with a marker; returns {what: marker}."""
    m = {}

    def mark(what: str) -> str:
        m[what] = _mark(who, what)
        return m[what]

    # Own GAINS profile: one part shared with the group, the rest not.
    for part in UNSHARED_PARTS:
        setattr(user, part, mark(f"profile-{part}"))
    setattr(user, SHARED_PART, _mark(who, f"shared-{SHARED_PART}"))
    user.save()

    # A non-member contact, every text field filled.
    outsider = Contact.objects.create(
        owner=user,
        name=mark("contact-name"),
        company=mark("contact-company"),
        profession=mark("contact-profession"),
        emails=[f"{mark('contact-email')}@example.org"],
        phones=[mark("contact-phone")],
        website=f"https://{mark('contact-website')}.example.org/",
        address=mark("contact-address"),
        city=mark("contact-city"),
        met_how=mark("contact-met-how"),
        notes=mark("contact-notes"),
        word_of_mouth=mark("contact-word-of-mouth"),
    )
    GainsFact.objects.create(owner=user, contact=outsider, kind="goal", text=mark("gains-fact"))

    # The contact for the fellow member (made by the slips), with private notes and facts.
    fellow = Contact.objects.get(owner=user, linked_user=fellow_user)
    fellow.notes = mark("fellow-notes")
    fellow.word_of_mouth = mark("fellow-word-of-mouth")
    fellow.save()
    GainsFact.objects.create(owner=user, contact=fellow, kind="skill", text=mark("fellow-fact"))

    # A meeting with the non-member and a one-to-one with the fellow member.
    when = timezone.now() - timedelta(days=1)
    meeting = Meeting.objects.create(
        owner=user,
        occurred_at=when,
        kind=MeetingKind.COFFEE,
        place=mark("meeting-place"),
        notes=mark("meeting-notes"),
    )
    meeting.attendees.add(outsider)
    one_to_one = Meeting.objects.create(
        owner=user,
        occurred_at=when,
        kind=MeetingKind.ONE_TO_ONE,
        place=mark("one-to-one-place"),
        notes=mark("one-to-one-notes"),
    )
    one_to_one.attendees.add(fellow)

    # Money, tasks, an outside referral, an introduction.
    Spend.objects.create(
        owner=user,
        contact=outsider,
        amount=Decimal("31415.92"),
        description=mark("spend-description"),
    )
    m["spend-amount"] = "31,415.92"
    FollowUp.objects.create(owner=user, contact=fellow, title=mark("followup-title"), due_on=today)
    Referral.objects.create(
        owner=user,
        partner=outsider,
        direction=Direction.GIVEN,
        prospect_name=mark("outside-prospect"),
        prospect_reach=mark("outside-reach"),
        need=mark("outside-need"),
        notes=mark("outside-notes"),
        referred_on=today,
    )
    Introduction.objects.create(
        owner=user,
        contact_a=outsider,
        contact_b=fellow,
        reason_a=mark("intro-reason"),
        notes=mark("intro-notes"),
    )
    return m


def _note(client, slip: Slip, text: str) -> None:
    response = client.post(reverse("groups:slip_note", args=[slip.pk]), {"notes": text})
    assert response.status_code == 302


@pytest.fixture
def group(client, alice, bob):
    """A group with alice and bob, furnished, and every private field of both marked."""
    ch = build_group("Leeds Chapter", members=[alice, bob], organiser_email="org@example.com")
    f = furnish(ch, "Leeds")
    today = timezone.localdate()
    for membership in ch.m.values():
        membership.shared_gains = [SHARED_PART]
        membership.save(update_fields=["shared_gains"])
    markers = {
        "alice": _plant(alice, bob, "alice", today),
        "bob": _plant(bob, alice, "bob", today),
    }
    # The private note of each side of each slip, through the page members use.
    for who, user in (("alice", alice), ("bob", bob)):
        client.force_login(user)
        for name, slip in (("slip", f.slip), ("won", f.won)):
            text = _mark(who, f"slip-note-{name}")
            _note(client, slip, text)
            markers[who][f"slip-note-{name}"] = text
            assert Referral.objects.get(owner=user, slip=slip).notes == text
    client.logout()
    # The one-to-ones were recorded from the private meetings (so their ids are in play).
    assert OneToOne.objects.filter(group=ch.group).count() == 2
    return SimpleNamespace(ch=ch, f=f, markers=markers)


def _all_markers(group) -> list[str]:
    return [text for who in group.markers.values() for text in who.values()]


def _organiser_urls(group) -> list[str]:
    ch, f = group.ch, group.f
    g = ch.group
    today = timezone.localdate()
    urls = [reverse("organise:index")]
    objects = {
        "group": [g],
        "membership": [ch.org_membership, *ch.m.values()],
        "invitation": [f.invitation],
        "groupmeeting": [f.past, f.now],
        "visitor": [f.visitor],
        "slip": [f.slip, f.won],
    }
    for model, rows in objects.items():
        urls.append(reverse(f"organise:groups_{model}_changelist"))
        for row in rows:
            urls.append(reverse(f"organise:groups_{model}_change", args=[row.pk]))
            urls.append(reverse(f"organise:groups_{model}_history", args=[row.pk]))
    for model in ("invitation", "groupmeeting", "visitor"):
        urls.append(reverse(f"organise:groups_{model}_add"))
    for period, _ in PERIODS:
        query = f"?group={g.pk}&period={period}"
        if period == "custom":
            query += f"&start={today - timedelta(days=400):%Y-%m-%d}&end={today:%Y-%m-%d}"
        for sort in ("name", "-score"):
            urls.append(reverse("organise:report") + f"{query}&sort={sort}")
        urls.append(reverse("organise:report_csv") + query)
    for meeting in (f.past, f.now):
        urls.append(reverse("organise:attendance", args=[meeting.pk]))
    urls.append(reverse("organise:thresholds", args=[g.pk]))
    for model, field in (("slip", "giver"), ("visitor", "brought_by"), ("visitor", "invitation")):
        urls.append(
            reverse("organise:autocomplete")
            + f"?app_label=groups&model_name={model}&field_name={field}&term="
        )
    return urls


def test_no_organiser_page_shows_a_members_private_data(client, group):
    client.force_login(group.ch.organiser)
    markers = _all_markers(group)
    leaks = {}

    for url in _organiser_urls(group):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        if found := [marker for marker in markers if marker in body]:
            leaks[url] = found

    assert not leaks, json.dumps(leaks, indent=1)


def test_the_organiser_pages_scanned_do_show_the_groups_own_data(client, group):
    """The scan above reads real pages: the group's shared data is on them."""
    client.force_login(group.ch.organiser)
    seen = " ".join(client.get(url).content.decode() for url in _organiser_urls(group))

    for shared in ("Leeds Prospect", "Leeds Winner", "Leeds need", "Alice Owner", "Bob Member"):
        assert shared in seen, shared
    report = client.get(reverse("organise:report"), {"group": group.ch.group.pk, "period": "12m"})
    rows = report_table(report.content.decode())
    # The private one-to-one meetings count (once each), their place and notes do not show.
    assert rows["Alice Owner"]["one_to_ones"] == "1"
    assert rows["Bob Member"]["one_to_ones"] == "1"


def test_attendance_taps_answer_without_private_data(client, group):
    client.force_login(group.ch.organiser)
    markers = _all_markers(group)
    bob = group.ch.m["bob"]

    for data in ({"cycle": "1"}, {"code": "S", "substitute_name": "Sam Sub"}, {"code": "Z"}):
        response = client.post(
            reverse("organise:attendance_mark", args=[group.f.now.pk, bob.pk]),
            data,
            headers={"HX-Request": "true"},
        )
        assert response.status_code in (200, 422)
        body = response.content.decode()
        assert "Bob Member" in body
        assert not [marker for marker in markers if marker in body]
    assert Attendance.objects.get(meeting=group.f.now, membership=bob).code == "S"
    assert GroupMeeting.objects.filter(group=group.ch.group).count() == 2


# --- The other party of a slip ------------------------------------------------------------


def _member_pages(user, group) -> list[str]:
    f = group.f
    rows = Referral.objects.filter(owner=user, slip__in=[f.slip, f.won])
    contacts = Contact.objects.filter(owner=user, linked_user__isnull=False)
    return [
        reverse("groups:slip", args=[f.slip.pk]),
        reverse("groups:slip", args=[f.won.pk]),
        reverse("groups:slip_correct", args=[f.slip.pk]),
        reverse("groups:detail", args=[group.ch.group.pk]),
        reverse("groups:mine"),
        reverse("referrals:ledger"),
        reverse("referrals:ledger") + "?direction=received",
        reverse("referrals:who_to_ask"),
        reverse("dashboard"),
        *(reverse("referrals:detail", args=[r.pk]) for r in rows),
        *(reverse("contacts:detail", args=[c.pk]) for c in contacts),
        reverse("contacts:list"),
    ]


@pytest.mark.parametrize(("viewer", "other"), [("bob", "alice"), ("alice", "bob")])
def test_the_other_party_never_sees_the_first_partys_private_data(
    client, group, alice, bob, viewer, other
):
    users = {"alice": alice, "bob": bob}
    client.force_login(users[viewer])
    theirs = list(group.markers[other].values())
    shown = {}

    for url in _member_pages(users[viewer], group):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        body = response.content.decode()
        if found := [marker for marker in theirs if marker in body]:
            shown[url] = found

    assert not shown, json.dumps(shown, indent=1)
    # Their own note is on their own slip page: the page under test is the real one.
    own = client.get(reverse("groups:slip", args=[group.f.slip.pk])).content.decode()
    assert group.markers[viewer]["slip-note-slip"] in own


@pytest.mark.parametrize(("viewer", "other"), [("bob", "alice"), ("alice", "bob")])
def test_the_other_partys_ledger_rows_are_404(client, group, alice, bob, viewer, other):
    users = {"alice": alice, "bob": bob}
    client.force_login(users[viewer])
    their_rows = Referral.objects.filter(owner=users[other])
    before = list(their_rows.order_by("pk").values())

    for row in their_rows:
        for name in ("detail", "edit", "close", "delete"):
            response = client.get(reverse(f"referrals:{name}", args=[row.pk]))
            assert response.status_code == 404, (name, row.prospect_name)
    assert list(their_rows.order_by("pk").values()) == before


def test_a_note_posted_to_a_slip_writes_only_the_posters_row(client, group, alice, bob):
    client.force_login(bob)
    _note(client, group.f.slip, "bob rewrites his own note")

    assert Referral.objects.get(owner=bob, slip=group.f.slip).notes == "bob rewrites his own note"
    alices = Referral.objects.get(owner=alice, slip=group.f.slip).notes
    assert alices == group.markers["alice"]["slip-note-slip"]


def test_roster_shows_shared_gains_and_nothing_else_private(client, group, bob):
    client.force_login(bob)

    body = client.get(reverse("groups:detail", args=[group.ch.group.pk])).content.decode()

    assert _mark("alice", f"shared-{SHARED_PART}") in body
    hidden = [marker for marker in group.markers["alice"].values() if marker in body]
    assert not hidden


def test_a_fellow_members_contact_page_shows_only_their_shared_gains(client, group, alice, bob):
    client.force_login(bob)
    contact = Contact.objects.get(owner=bob, linked_user=alice)

    body = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()

    assert _mark("alice", f"shared-{SHARED_PART}") in body  # live from her profile
    assert group.markers["bob"]["fellow-notes"] in body  # bob's own notes on alice
    assert not [marker for marker in group.markers["alice"].values() if marker in body]
