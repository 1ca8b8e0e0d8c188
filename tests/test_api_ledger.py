"""The ledger through the API: follow-ups, referrals (slips included), introductions, spends.

Each endpoint is called as its owner, as another user (404, and their private markers never
appear), anonymously (401) and with a read-only token (403); the actions go through the
pages' domain code (a slip closes once); bad input is a 400 field by field; lists run a
fixed number of queries whatever the size of the ledger.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from api.models import ApiToken
from contacts.models import Contact
from followups.models import FollowUp
from groups.models import Slip, SlipChange
from referrals.models import Direction, Introduction, Referral, Spend, Status, StatusChange
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db

API = "/api/v1"
MARK = "zq9-charlie-private"


def auth(user, scope: str = "write") -> dict:
    _, plaintext = ApiToken.issue(user, name="test", scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def post(client, url, data, headers):
    return client.post(url, data, content_type="application/json", **headers)


def patch(client, url, data, headers):
    return client.patch(url, data, content_type="application/json", **headers)


@pytest.fixture
def alice_api(alice):
    return auth(alice)


@pytest.fixture
def susan(alice):
    return Contact.objects.create(owner=alice, name="Susan Planner")


@pytest.fixture
def tom(alice):
    return Contact.objects.create(owner=alice, name="Tom Trainer")


@pytest.fixture
def charlies(charlie):
    """Charlie's private ledger, every text carrying a marker."""
    today = timezone.localdate()
    contact = Contact.objects.create(owner=charlie, name=f"{MARK} contact")
    other = Contact.objects.create(owner=charlie, name=f"{MARK} other")
    return {
        "contact": contact,
        "followup": FollowUp.objects.create(
            owner=charlie, contact=contact, title=f"{MARK} follow-up", due_on=today
        ),
        "referral": Referral.objects.create(
            owner=charlie,
            direction=Direction.GIVEN,
            partner=contact,
            prospect_name=f"{MARK} prospect",
            notes=f"{MARK} notes",
        ),
        "introduction": Introduction.objects.create(
            owner=charlie, contact_a=contact, contact_b=other, notes=f"{MARK} intro"
        ),
        "spend": Spend.objects.create(
            owner=charlie, contact=contact, amount=Decimal("12"), description=f"{MARK} spend"
        ),
    }


# --- Who may call ----------------------------------------------------------------------------

LISTS = ["followups", "referrals", "introductions", "spends"]


@pytest.mark.parametrize("name", LISTS)
def test_anonymous_gets_401(client, name, charlies):
    response = client.get(f"{API}/{name}/")
    assert response.status_code == 401
    response = client.get(f"{API}/{name}/{charlies[name.rstrip('s')].pk}/")
    assert response.status_code == 401


@pytest.mark.parametrize("name", LISTS)
def test_other_users_rows_are_404_and_never_listed(client, alice, alice_api, name, charlies):
    row = charlies[name.rstrip("s")]
    listed = client.get(f"{API}/{name}/", **alice_api)
    assert listed.status_code == 200
    assert listed.json()["results"] == []
    assert MARK not in listed.content.decode()
    url = f"{API}/{name}/{row.pk}/"
    for response in (
        client.get(url, **alice_api),
        patch(client, url, {}, alice_api),
        client.delete(url, **alice_api),
    ):
        assert response.status_code == 404
        assert MARK not in response.content.decode()
    assert type(row).objects.filter(pk=row.pk).exists()


def test_other_users_rows_are_404_for_actions(client, alice_api, charlies):
    for url, body in (
        (f"{API}/followups/{charlies['followup'].pk}/done/", {}),
        (f"{API}/followups/{charlies['followup'].pk}/snooze/", {"days": 7}),
        (f"{API}/referrals/{charlies['referral'].pk}/advance/", {}),
        (f"{API}/referrals/{charlies['referral'].pk}/close/", {"status": "lost"}),
    ):
        response = post(client, url, body, alice_api)
        assert response.status_code == 404, url
        assert MARK not in response.content.decode()
    charlies["followup"].refresh_from_db()
    charlies["referral"].refresh_from_db()
    assert charlies["followup"].status == "open"
    assert charlies["referral"].status == Status.PASSED


