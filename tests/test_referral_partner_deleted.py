"""Deleting a contact keeps the referrals with them: the ledger shows their name, its totals
don't change, and every page, the API, the digest and the archive handle a partner-less row."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from contacts.models import Contact
from followups import digest
from portability import archive
from portability.exports import archive_chunks
from referrals import rollups
from referrals.models import Direction, Referral, Status
from referrals.rollups import ReciprocityTally
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def ledger(alice):
    """Susan gave alice a referral that closed won and alice gave Susan an open one; Raj
    stays. Then Susan's contact is deleted through the page."""
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    raj = Contact.objects.create(owner=alice, name="Raj Realtor")
    today = timezone.localdate()
    won = Referral.objects.create(
        owner=alice,
        direction=Direction.RECEIVED,
        partner=susan,
        prospect_name="Pat Prospect",
        referred_on=today - timedelta(days=20),
        status=Status.WON,
        value=Decimal("1200.00"),
        closed_on=today - timedelta(days=3),
    )
    open_ = Referral.objects.create(
        owner=alice,
        direction=Direction.GIVEN,
        partner=susan,
        prospect_name="Lee Lead",
        referred_on=today - timedelta(days=10),
    )
    kept = Referral.objects.create(
        owner=alice, direction=Direction.GIVEN, partner=raj, prospect_name="Kim Keeper"
    )
    return {"susan": susan, "raj": raj, "won": won, "open": open_, "kept": kept}


def delete(client, contact):
    return client.post(reverse("contacts:delete", args=[contact.pk]))


def test_the_confirmation_says_the_referrals_stay_with_the_name(alice_client, ledger):
    page = alice_client.get(reverse("contacts:delete", args=[ledger["susan"].pk])).content.decode()

    assert "2 referrals with them stay in your ledger as" in page
    assert "Susan Planner (deleted)" in page
    assert "<li>2 referrals</li>" not in page  # not among what goes with them


def test_deleting_the_partner_keeps_their_referrals_with_their_name(alice, alice_client, ledger):
    months_before = list(rollups.ReferralMonth.objects.filter(owner_id=alice.pk).values_list())

    assert delete(alice_client, ledger["susan"]).status_code == 302

    assert not Contact.objects.filter(pk=ledger["susan"].pk).exists()
    rows = {r.prospect_name: r for r in Referral.objects.filter(owner=alice)}
    assert set(rows) == {"Pat Prospect", "Lee Lead", "Kim Keeper"}
    for name in ("Pat Prospect", "Lee Lead"):
        assert rows[name].partner_id is None
        assert rows[name].partner_name == "Susan Planner"
        assert rows[name].partner_label == "Susan Planner (deleted)"
    assert rows["Kim Keeper"].partner_id == ledger["raj"].pk
    assert rows["Kim Keeper"].partner_name == ""
    if connection.vendor == "postgresql":
        # The month totals are untouched; Susan's tally went with her contact.
        assert (
            list(rollups.ReferralMonth.objects.filter(owner_id=alice.pk).values_list())
            == months_before
        )
        assert not ReciprocityTally.objects.filter(partner_id=ledger["susan"].pk).exists()
        assert rollups.verify(alice.pk) == []


def test_ledger_detail_close_and_edit_pages_show_the_kept_name(alice, alice_client, ledger):
    delete(alice_client, ledger["susan"])
    won, open_ = ledger["won"], ledger["open"]

    page = alice_client.get(reverse("referrals:ledger")).content.decode()
    assert page.count("Susan Planner (deleted)") == 2
    assert "Raj Realtor" in page

    detail = alice_client.get(reverse("referrals:detail", args=[won.pk]))
    assert detail.status_code == 200
    assert "Susan Planner (deleted)" in detail.content.decode()

    close = alice_client.get(reverse("referrals:close", args=[open_.pk]))
    assert close.status_code == 200
    assert "Susan Planner (deleted)" in close.content.decode()

    edit = alice_client.get(reverse("referrals:edit", args=[open_.pk]))
    assert edit.status_code == 200
    assert "Their contact was deleted" in edit.content.decode()


