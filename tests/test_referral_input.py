"""Bad input gets a clear message, keeps what was typed, and saves nothing half-way.

Covers the referral, close, introduction and spend forms, and the spend CSV import
(upload → preview → confirm, all rows or none).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from referrals import spend_import
from referrals.models import (
    Direction,
    Introduction,
    Referral,
    Spend,
    Status,
    StatusChange,
)
from referrals.views import IMPORT_SESSION_KEY

pytestmark = pytest.mark.django_db


def _today() -> date:
    return timezone.localdate()


def _days(n: int) -> str:
    return (_today() + timedelta(days=n)).isoformat()


@pytest.fixture
def susan(alice) -> Contact:
    return Contact.objects.create(owner=alice, name="Susan Park", company="Park Planning")


@pytest.fixture
def raj(alice) -> Contact:
    return Contact.objects.create(owner=alice, name="Raj Realtor")


@pytest.fixture
def archived(alice) -> Contact:
    return Contact.objects.create(owner=alice, name="Olga Archived", is_archived=True)


@pytest.fixture
def charlies_contact(charlie) -> Contact:
    return Contact.objects.create(owner=charlie, name="Zed Charlies-Friend")


def _field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


# --- Referral form ------------------------------------------------------------------------


def _referral_data(partner, **overrides) -> dict:
    data = {
        "direction": Direction.RECEIVED,
        "partner": partner.pk if partner else "",
        "prospect_name": "Dana Prospect",
        "prospect_reach": "dana@example.com",
        "need": "A bigger office near the station",
        "referred_on": _days(-30),
        "temperature": "hot",
        "status": Status.PASSED,
        "value": "",
        "currency": "USD",
        "closed_on": "",
    }
    data.update(overrides)
    return data


BAD_REFERRALS = {
    "negative value": (
        {"status": Status.WON, "closed_on": _days(-1), "value": "-5"},
        "value",
        "greater than or equal to 0",
    ),
    "absurd value": (
        {"status": Status.WON, "closed_on": _days(-1), "value": "100000000.01"},
        "value",
        "less than or equal to 100000000",
    ),
    "value that is not a number": (
        {"status": Status.WON, "closed_on": _days(-1), "value": "lots"},
        "value",
        "Enter a number.",
    ),
    "won without a date": (
        {"status": Status.WON, "value": "100"},
        "closed_on",
        "A closed referral needs the date it closed.",
    ),
    "lost without a date": (
        {"status": Status.LOST},
        "closed_on",
        "A closed referral needs the date it closed.",
    ),
    "won without a value": (
        {"status": Status.WON, "closed_on": _days(-1)},
        "value",
        "Enter the value of the closed business (0 if unknown).",
    ),
    "closed before referred": (
        {"status": Status.LOST, "closed_on": _days(-31)},
        "closed_on",
        "It can't close before it was passed.",
    ),
    "referred in the future": (
        {"referred_on": _days(5)},
        "referred_on",
        "That date is in the future.",
    ),
    "closed in the future": (
        {"status": Status.LOST, "closed_on": _days(5)},
        "closed_on",
        "The closing date is in the future.",
    ),
    "no prospect": ({"prospect_name": "   "}, "prospect_name", "This field is required."),
    "unknown status": ({"status": "maybe"}, "status", "Select a valid choice."),
}


@pytest.mark.parametrize(
    ("overrides", "field", "message"), BAD_REFERRALS.values(), ids=list(BAD_REFERRALS)
)
def test_bad_referral_is_refused_with_a_clear_message(
    alice_client, susan, overrides, field, message
):
    data = _referral_data(susan, **overrides)

    response = alice_client.post(reverse("referrals:create"), data)

    assert response.status_code == 200
    assert any(message in error for error in _field_errors(response, field))
    html = response.content.decode()
    assert "Please correct the fields marked below; nothing you typed is lost." in html
    assert message.replace("'", "&#x27;") in html
    # What was typed is still there, including the picked partner.
    assert 'value="dana@example.com"' in html
    assert "A bigger office near the station" in html
    assert f'<input type="hidden" name="partner" value="{susan.pk}">' in html
    assert not Referral.objects.exists()
    assert not StatusChange.objects.exists()


def test_referral_to_an_archived_contact_is_refused(alice_client, archived):
    response = alice_client.post(reverse("referrals:create"), _referral_data(archived))

    assert response.status_code == 200
    assert _field_errors(response, "partner") == [
        "Olga Archived is archived: unarchive them first."
    ]
    assert "archived" in response.content.decode()
    assert not Referral.objects.exists()


def test_referral_to_another_users_contact_is_refused(alice_client, charlies_contact):
    response = alice_client.post(reverse("referrals:create"), _referral_data(charlies_contact))

    assert response.status_code == 200
    assert _field_errors(response, "partner") == ["That person is not in your contacts."]
    assert "Zed Charlies-Friend" not in response.content.decode()
    assert not Referral.objects.exists()


def test_prospect_as_another_users_contact_is_refused(alice_client, susan, charlies_contact):
    data = _referral_data(susan, prospect_contact=charlies_contact.pk)

    response = alice_client.post(reverse("referrals:create"), data)

    assert _field_errors(response, "prospect_contact") == ["That person is not in your contacts."]
    assert "Zed Charlies-Friend" not in response.content.decode()
    assert not Referral.objects.exists()


def test_referral_without_a_partner_asks_for_one(alice_client):
    response = alice_client.post(reverse("referrals:create"), _referral_data(None))

    assert _field_errors(response, "partner") == ["Pick someone from your contacts."]
    assert not Referral.objects.exists()


def test_partner_cannot_also_be_the_prospect(alice_client, susan):
    data = _referral_data(susan, prospect_contact=susan.pk)

    response = alice_client.post(reverse("referrals:create"), data)

    assert _field_errors(response, "prospect_contact") == [
        "The prospect is someone other than the partner."
    ]
    assert not Referral.objects.exists()


def test_bad_edit_leaves_the_referral_as_it_was(alice_client, alice, susan):
    alice_client.post(reverse("referrals:create"), _referral_data(susan))
    referral = Referral.objects.get()
    before = Referral.objects.filter(pk=referral.pk).values().get()

    response = alice_client.post(
        reverse("referrals:edit", args=[referral.pk]),
        _referral_data(susan, prospect_name="Renamed", status=Status.WON, value="-1"),
    )

    assert response.status_code == 200
    assert 'value="Renamed"' in response.content.decode()
    assert Referral.objects.filter(pk=referral.pk).values().get() == before
    assert StatusChange.objects.count() == 1


def test_the_limits_themselves_are_accepted(alice_client, susan):
    """Exactly 100,000,000 and a date of today are fine: the checks are not off by one."""
    data = _referral_data(
        susan,
        referred_on=_days(0),
        status=Status.WON,
        closed_on=_days(0),
        value="100000000",
    )

    response = alice_client.post(reverse("referrals:create"), data)

    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.value == Decimal("100000000")


# --- Closing ----------------------------------------------------------------------------


BAD_CLOSINGS = {
    "won without value": ({"value": ""}, "value", "Enter the value"),
    "no date": ({"closed_on": ""}, "closed_on", "This field is required."),
    "before referred": ({"closed_on": _days(-40)}, "closed_on", "can't close before"),
    "in the future": ({"closed_on": _days(5)}, "closed_on", "in the future"),
    "negative value": ({"value": "-1"}, "value", "greater than or equal to 0"),
    "absurd value": ({"value": "250000000"}, "value", "less than or equal to 100000000"),
    "not a closed status": ({"status": Status.CONTACTED}, "status", "Select a valid choice"),
}


@pytest.mark.parametrize(
    ("overrides", "field", "message"), BAD_CLOSINGS.values(), ids=list(BAD_CLOSINGS)
)
def test_bad_closing_changes_nothing(alice_client, alice, susan, overrides, field, message):
    referral = Referral.objects.create(
        owner=alice,
        partner=susan,
        direction=Direction.RECEIVED,
        prospect_name="Dana Prospect",
        referred_on=_today() - timedelta(days=30),
        status=Status.MEETING_HELD,
    )
    before = Referral.objects.filter(pk=referral.pk).values().get()
    data = {"status": Status.WON, "closed_on": _days(-1), "value": "2500", **overrides}

    response = alice_client.post(reverse("referrals:close", args=[referral.pk]), data)

    assert response.status_code == 200
    assert any(message in e for e in _field_errors(response, field))
    assert Referral.objects.filter(pk=referral.pk).values().get() == before
    assert not StatusChange.objects.exists()


# --- Introductions ----------------------------------------------------------------------


def _intro_data(a, b, **overrides) -> dict:
    data = {
        "contact_a": a.pk,
        "contact_b": b.pk,
        "reason_a": "Both serve new homeowners",
        "reason_b": "",
        "introduced_on": _days(-1),
        "method": "email",
        "outcome": "pending",
        "notes": "Coffee at the Corner",
    }
    data.update(overrides)
    return data


def test_introducing_someone_to_themselves_is_refused(alice_client, susan):
    response = alice_client.post(reverse("referrals:intro_create"), _intro_data(susan, susan))

    assert response.status_code == 200
    assert _field_errors(response, "contact_b") == ["Pick two different people."]
    html = response.content.decode()
    assert 'value="Both serve new homeowners"' in html
    assert "Coffee at the Corner" in html
    assert not Introduction.objects.exists()


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("archived", "contact_b", "is archived"),
        ("charlies", "contact_b", "That person is not in your contacts."),
        ("future", "introduced_on", "That date is in the future."),
        ("missing", "contact_a", "Pick someone from your contacts."),
    ],
)
def test_bad_introduction_is_refused(
    alice_client, susan, raj, archived, charlies_contact, case, field, message
):
    data = {
        "archived": _intro_data(susan, archived),
        "charlies": _intro_data(susan, charlies_contact),
        "future": _intro_data(susan, raj, introduced_on=_days(7)),
        "missing": _intro_data(susan, raj, contact_a=""),
    }[case]

    response = alice_client.post(reverse("referrals:intro_create"), data)

    assert response.status_code == 200
    assert any(message in e for e in _field_errors(response, field))
    assert "Zed Charlies-Friend" not in response.content.decode()
    assert not Introduction.objects.exists()


def test_good_introduction_is_saved(alice_client, alice, susan, raj):
    response = alice_client.post(reverse("referrals:intro_create"), _intro_data(susan, raj))

    assert response.status_code == 302
    intro = Introduction.objects.get()
    assert (intro.owner, intro.contact_a, intro.contact_b) == (alice, susan, raj)


# --- Spends -------------------------------------------------------------------------------


def _spend_data(contact, **overrides) -> dict:
    data = {
        "contact": contact.pk,
        "spent_on": _days(-2),
        "amount": "45.50",
        "currency": "USD",
        "description": "Annual check-up for Rex",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"amount": "0"}, "amount", "greater than or equal to 0.01"),
        ({"amount": "-20"}, "amount", "greater than or equal to 0.01"),
        ({"amount": "100000001"}, "amount", "less than or equal to 100000000"),
        ({"amount": ""}, "amount", "This field is required."),
        ({"amount": "twelve"}, "amount", "Enter a number."),
        ({"spent_on": _days(9)}, "spent_on", "That date is in the future."),
        ({"currency": "XXX"}, "currency", "Select a valid choice."),
    ],
    ids=["zero", "negative", "absurd", "missing", "words", "future", "currency"],
)
def test_bad_spend_is_refused(alice_client, susan, overrides, field, message):
    response = alice_client.post(reverse("referrals:spend_create"), _spend_data(susan, **overrides))

    assert response.status_code == 200
    assert any(message in e for e in _field_errors(response, field))
    html = response.content.decode()
    assert 'value="Annual check-up for Rex"' in html
    assert f'<input type="hidden" name="contact" value="{susan.pk}">' in html
    assert not Spend.objects.exists()


def test_spend_with_another_users_contact_is_refused(alice_client, charlies_contact):
    response = alice_client.post(reverse("referrals:spend_create"), _spend_data(charlies_contact))

    assert _field_errors(response, "contact") == ["That person is not in your contacts."]
    assert "Zed Charlies-Friend" not in response.content.decode()
    assert not Spend.objects.exists()


def test_good_spend_is_saved(alice_client, alice, susan):
    response = alice_client.post(reverse("referrals:spend_create"), _spend_data(susan))

    assert response.status_code == 302
    spend = Spend.objects.get()
    assert (spend.owner, spend.contact, spend.amount) == (alice, susan, Decimal("45.50"))
    assert spend.imported is False


# --- Spend CSV import ---------------------------------------------------------------------


@pytest.fixture
def payees(alice):
    return {
        "vet": Contact.objects.create(owner=alice, name="Dr Kim", company="Happy Paws Vet"),
        "salon": Contact.objects.create(owner=alice, name="Lee Sharp", company="Sharp Cuts Salon"),
    }


GOOD_CSV = (
    "Date,Description,Amount\n"
    "2024-03-01,Happy Paws Vet,-45.00\n"
    "2024-03-15,Happy Paws Vet,-120.50\n"
    '2024-04-02,Sharp Cuts Salon,"-1,234.00"\n'
    "2024-04-03,Corner Kiosk,-9.99\n"
)


def _csv(name: str, content: bytes | str) -> SimpleUploadedFile:
    if isinstance(content, str):
        content = content.encode()
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _upload(client, content, **extra):
    data = {"file": _csv("statement.csv", content), "date_format": "iso", "currency": "USD"}
    data.update(extra)
    return client.post(reverse("referrals:spend_import"), data)


def _stored(client) -> dict | None:
    return client.session.get(IMPORT_SESSION_KEY)


def _payee_fields(client, choices: dict[str, object]) -> dict:
    """POST fields mapping payee names to contacts (or skip), by the stored payee order."""
    payees = _stored(client)["parsed"]["payees"]
    return {
        f"payee_{i}": (choices[p].pk if choices.get(p) is not None else "")
        for i, p in enumerate(payees)
    }


def test_good_file_previews_then_saves_every_row_at_once(alice_client, alice, payees):
    response = _upload(alice_client, GOOD_CSV)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: 4 rows" in html
    # Each payee is listed with its suggested contact already selected.
    assert "Happy Paws Vet" in html
    assert f'<option value="{payees["vet"].pk}" selected>Dr Kim (Happy Paws Vet)</option>' in html
    assert (
        f'<option value="{payees["salon"].pk}" selected>Lee Sharp (Sharp Cuts Salon)</option>'
        in html
    )
    assert "No contact matches: add them first, or skip." in html  # Corner Kiosk
    assert not Spend.objects.exists()  # nothing saved before confirming

    token = _stored(alice_client)["token"]
    fields = _payee_fields(
        alice_client, {"Happy Paws Vet": payees["vet"], "Sharp Cuts Salon": payees["salon"]}
    )
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.post(
            reverse("referrals:spend_import_confirm"), {"token": token, **fields}, follow=True
        )

    assert response.redirect_chain == [(reverse("referrals:spends"), 302)]
    assert "Imported 3 spends; skipped 1 row with no contact." in response.content.decode()
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "referrals_spend"')]
    assert len(inserts) == 1  # all rows in one statement, inside one transaction
    saved = list(
        Spend.objects.order_by("spent_on").values_list(
            "owner", "contact", "spent_on", "amount", "currency", "description", "imported"
        )
    )
    assert saved == [
        (
            alice.pk,
            payees["vet"].pk,
            date(2024, 3, 1),
            Decimal("45.00"),
            "USD",
            "Happy Paws Vet",
            True,
        ),
        (
            alice.pk,
            payees["vet"].pk,
            date(2024, 3, 15),
            Decimal("120.50"),
            "USD",
            "Happy Paws Vet",
            True,
        ),
        (
            alice.pk,
            payees["salon"].pk,
            date(2024, 4, 2),
            Decimal("1234.00"),
            "USD",
            "Sharp Cuts Salon",
            True,
        ),
    ]
    assert _stored(alice_client) is None


def test_confirming_twice_imports_once(alice_client, payees):
    _upload(alice_client, GOOD_CSV)
    token = _stored(alice_client)["token"]
    fields = {"token": token, **_payee_fields(alice_client, {"Happy Paws Vet": payees["vet"]})}
    alice_client.post(reverse("referrals:spend_import_confirm"), fields)

    response = alice_client.post(reverse("referrals:spend_import_confirm"), fields, follow=True)

    assert "That import has expired; upload the file again." in response.content.decode()
    assert Spend.objects.count() == 2


def test_other_date_formats_and_currency(alice_client, payees):
    content = "Posted Date\tPayee\tDebit\n05/03/2024\tHappy Paws Vet\t1,045.00\n"
    _upload(alice_client, content, date_format="dmy", currency="EUR")
    token = _stored(alice_client)["token"]
    alice_client.post(
        reverse("referrals:spend_import_confirm"),
        {"token": token, **_payee_fields(alice_client, {"Happy Paws Vet": payees["vet"]})},
    )

    spend = Spend.objects.get()
    assert (spend.spent_on, spend.amount, spend.currency) == (
        date(2024, 3, 5),
        Decimal("1045.00"),
        "EUR",
    )


def test_confirm_with_another_users_contact_is_refused(alice_client, payees, charlies_contact):
    _upload(alice_client, GOOD_CSV)
    token = _stored(alice_client)["token"]
    fields = _payee_fields(
        alice_client, {"Happy Paws Vet": payees["vet"], "Sharp Cuts Salon": charlies_contact}
    )

    response = alice_client.post(
        reverse("referrals:spend_import_confirm"), {"token": token, **fields}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "One of the chosen contacts is not yours; nothing was saved." in html
    assert "Zed Charlies-Friend" not in html
    assert not Spend.objects.exists()
    assert _stored(alice_client)["token"] == token  # the user can fix the choice and retry


def test_confirm_with_an_archived_contact_is_refused(alice_client, payees, archived):
    _upload(alice_client, GOOD_CSV)
    token = _stored(alice_client)["token"]
    fields = _payee_fields(alice_client, {"Happy Paws Vet": archived})

    response = alice_client.post(
        reverse("referrals:spend_import_confirm"), {"token": token, **fields}
    )

    assert response.status_code == 400
    assert not Spend.objects.exists()


def test_confirm_without_any_match_saves_nothing(alice_client, payees):
    _upload(alice_client, GOOD_CSV)
    token = _stored(alice_client)["token"]

    response = alice_client.post(
        reverse("referrals:spend_import_confirm"),
        {"token": token, **_payee_fields(alice_client, {})},
    )

    assert response.status_code == 400
    assert "Match at least one payee to a contact." in response.content.decode()
    assert not Spend.objects.exists()


@pytest.mark.parametrize("token", ["not-the-token", ""])
def test_confirm_with_a_mismatched_token_is_refused(alice_client, payees, token):
    _upload(alice_client, GOOD_CSV)
    fields = _payee_fields(alice_client, {"Happy Paws Vet": payees["vet"]})

    response = alice_client.post(
        reverse("referrals:spend_import_confirm"), {"token": token, **fields}, follow=True
    )

    assert response.redirect_chain == [(reverse("referrals:spend_import"), 302)]
    assert "That import has expired; upload the file again." in response.content.decode()
    assert not Spend.objects.exists()


def test_confirm_without_an_upload_is_refused(alice_client, payees):
    response = alice_client.post(
        reverse("referrals:spend_import_confirm"),
        {"token": "anything", "payee_0": payees["vet"].pk},
        follow=True,
    )

    assert "That import has expired" in response.content.decode()
    assert not Spend.objects.exists()


def test_rows_with_errors_are_listed_by_line_and_nothing_is_saved(alice_client, payees):
    content = (
        "date,payee,amount\n"
        "2024-03-01,Happy Paws Vet,45.00\n"
        "31/02/2024,Happy Paws Vet,10\n"
        "2024-03-05,Happy Paws Vet,abc\n"
        "\n"
        "2024-03-06,Happy Paws Vet,0\n"
        "2024-03-07,,12\n"
        "2099-01-01,Happy Paws Vet,5\n"
        "2024-03-08,Happy Paws Vet,200000000\n"
        "2024-02-30,Happy Paws Vet,\n"
    )

    response = _upload(alice_client, content)

    assert response.status_code == 200
    html = response.content.decode()
    assert "7 rows can't be imported." in html
    for line in [
        "Line 3: “31/02/2024” is not a date in the YYYY-MM-DD format",
        "Line 4: “abc” is not an amount",
        "Line 6: the amount is zero",
        "Line 7: the payee is empty",
        "Line 8: date 2099-01-01 is in the future",
        "Line 9: the amount 200000000 is too large",
        "Line 10: “2024-02-30” is not a date in the YYYY-MM-DD format; “” is not an amount",
    ]:
        assert line in html
    assert "Line 2:" not in html
    assert 'name="token"' not in html  # no Import button while rows have errors

    token = _stored(alice_client)["token"]
    response = alice_client.post(
        reverse("referrals:spend_import_confirm"),
        {"token": token, **_payee_fields(alice_client, {"Happy Paws Vet": payees["vet"]})},
    )
    assert response.status_code == 400
    assert "Fix the rows with errors in the file and upload it again; nothing was saved." in (
        response.content.decode()
    )
    assert not Spend.objects.exists()


def test_save_refuses_a_file_with_errors_even_when_called_directly(alice, payees):
    parsed = spend_import.Parsed(
        rows=[
            spend_import.Row(line=2, day="2024-03-01", payee="Vet", amount="10.00"),
            spend_import.Row(line=3, payee="Vet", errors=["“x” is not an amount"]),
        ],
        payees=["Vet"],
    )

    with pytest.raises(spend_import.ImportError_):
        spend_import.save(alice, parsed, {"Vet": payees["vet"]}, "USD")
    assert not Spend.objects.exists()


WHOLE_FILE_ERRORS = {
    "wrong columns": (
        b"when,who,how much\n2024-03-01,Vet,4\n",
        "The file needs the columns date, payee and amount; missing date, payee, amount "
        "(found: when, who, how much).",
    ),
    "one column missing": (
        b"Date,Payee,Reference\n2024-03-01,Vet,4\n",
        "missing amount",
    ),
    "latin-1": (
        b"date,payee,amount\n2024-03-01,Caf\xe9 Cr\xe8me,4.50\n",
        "The file is not UTF-8 text",
    ),
    "cp1252": (
        "date,payee,amount\n2024-03-01,Café “Noir”,€4.50\n".encode("cp1252"),
        "Save it as “CSV UTF-8” and upload it again.",
    ),
    "empty": (b"", "The file is empty."),
    "blank": (b"\n\n  \n", "The file is empty."),
    "header only": (b"date,payee,amount\n", "The file has a header but no rows."),
    "binary": (b"PK\x03\x04\x00\x00\x08\x00", "This is not a CSV text file."),
}


@pytest.mark.parametrize(
    ("content", "message"), WHOLE_FILE_ERRORS.values(), ids=list(WHOLE_FILE_ERRORS)
)
def test_unusable_file_is_refused_with_a_clear_message(alice_client, payees, content, message):
    response = _upload(alice_client, content, date_format="dmy", currency="EUR")

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    # The choices made are kept for the next attempt.
    assert '<option value="dmy" selected>' in html
    assert '<option value="EUR" selected>' in html
    assert _stored(alice_client) is None
    assert not Spend.objects.exists()


def test_upload_without_a_file_asks_for_one(alice_client):
    response = alice_client.post(reverse("referrals:spend_import"), {"date_format": "iso"})

    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.content.decode()


def test_import_limit_is_two_megabytes():
    assert spend_import.MAX_BYTES == 2 * 1024 * 1024


def test_a_file_over_the_limit_is_refused_before_it_is_read(alice_client, payees):
    """A 50 MB file takes the same path as this 3 MB one: refused from its declared size."""
    content = b"date,payee,amount\n" + b"2024-03-01,Happy Paws Vet,45.00\n" * 100_000
    response = _upload(alice_client, content)

    assert response.status_code == 413
    assert "The file is larger than 2 MB" in response.content.decode()
    assert _stored(alice_client) is None


def test_two_tabs_confirming_at_once_save_once(alice_client, payees):
    _upload(alice_client, GOOD_CSV)
    stored = _stored(alice_client)
    fields = {
        "token": stored["token"],
        **_payee_fields(alice_client, {"Happy Paws Vet": payees["vet"]}),
    }
    alice_client.post(reverse("referrals:spend_import_confirm"), fields)
    # The second tab's request was sent before the first one cleared the session.
    session = alice_client.session
    session[IMPORT_SESSION_KEY] = stored
    session.save()

    response = alice_client.post(reverse("referrals:spend_import_confirm"), fields, follow=True)

    assert "This import was already saved." in response.content.decode()
    assert Spend.objects.count() == 2


def test_absurdly_long_amount_is_a_row_error(alice_client, payees):
    content = "date,payee,amount\n2024-03-01,Happy Paws Vet," + "9" * 30 + "\n"

    response = _upload(alice_client, content)

    assert response.status_code == 200
    assert "Line 2:" in response.content.decode()
    assert not Spend.objects.exists()


def test_unknown_currency_is_refused(alice_client, payees):
    response = _upload(alice_client, GOOD_CSV, currency="DOLLARS")
    if response.status_code == 200:
        token = _stored(alice_client)["token"]
        response = alice_client.post(
            reverse("referrals:spend_import_confirm"),
            {"token": token, **_payee_fields(alice_client, {"Happy Paws Vet": payees["vet"]})},
        )

    assert response.status_code == 400
    assert "currency" in response.content.decode().lower()
    assert not Spend.objects.exists()


def test_decimal_comma_amounts_are_not_silently_misread(alice_client, payees):
    content = (
        "date;payee;amount\n05/03/2024;Happy Paws Vet;-45,50\n06/03/2024;Sharp Cuts;-1.234,56\n"
    )

    response = _upload(alice_client, content, date_format="dmy", currency="EUR")

    if response.status_code == 400:  # refusing the whole file, with a reason, is fine too
        assert 'class="form-errors"' in response.content.decode()
        return
    # Either the amounts are read as meant, or each row is flagged: never a wrong figure.
    rows = _stored(alice_client)["parsed"]["rows"]
    for row, meant in zip(rows, ["45.50", "1234.56"], strict=True):
        assert row["amount"] == meant or row["errors"], row


ODD_DIGITS = "²"  # str.isdigit() says yes, int() says no


@pytest.mark.parametrize(
    ("url_name", "method", "data", "ok"),
    [
        ("referrals:create", "get", {"partner": ODD_DIGITS}, {200, 404}),
        ("referrals:intro_create", "get", {"contact": ODD_DIGITS}, {200, 404}),
        ("referrals:spend_create", "get", {"contact": ODD_DIGITS}, {200, 404}),
        ("referrals:create", "post", {"partner": ODD_DIGITS, "prospect_name": "X"}, {200}),
        ("referrals:spend_create", "post", {"contact": ODD_DIGITS, "amount": "5"}, {200}),
        ("referrals:intro_create", "post", {"contact_a": ODD_DIGITS}, {200}),
        ("referrals:spend_import_confirm", "post", {"payee_0": ODD_DIGITS}, {400}),
    ],
    ids=["create", "intro", "spend", "create-post", "spend-post", "intro-post", "confirm"],
)
def test_an_id_that_is_not_a_number_is_not_a_server_error(
    alice_client, payees, url_name, method, data, ok
):
    if url_name == "referrals:spend_import_confirm":
        _upload(alice_client, GOOD_CSV)
        data = {**data, "token": _stored(alice_client)["token"]}
    alice_client.raise_request_exception = False

    response = getattr(alice_client, method)(reverse(url_name), data)

    assert response.status_code in ok
    assert not Spend.objects.exists()
    assert not Referral.objects.exists()
    assert not Introduction.objects.exists()


def test_a_referral_whose_partner_was_archived_can_still_be_edited(alice_client, alice, susan):
    referral = Referral.objects.create(
        owner=alice, direction=Direction.GIVEN, partner=susan, prospect_name="Old deal"
    )
    susan.archive()
    response = alice_client.post(
        reverse("referrals:edit", args=[referral.pk]),
        _referral_data(susan, prospect_name="Old deal, renamed"),
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.prospect_name == "Old deal, renamed"


def test_moving_a_referral_to_an_archived_partner_is_refused(alice_client, alice, susan, archived):
    referral = Referral.objects.create(
        owner=alice, direction=Direction.GIVEN, partner=susan, prospect_name="Deal"
    )
    response = alice_client.post(
        reverse("referrals:edit", args=[referral.pk]), _referral_data(archived)
    )
    assert response.status_code == 200
    assert "archived" in " ".join(_field_errors(response, "partner"))
    referral.refresh_from_db()
    assert referral.partner == susan