@pytest.mark.parametrize(
    "name, body",
    [
        ("followups", {"title": "Call", "due_on": "2030-01-01"}),
        ("referrals", {"direction": "received", "prospect_name": "P"}),
        ("introductions", {"reason_a": "x"}),
        ("spends", {"amount": "10.00"}),
    ],
)
def test_another_users_contact_id_is_a_field_error(client, alice_api, charlies, name, body):
    field = {"introductions": "contact_a", "referrals": "partner"}.get(name, "contact")
    body = {**body, field: charlies["contact"].pk}
    if name == "introductions":
        body["contact_b"] = charlies["contact"].pk
    response = post(client, f"{API}/{name}/", body, alice_api)
    assert response.status_code == 400
    assert response.json()[field] == ["That person is not in your contacts."]
    assert MARK not in response.content.decode()


@pytest.mark.parametrize("name", LISTS)
def test_read_only_token_cannot_write(client, alice, susan, name):
    read = auth(alice, scope="read")
    assert client.get(f"{API}/{name}/", **read).status_code == 200
    response = post(client, f"{API}/{name}/", {}, read)
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_read_only_token_cannot_act(client, alice, susan):
    followup = FollowUp.objects.create(
        owner=alice, contact=susan, title="Call", due_on=timezone.localdate()
    )
    response = post(client, f"{API}/followups/{followup.pk}/done/", {}, auth(alice, "read"))
    assert response.status_code == 403
    followup.refresh_from_db()
    assert followup.status == "open"


# --- Follow-ups --------------------------------------------------------------------------------


def test_follow_up_create_read_update_delete(client, alice_api, susan):
    due = timezone.localdate() + timedelta(days=2)
    created = post(
        client,
        f"{API}/followups/",
        {"contact": susan.pk, "title": "  Send   the deck ", "due_on": due.isoformat()},
        alice_api,
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["title"] == "Send the deck"
    assert body["status"] == "open"
    assert body["meeting"] is None
    url = f"{API}/followups/{body['id']}/"
    assert client.get(url, **alice_api).json()["due_on"] == due.isoformat()
    changed = patch(client, url, {"title": "Send the deck today"}, alice_api)
    assert changed.status_code == 200
    assert FollowUp.objects.get(pk=body["id"]).title == "Send the deck today"
    assert client.delete(url, **alice_api).status_code == 204
    assert not FollowUp.objects.filter(pk=body["id"]).exists()


def test_follow_up_done_is_idempotent(client, alice, alice_api, susan):
    followup = FollowUp.objects.create(
        owner=alice, contact=susan, title="Call", due_on=timezone.localdate()
    )
    first = post(client, f"{API}/followups/{followup.pk}/done/", {}, alice_api)
    assert first.status_code == 200
    assert first.json()["status"] == "done"
    followup.refresh_from_db()
    completed = followup.completed_at
    second = post(client, f"{API}/followups/{followup.pk}/done/", {}, alice_api)
    assert second.status_code == 200
    followup.refresh_from_db()
    assert followup.status == "done"
    assert followup.completed_at == completed


def test_follow_up_snooze_by_days_and_until(client, alice, alice_api, susan):
    today = timezone.localdate()
    followup = FollowUp.objects.create(
        owner=alice, contact=susan, title="Call", due_on=today - timedelta(days=3)
    )
    url = f"{API}/followups/{followup.pk}/snooze/"
    by_days = post(client, url, {"days": 7}, alice_api)
    assert by_days.status_code == 200
    assert by_days.json()["due_on"] == (today + timedelta(days=7)).isoformat()
    assert by_days.json()["status"] == "snoozed"
    until = today + timedelta(days=30)
    response = post(client, url, {"until": until.isoformat()}, alice_api)
    assert response.status_code == 200
    followup.refresh_from_db()
    assert followup.due_on == until


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "non_field_errors"),
        ({"days": 3, "until": "2030-01-01"}, "non_field_errors"),
        ({"days": 0}, "days"),
        ({"days": "soon"}, "days"),
        ({"until": "9999-12-31"}, "until"),
        ({"until": "2001-01-01"}, "until"),
        ({"until": "not a date"}, "until"),
        ({"weeks": 1}, "weeks"),
    ],
)
def test_follow_up_snooze_bad_input(client, alice, alice_api, susan, body, field):
    followup = FollowUp.objects.create(
        owner=alice, contact=susan, title="Call", due_on=timezone.localdate()
    )
    response = post(client, f"{API}/followups/{followup.pk}/snooze/", body, alice_api)
    assert response.status_code == 400
    assert field in response.json()
    followup.refresh_from_db()
    assert followup.status == "open"