def test_an_orphaned_referral_saves_without_a_partner_or_links_to_a_new_one(
    alice, alice_client, ledger
):
    delete(alice_client, ledger["susan"])
    open_ = ledger["open"]
    form = {
        "direction": "given",
        "partner": "",
        "prospect_name": "Lee Lead",
        "referred_on": open_.referred_on.isoformat(),
        "temperature": "hot",
        "status": "passed",
        "currency": "USD",
    }

    response = alice_client.post(reverse("referrals:edit", args=[open_.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    open_.refresh_from_db()
    assert (open_.partner_id, open_.partner_name, open_.temperature) == (
        None,
        "Susan Planner",
        "hot",
    )

    new_susan = Contact.objects.create(owner=alice, name="Susan Planner-Jones")
    response = alice_client.post(
        reverse("referrals:edit", args=[open_.pk]), form | {"partner": new_susan.pk}
    )
    assert response.status_code == 302
    open_.refresh_from_db()
    assert (open_.partner_id, open_.partner_name) == (new_susan.pk, "")


def test_a_referral_with_a_partner_still_needs_one(alice_client, ledger):
    kept = ledger["kept"]
    response = alice_client.post(
        reverse("referrals:edit", args=[kept.pk]),
        {
            "direction": "given",
            "partner": "",
            "prospect_name": "Kim Keeper",
            "referred_on": kept.referred_on.isoformat(),
            "temperature": "warm",
            "status": "passed",
            "currency": "USD",
        },
    )
    assert response.status_code == 200
    assert "This field is required" in response.content.decode() or (
        "Pick" in response.content.decode()
    )
    kept.refresh_from_db()
    assert kept.partner_id == ledger["raj"].pk


def test_the_thank_you_step_marks_an_orphaned_referral(alice, alice_client, ledger):
    delete(alice_client, ledger["susan"])
    won = ledger["won"]

    response = alice_client.post(reverse("plan:step_thanks", args=[won.pk]), follow=True)

    assert response.status_code == 200
    assert "Thank-you to Susan Planner (deleted) marked as sent." in response.content.decode()
    won.refresh_from_db()
    assert won.thanks_sent_on == timezone.localdate()


def test_an_orphaned_referral_is_still_nobody_elses(alice_client, charlie_client, ledger):
    delete(alice_client, ledger["susan"])
    for name in ("referrals:detail", "referrals:edit", "referrals:close"):
        assert charlie_client.get(reverse(name, args=[ledger["won"].pk])).status_code == 404


def test_the_api_gives_a_null_partner_and_the_kept_name(alice, alice_client, client, ledger):
    delete(alice_client, ledger["susan"])
    _, token = ApiToken.issue(alice, name="test", scope="write")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = f"{API}/referrals/{ledger['open'].pk}/"

    body = client.get(url, **headers).json()
    assert (body["partner"], body["partner_name"]) == (None, "Susan Planner")

    # Its other fields still change; a partner can be given again.
    patched = client.patch(
        url, {"need": "Payroll help"}, content_type="application/json", **headers
    )
    assert patched.status_code == 200, patched.content
    relinked = client.patch(
        url, {"partner": ledger["raj"].pk}, content_type="application/json", **headers
    )
    assert relinked.status_code == 200
    assert (relinked.json()["partner"], relinked.json()["partner_name"]) == (
        ledger["raj"].pk,
        "",
    )

    # A referral with a partner, or a new one, can't be given none.
    kept = f"{API}/referrals/{ledger['kept'].pk}/"
    refused = client.patch(kept, {"partner": None}, content_type="application/json", **headers)
    assert refused.status_code == 400
    assert "partner" in refused.json()
    created = client.post(
        f"{API}/referrals/",
        {"direction": "given", "partner": None, "prospect_name": "Nobody"},
        content_type="application/json",
        **headers,
    )
    assert created.status_code == 400
    assert "partner" in created.json()


def test_the_digest_lists_an_open_referral_whose_partner_was_deleted(alice, alice_client, ledger):
    delete(alice_client, ledger["susan"])

    built = digest.build(alice, timezone.localdate())

    labels = [r.partner_label for r in built.referrals]
    assert "Susan Planner (deleted)" in labels


def test_the_archive_keeps_the_name_through_export_and_restore(alice, alice_client, ledger):
    delete(alice_client, ledger["susan"])
    data = json.loads("".join(archive_chunks(alice)))
    [row] = [r for r in data["referrals"] if r["prospect_name"] == "Lee Lead"]
    assert (row["partner"], row["partner_name"]) == (None, "Susan Planner")

    dora = make_user("dora@example.com")
    archive.restore(dora, json.dumps(data).encode())

    restored = Referral.objects.get(owner=dora, prospect_name="Lee Lead")
    assert (restored.partner_id, restored.partner_label) == (None, "Susan Planner (deleted)")
    assert Referral.objects.get(owner=dora, prospect_name="Kim Keeper").partner.name == (
        "Raj Realtor"
    )


def test_deleting_the_account_still_deletes_every_referral(alice, ledger):
    alice.delete()
    ids = [ledger[name].pk for name in ("won", "open", "kept")]
    assert not Referral.objects.filter(pk__in=ids).exists()
