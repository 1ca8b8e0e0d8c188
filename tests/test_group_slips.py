"""Slips between members: one shared record seen from both ledgers, closed once, corrected
with an audit trail, the giver thanked in the digest; one-to-ones counted once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.meetings import log_meeting
from contacts.models import Contact, MeetingKind
from followups import digest
from groups import slips
from groups.members import contact_for
from groups.models import OneToOne, Slip, SlipChange
from referrals.models import Direction, Referral, Status
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db


@pytest.fixture
def chapter(alice, bob, charlie):
    return build_group(members=[alice, bob])


def _give(client, receiver, **extra):
    data = {
        "receiver": receiver.pk,
        "prospect_name": "Dana Prospect",
        "need": "A pension review",
        "referred_on": timezone.localdate().isoformat(),
        "temperature": "hot",
        **extra,
    }
    return client.post(reverse("groups:slip_create"), data)


def test_a_slip_is_one_record_in_both_ledgers(client, alice, bob, chapter):
    client.force_login(alice)
    response = _give(client, chapter.m["bob"], note="Alice's private thought")
    slip = Slip.objects.get()
    assert response.status_code == 302 and response.url == slip.get_absolute_url()
    rows = {r.owner_id: r for r in Referral.objects.filter(slip=slip)}
    assert rows[alice.pk].direction == Direction.GIVEN
    assert rows[bob.pk].direction == Direction.RECEIVED
    assert rows[alice.pk].partner.linked_user == bob
    assert rows[bob.pk].partner.linked_user == alice
    assert rows[alice.pk].notes == "Alice's private thought" and rows[bob.pk].notes == ""
    for row in rows.values():
        assert (row.prospect_name, row.need, row.status) == (
            "Dana Prospect",
            "A pension review",
            "passed",
        )

    ledger = client.get(reverse("referrals:ledger")).content.decode()
    assert "Dana Prospect" in ledger and "group slip" in ledger
    client.force_login(bob)
    ledger = client.get(reverse("referrals:ledger")).content.decode()
    assert "Dana Prospect" in ledger and "← from" in ledger
    page = client.get(slip.get_absolute_url()).content.decode()
    assert "Alice&#x27;s private thought" not in page and "Alice's private thought" not in page


def test_a_slip_reuses_the_contact_already_linked(client, alice, bob, chapter):
    existing, created = contact_for(alice, bob)
    assert created
    client.force_login(alice)
    _give(client, chapter.m["bob"])
    assert Referral.objects.get(owner=alice).partner == existing
    assert Contact.objects.filter(owner=alice, linked_user=bob).count() == 1


def test_an_existing_contact_with_the_members_email_is_linked_not_duplicated(alice, bob, chapter):
    mine = Contact.objects.create(owner=alice, name="Bobby", emails=["BOB@example.com".lower()])
    contact, created = contact_for(alice, bob)
    assert contact == mine and not created
    mine.refresh_from_db()
    assert mine.linked_user == bob


def test_the_receiver_closes_once_however_often_it_is_posted(client, alice, bob, chapter):
    slip = slips.give(
        giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="Dana"
    )
    client.force_login(bob)
    data = {"status": "won", "closed_on": timezone.localdate().isoformat(), "value": "4000"}
    first = client.post(reverse("groups:slip_close", args=[slip.pk]), data)
    second = client.post(reverse("groups:slip_close", args=[slip.pk]), {**data, "value": "4000"})
    assert first.status_code == second.status_code == 302
    slip.refresh_from_db()
    assert slip.status == Status.WON and slip.value == Decimal("4000")
    assert SlipChange.objects.filter(slip=slip, field="value").count() == 1
    assert (
        list(Referral.objects.filter(slip=slip).values_list("value", flat=True))
        == [Decimal("4000")] * 2
    )
    # The ledgers add it once each side.
    given = Referral.objects.get(owner=alice, slip=slip)
    assert given.status == Status.WON and given.thanks_received_on == timezone.localdate()
    page = client.get(slip.get_absolute_url(), follow=True).content.decode()
    assert "You thanked Alice Owner for $4,000 of closed business." in page


def test_closing_in_two_tabs_keeps_the_first_value(alice, bob, chapter):
    slip = slips.give(
        giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="Dana"
    )
    tab_one = Slip.objects.get(pk=slip.pk)
    tab_two = Slip.objects.get(pk=slip.pk)
    today = timezone.localdate()
    assert slips.close(tab_one, bob, status=Status.WON, on=today, value=Decimal("100"))
    assert not slips.close(tab_two, bob, status=Status.WON, on=today, value=Decimal("900"))
    slip.refresh_from_db()
    assert slip.value == Decimal("100")


def test_only_the_receiver_closes_and_moves_it(client, alice, bob, chapter):
    slip = slips.give(
        giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="Dana"
    )
    client.force_login(alice)
    client.post(reverse("groups:slip_advance", args=[slip.pk]))
    client.post(
        reverse("groups:slip_close", args=[slip.pk]),
        {"status": "won", "closed_on": timezone.localdate().isoformat(), "value": "5"},
    )
    slip.refresh_from_db()
    assert slip.status == Status.PASSED
    client.force_login(bob)
    client.post(reverse("groups:slip_advance", args=[slip.pk]))
    slip.refresh_from_db()
    assert slip.status == Status.CONTACTED
    assert Referral.objects.get(owner=alice, slip=slip).status == Status.CONTACTED


def test_either_side_corrects_with_an_audit_trail(client, alice, bob, chapter):
    slip = slips.give(
        giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="Dana"
    )
    today = timezone.localdate()
    slips.close(slip, bob, status=Status.WON, on=today, value=Decimal("4000"))
    client.force_login(alice)
    data = {
        "status": "won",
        "referred_on": slip.referred_on.isoformat(),
        "closed_on": today.isoformat(),
        "value": "3500",
        "currency": "USD",
    }
    response = client.post(reverse("groups:slip_correct", args=[slip.pk]), data)
    assert response.status_code == 302
    again = client.post(reverse("groups:slip_correct", args=[slip.pk]), data)
    assert again.status_code == 302
    change = SlipChange.objects.get(slip=slip, field="value", old="4000.00")
    assert (change.new, change.changed_by) == ("3500.00", alice)
    assert SlipChange.objects.filter(slip=slip, changed_by=alice, field="value").count() == 1
    assert set(Referral.objects.filter(slip=slip).values_list("value", flat=True)) == {
        Decimal("3500")
    }
    client.force_login(bob)
    history = client.get(slip.get_absolute_url()).content.decode()
    assert "Alice Owner" in history and "3500.00" in history


def test_bad_close_input_is_refused_with_the_input_kept(client, alice, bob, chapter):
    slip = slips.give(
        giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="Dana"
    )
    client.force_login(bob)
    far = (timezone.localdate() + timedelta(days=60)).isoformat()
    for data, message in [
        (
            {"status": "won", "closed_on": timezone.localdate().isoformat(), "value": "-5"},
            "greater than or equal to 0",
        ),
        (
            {
                "status": "won",
                "closed_on": timezone.localdate().isoformat(),
                "value": "999999999999",
            },
            "digits",
        ),
        ({"status": "won", "closed_on": far, "value": "12"}, "The closing date is in the future"),
        (
            {"status": "bogus", "closed_on": timezone.localdate().isoformat()},
            "Select a valid choice",
        ),
    ]:
        response = client.post(reverse("groups:slip_close", args=[slip.pk]), data)
        assert response.status_code == 400
        body = response.content.decode()
        assert message in body, data
        if data.get("value"):
            assert f'value="{data["value"]}"' in body
    slip.refresh_from_db()
    assert slip.status == Status.PASSED


def test_slip_form_refuses_a_non_member_and_a_future_date(client, alice, charlie, chapter):
    from groups.models import Membership

    other = build_group("Elsewhere", members=[charlie], organiser_email="org2@example.com")
    client.force_login(alice)
    response = _give(client, other.m["charlie"])
    assert response.status_code == 200
    assert "Pick a current member" in response.content.decode()
    response = _give(
        client,
        chapter.m["bob"],
        referred_on=(timezone.localdate() + timedelta(days=30)).isoformat(),
        prospect_name="Kept Name",
    )
    assert "after the group&#x27;s next meeting" in response.content.decode()
    assert 'value="Kept Name"' in response.content.decode()
    assert not Slip.objects.exists()
    assert Membership.objects.count() == 5


def test_the_giver_is_thanked_in_the_next_digest_once(alice, bob, chapter):
    slip = slips.give(
        giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="Dana"
    )
    slips.close(slip, bob, status=Status.WON, on=timezone.localdate(), value=Decimal("4000"))
    built = digest.build(alice, timezone.localdate())
    (section, items), *_ = built.sections
    assert [(n.kind, n.slip) for n in items] == [("thanks", slip)]
    from followups.mail import build_message
    from followups.models import DigestLog

    entry = DigestLog.objects.create(user=alice, local_date=timezone.localdate())
    text = build_message(built, entry).body
    assert "Bob Member thanked you for $4,000 of closed business" in text
    section.mark_sent(alice, items)
    assert digest.build(alice, timezone.localdate()).sections == []
    # Bob heard of the new slip the same way.
    bob_items = digest.build(bob, timezone.localdate()).sections[0][1]
    assert [(n.kind, n.slip) for n in bob_items] == [("received", slip)]


def test_a_one_to_one_logged_by_both_counts_once(alice, bob, chapter):
    from groups import report

    alice_bob, _ = contact_for(alice, bob)
    bob_alice, _ = contact_for(bob, alice)
    when = timezone.now() - timedelta(days=1)
    log_meeting(owner=alice, occurred_at=when, kind=MeetingKind.ONE_TO_ONE, attendees=[alice_bob])
    log_meeting(owner=bob, occurred_at=when, kind=MeetingKind.COFFEE, attendees=[bob_alice])
    log_meeting(owner=alice, occurred_at=when, kind=MeetingKind.EMAIL, attendees=[alice_bob])
    assert OneToOne.objects.count() == 2
    today = timezone.localdate()
    built = report.build(chapter.group, today - timedelta(days=30), today)
    counts = {r.membership.user_id: r.one_to_ones for r in built.rows}
    assert counts[alice.pk] == 1 and counts[bob.pk] == 1


def test_deleting_the_meeting_drops_its_one_to_one(alice, bob, chapter):
    from contacts.meetings import delete_meeting

    alice_bob, _ = contact_for(alice, bob)
    meeting = log_meeting(
        owner=alice, occurred_at=timezone.now(), kind=MeetingKind.ONE_TO_ONE, attendees=[alice_bob]
    )
    assert OneToOne.objects.count() == 1
    delete_meeting(meeting)
    assert OneToOne.objects.count() == 0


def test_a_shared_ledger_row_is_changed_only_on_the_slip(client, alice, bob, chapter):
    slip = slips.give(
        giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="Dana"
    )
    row = Referral.objects.get(owner=bob, slip=slip)
    client.force_login(bob)
    for name in ("edit", "close", "advance", "thanks", "delete"):
        response = client.post(reverse(f"referrals:{name}", args=[row.pk]), {"status": "won"})
        assert response.status_code == 302 and response.url == slip.get_absolute_url()
    assert client.get(reverse("referrals:detail", args=[row.pk])).url == slip.get_absolute_url()
    row.refresh_from_db()
    assert row.status == Status.PASSED


def test_the_picker_offers_fellow_members_and_adds_them_on_pick(
    client, alice, bob, charlie, chapter
):
    client.force_login(alice)
    html = client.get(
        reverse("contacts:typeahead"), {"q": "Bob", "field": "attendees"}
    ).content.decode()
    assert "member of Leeds Chapter" in html
    url = reverse("groups:pick_member", args=[chapter.m["bob"].pk])
    assert client.get(url).status_code == 405  # picking adds a contact: POST only
    chip = client.post(f"{url}?field=attendees").content.decode()
    contact = Contact.objects.get(owner=alice, linked_user=bob)
    assert f'value="{contact.pk}"' in chip
    again = client.get(reverse("contacts:typeahead"), {"q": "Bob"}).content.decode()
    assert "member of Leeds Chapter" not in again and "Bob Member" in again
    # An outsider is neither suggested nor pickable.
    assert (
        "member of"
        not in client.get(reverse("contacts:typeahead"), {"q": "Charlie"}).content.decode()
    )
    other = build_group("Elsewhere", members=[charlie], organiser_email="org2@example.com")
    assert (
        client.post(reverse("groups:pick_member", args=[other.m["charlie"].pk])).status_code == 404
    )


def test_a_referral_given_to_a_member_from_the_ledger_form_is_a_slip(client, alice, bob, chapter):
    partner, _ = contact_for(alice, bob)
    client.force_login(alice)
    data = {
        "direction": "given",
        "partner": partner.pk,
        "prospect_name": "Ledger Prospect",
        "referred_on": timezone.localdate().isoformat(),
        "temperature": "warm",
        "status": "passed",
        "currency": "USD",
    }
    response = client.post(reverse("referrals:create"), data)
    slip = Slip.objects.get(prospect_name="Ledger Prospect")
    assert response.url == slip.get_absolute_url()
    assert (slip.giver, slip.receiver) == (chapter.m["alice"], chapter.m["bob"])
    assert Referral.objects.filter(owner=bob, slip=slip, direction=Direction.RECEIVED).exists()
    # Received from a member, or given to someone who is no member: a private row as before.
    client.post(
        reverse("referrals:create"), {**data, "direction": "received", "prospect_name": "Private"}
    )
    assert not Slip.objects.filter(prospect_name="Private").exists()
    assert Referral.objects.get(owner=alice, prospect_name="Private").slip is None