def test_snoozing_a_done_follow_up_does_not_reopen_it(client, alice, alice_api, susan):
    followup = FollowUp.objects.create(
        owner=alice, contact=susan, title="Call", due_on=timezone.localdate()
    )
    followup.mark_done()
    response = post(client, f"{API}/followups/{followup.pk}/snooze/", {"days": 7}, alice_api)
    assert response.status_code == 409
    assert "done" in response.json()["detail"]
    followup.refresh_from_db()
    assert followup.status == "done"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"due_on": "9999-12-31"}, "due_on"),
        ({"due_on": "0001-01-01"}, "due_on"),
        ({"due_on": "2024-02-30"}, "due_on"),
        ({"due_on": 20300101}, "due_on"),
        ({"title": "   "}, "title"),
        ({"title": ["a list"]}, "title"),
        ({"contact": "susan"}, "contact"),
        ({"contact": True}, "contact"),
        ({"contact": 10**30}, "contact"),
        ({"contact": None}, "contact"),
        ({"status": "done", "colour": "red"}, "colour"),
    ],
)
def test_follow_up_bad_input_is_a_field_error(client, alice_api, susan, body, field):
    data = {"contact": susan.pk, "title": "Call", "due_on": timezone.localdate().isoformat()}
    response = post(client, f"{API}/followups/", {**data, **body}, alice_api)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not FollowUp.objects.exists()


def test_follow_up_filters(client, alice, alice_api, susan, tom):
    today = timezone.localdate()
    overdue = FollowUp.objects.create(
        owner=alice, contact=susan, title="Overdue", due_on=today - timedelta(days=2)
    )
    later = FollowUp.objects.create(
        owner=alice, contact=tom, title="Later", due_on=today + timedelta(days=5)
    )
    done = FollowUp.objects.create(owner=alice, contact=tom, title="Done", due_on=today)
    done.mark_done()

    def ids(query):
        response = client.get(f"{API}/followups/?{query}", **alice_api)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("status=open") == {overdue.pk, later.pk}
    assert ids("status=done") == {done.pk}
    assert ids(f"due_before={today.isoformat()}") == {overdue.pk}
    assert ids(f"due_after={today.isoformat()}") == {later.pk}
    assert ids(f"contact={tom.pk}") == {later.pk, done.pk}
    bad = client.get(f"{API}/followups/?status=whenever&due_before=soon", **alice_api)
    assert bad.status_code == 400
    assert set(bad.json()) == {"status", "due_before"}


# --- Referrals --------------------------------------------------------------------------------


def _referral(client, headers, **fields):
    response = post(client, f"{API}/referrals/", fields, headers)
    assert response.status_code == 201, response.content
    return response.json()


def test_referral_is_logged_with_its_history_and_moves_forward(client, alice_api, susan):
    body = _referral(
        client,
        alice_api,
        direction="received",
        partner=susan.pk,
        prospect_name="Pat Prospect",
        notes="Private note",
    )
    assert body["status"] == "passed"
    assert body["is_shared"] is False
    assert body["currency"] == "USD"
    assert [h["status"] for h in body["history"]] == ["passed"]
    url = f"{API}/referrals/{body['id']}/"
    moved = post(client, f"{url}advance/", {"note": "Called them"}, alice_api)
    assert moved.status_code == 200
    assert moved.json()["status"] == "contacted"
    assert moved.json()["history"][-1] == {
        **moved.json()["history"][-1],
        "status": "contacted",
        "note": "Called them",
    }
    post(client, f"{url}advance/", {}, alice_api)
    stuck = post(client, f"{url}advance/", {}, alice_api)
    assert stuck.status_code == 409
    closed = post(
        client,
        f"{url}close/",
        {"status": "won", "value": "1234.50", "currency": "EUR"},
        alice_api,
    )
    assert closed.status_code == 200, closed.content
    data = closed.json()
    assert (data["status"], data["value"], data["currency"]) == ("won", "1234.50", "EUR")
    assert data["closed_on"] == timezone.localdate().isoformat()
    assert [h["status"] for h in data["history"]] == [
        "passed",
        "contacted",
        "meeting_held",
        "won",
    ]
    again = post(client, f"{url}close/", {"status": "lost"}, alice_api)
    assert again.status_code == 409
    retrieved = client.get(url, **alice_api).json()
    assert retrieved["status"] == "won"
    assert len(retrieved["history"]) == 4


@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "won"}, "value"),
        ({"status": "won", "value": "-1"}, "value"),
        ({"status": "won", "value": "100000001"}, "value"),
        ({"status": "won", "value": "12.345"}, "value"),
        ({"status": "won", "value": "lots"}, "value"),
        ({"status": "open"}, "status"),
        ({"status": "lost", "closed_on": "9999-01-01"}, "closed_on"),
        ({"status": "lost", "closed_on": "2001-01-01"}, "closed_on"),
        ({"status": "lost", "currency": "XXX"}, "currency"),
        ({"status": "lost", "reason": "price"}, "reason"),
    ],
)
def test_referral_close_bad_input(client, alice_api, susan, body, field):
    made = _referral(client, alice_api, direction="given", partner=susan.pk, prospect_name="P")
    response = post(client, f"{API}/referrals/{made['id']}/close/", body, alice_api)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Referral.objects.get(pk=made["id"]).status == Status.PASSED


@pytest.mark.parametrize(
    "body, field",
    [
        ({"direction": "sideways"}, "direction"),
        ({"prospect_name": " "}, "prospect_name"),
        ({"referred_on": "9999-01-01"}, "referred_on"),
        ({"referred_on": "0001-01-01"}, "referred_on"),
        ({"status": "won", "closed_on": "2020-01-01"}, "value"),
        ({"status": "lost"}, "closed_on"),
        ({"value": "1e9"}, "value"),
        ({"value": 12.5, "status": "won", "closed_on": "1999-12-31"}, "closed_on"),
        ({"notes": "x" * 4001}, "notes"),
    ],
)
def test_referral_bad_input_is_a_field_error(client, alice_api, susan, body, field):
    data = {"direction": "received", "partner": susan.pk, "prospect_name": "P", **body}
    response = post(client, f"{API}/referrals/", data, alice_api)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Referral.objects.exists()


def test_referral_prospect_is_not_the_partner(client, alice_api, susan):
    data = {"direction": "received", "partner": susan.pk, "prospect_name": "P"}
    response = post(client, f"{API}/referrals/", {**data, "prospect_contact": susan.pk}, alice_api)
    assert response.status_code == 400
    assert "prospect_contact" in response.json()


def test_referral_update_records_a_status_change_and_keeps_notes(client, alice_api, susan):
    made = _referral(client, alice_api, direction="received", partner=susan.pk, prospect_name="P")
    url = f"{API}/referrals/{made['id']}/"
    response = patch(
        client,
        url,
        {"status": "lost", "closed_on": timezone.localdate().isoformat(), "notes": "Too pricey"},
        alice_api,
    )
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "Too pricey"
    assert [h["status"] for h in response.json()["history"]] == ["passed", "lost"]
    reopened = patch(client, url, {"status": "contacted"}, alice_api).json()
    assert reopened["closed_on"] is None


def test_referral_filters(client, alice, alice_api, susan, tom):
    given = _referral(client, alice_api, direction="given", partner=susan.pk, prospect_name="A")
    received = _referral(client, alice_api, direction="received", partner=tom.pk, prospect_name="B")
    post(client, f"{API}/referrals/{received['id']}/close/", {"status": "lost"}, alice_api)
    old = timezone.now() - timedelta(days=30)
    Referral.objects.filter(pk=given["id"]).update(updated_at=old)

    def ids(query):
        response = client.get(f"{API}/referrals/?{query}", **alice_api)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("direction=given") == {given["id"]}
    assert ids("status=open") == {given["id"]}
    assert ids("status=lost") == {received["id"]}
    assert ids(f"partner={tom.pk}") == {received["id"]}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(f"updated_since={since.replace('+', '%2B')}") == {received["id"]}
    bad = client.get(f"{API}/referrals/?updated_since=yesterday&partner=-1", **alice_api)
    assert bad.status_code == 400
    assert set(bad.json()) == {"updated_since", "partner"}


def test_unknown_fields_and_invalid_json_are_400(client, alice_api, susan):
    made = _referral(client, alice_api, direction="given", partner=susan.pk, prospect_name="P")
    response = patch(client, f"{API}/referrals/{made['id']}/", {"colour": "red"}, alice_api)
    assert response.status_code == 400
    assert response.json() == {"colour": ["Unknown field."]}
    broken = client.post(
        f"{API}/referrals/", "{not json", content_type="application/json", **alice_api
    )
    assert broken.status_code == 400


# --- Slips, through the referral rows they back --------------------------------------------


@pytest.fixture
def slip_setup(alice, bob):
    """Alice and bob in one group; alice has bob (linked) in her contacts."""
    chapter = build_group(members=[alice, bob])
    bob_contact = Contact.objects.create(owner=alice, name="Bob (linked)", linked_user=bob)
    return chapter, bob_contact


def test_a_referral_given_to_a_fellow_member_becomes_a_slip(client, alice, bob, slip_setup):
    _, bob_contact = slip_setup
    alice_api, bob_api = auth(alice), auth(bob)
    mine = _referral(
        client,
        alice_api,
        direction="given",
        partner=bob_contact.pk,
        prospect_name="Shared Prospect",
        notes="alice-private-zq9",
    )
    assert mine["is_shared"] is True
    slip = Slip.objects.get(pk=mine["slip"])
    bobs_row = Referral.objects.get(owner=bob, slip=slip)
    assert bobs_row.direction == Direction.RECEIVED
    # Bob's side: his row, never alice's notes.
    response = client.get(f"{API}/referrals/{bobs_row.pk}/", **bob_api)
    assert response.status_code == 200
    assert "alice-private-zq9" not in response.content.decode()
    assert "alice-private-zq9" not in client.get(f"{API}/referrals/", **bob_api).content.decode()
    # Alice (the giver) may not close it; bob (the receiver) closes it, once.
    refused = post(client, f"{API}/referrals/{mine['id']}/close/", {"status": "lost"}, alice_api)
    assert refused.status_code == 403
    url = f"{API}/referrals/{bobs_row.pk}/close/"
    first = post(client, url, {"status": "won", "value": "1234.50"}, bob_api)
    assert first.status_code == 200, first.content
    assert (first.json()["status"], first.json()["value"]) == ("won", "1234.50")
    second = post(client, url, {"status": "won", "value": "999.00"}, bob_api)
    assert second.status_code == 409
    slip.refresh_from_db()
    assert (slip.status, slip.value) == ("won", Decimal("1234.50"))
    assert SlipChange.objects.filter(slip=slip, field="value").count() == 1
    alices = client.get(f"{API}/referrals/{mine['id']}/", **alice_api).json()
    assert (alices["status"], alices["value"]) == ("won", "1234.50")
    assert alices["thanks_received_on"] == timezone.localdate().isoformat()


def test_a_slip_row_advances_only_by_the_receiver(client, alice, bob, slip_setup):
    _, bob_contact = slip_setup
    mine = _referral(
        client, auth(alice), direction="given", partner=bob_contact.pk, prospect_name="P"
    )
    assert post(client, f"{API}/referrals/{mine['id']}/advance/", {}, auth(alice)).status_code == (
        403
    )
    bobs_row = Referral.objects.get(owner=bob, slip_id=mine["slip"])
    moved = post(client, f"{API}/referrals/{bobs_row.pk}/advance/", {"note": "Rang"}, auth(bob))
    assert moved.status_code == 200
    assert moved.json()["status"] == "contacted"
    assert moved.json()["history"][-1]["note"] == "Rang"
    assert Slip.objects.get(pk=mine["slip"]).status == "contacted"
    # The note is bob's own: alice's row history has none.
    assert not StatusChange.objects.filter(referral_id=mine["id"], note="Rang").exists()


def test_a_slip_row_keeps_notes_private_and_corrects_shared_fields(client, alice, slip_setup):
    _, bob_contact = slip_setup
    alice_api = auth(alice)
    mine = _referral(
        client, alice_api, direction="given", partner=bob_contact.pk, prospect_name="P"
    )
    url = f"{API}/referrals/{mine['id']}/"
    noted = patch(client, url, {"notes": "Only mine"}, alice_api)
    assert noted.status_code == 200
    assert noted.json()["notes"] == "Only mine"
    refused = patch(client, url, {"prospect_name": "Someone else"}, alice_api)
    assert refused.status_code == 400
    assert "prospect_name" in refused.json()
    corrected = patch(
        client,
        url,
        {"status": "lost", "closed_on": timezone.localdate().isoformat()},
        alice_api,
    )
    assert corrected.status_code == 200, corrected.content
    slip = Slip.objects.get(pk=mine["slip"])
    assert slip.status == "lost"
    assert SlipChange.objects.filter(slip=slip, field="status").exists()
    bad = patch(client, url, {"status": "won"}, alice_api)
    assert bad.status_code == 400
    assert "value" in bad.json()
    deleted = client.delete(url, **alice_api)
    assert deleted.status_code == 409
    assert Referral.objects.filter(pk=mine["id"]).exists()


# --- Introductions and spends -----------------------------------------------------------------


def test_introduction_round_trip_and_rules(client, alice_api, susan, tom):
    made = post(
        client,
        f"{API}/introductions/",
        {"contact_a": susan.pk, "contact_b": tom.pk, "reason_a": "Same clients"},
        alice_api,
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["method"], body["outcome"]) == ("email", "pending")
    url = f"{API}/introductions/{body['id']}/"
    assert patch(client, url, {"outcome": "met"}, alice_api).json()["outcome"] == "met"
    same = patch(client, url, {"contact_b": susan.pk}, alice_api)
    assert same.status_code == 400
    assert "contact_b" in same.json()
    future = patch(client, url, {"introduced_on": "9999-01-01"}, alice_api)
    assert future.status_code == 400
    listed = client.get(f"{API}/introductions/?contact={tom.pk}", **alice_api).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    "amount, ok",
    [("45.50", True), ("0", False), ("-5", False), ("100000001", False), ("1.001", False)],
)
def test_spend_amounts_are_bounded_decimal_strings(client, alice_api, susan, amount, ok):
    response = post(client, f"{API}/spends/", {"contact": susan.pk, "amount": amount}, alice_api)
    if ok:
        assert response.status_code == 201, response.content
        assert response.json()["amount"] == "45.50"
        assert response.json()["currency"] == "USD"
        assert Spend.objects.get().amount == Decimal("45.50")
    else:
        assert response.status_code == 400
        assert "amount" in response.json()
        assert not Spend.objects.exists()


def test_spend_filter_and_archived_contacts(client, alice, alice_api, susan, tom):
    Spend.objects.create(owner=alice, contact=susan, amount=Decimal("10"))
    mine = Spend.objects.create(owner=alice, contact=tom, amount=Decimal("20"))
    listed = client.get(f"{API}/spends/?contact={tom.pk}", **alice_api).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    tom.is_archived = True
    tom.save()
    response = post(client, f"{API}/spends/", {"contact": tom.pk, "amount": "5"}, alice_api)
    assert response.status_code == 400
    assert "archived" in response.json()["contact"][0]
    # An archived contact already on the record may stay.
    kept = patch(client, f"{API}/spends/{mine.pk}/", {"contact": tom.pk}, alice_api)
    assert kept.status_code == 200


# --- Query counts ------------------------------------------------------------------------------

# Token look-up, the list's query and its prefetches: the same at any size.
MAX_QUERIES = {"followups": 2, "referrals": 3, "introductions": 2, "spends": 2}


def _fill(owner, size: int) -> None:
    today = timezone.localdate()
    contacts = [Contact.objects.create(owner=owner, name=f"C{i}") for i in range(size + 1)]
    for i in range(size):
        a, b = contacts[i], contacts[i + 1]
        FollowUp.objects.create(owner=owner, contact=a, title=f"F{i}", due_on=today)
        referral = Referral.objects.create(
            owner=owner, direction=Direction.GIVEN, partner=a, prospect_name=f"P{i}"
        )
        StatusChange.objects.create(referral=referral, status="passed")
        StatusChange.objects.create(referral=referral, status="contacted")
        Introduction.objects.create(owner=owner, contact_a=a, contact_b=b)
        Spend.objects.create(owner=owner, contact=a, amount=Decimal("10"))


@pytest.mark.parametrize("size", [3, 40])
@pytest.mark.parametrize("name", LISTS)
def test_list_query_count_is_fixed(client, alice, django_assert_max_num_queries, size, name):
    _fill(alice, size)
    headers = auth(alice)
    client.get(f"{API}/{name}/", **headers)  # the token's last_used_at is written once
    with django_assert_max_num_queries(MAX_QUERIES[name]):
        response = client.get(f"{API}/{name}/", **headers)
    assert response.status_code == 200
    assert len(response.json()["results"]) == size
