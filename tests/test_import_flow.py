"""The import flow: upload → preview with each row's outcome → confirm once → done.

Parsing quirks of each format are in test_import_parsers.py; this file is about matching,
choices, idempotent confirmation, limits, the command, the background path and privacy.
"""

from __future__ import annotations

import io
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from contacts.models import Contact, Occasion, Tag
from portability import importer
from portability.models import ImportBatch, ImportStatus
from referralcrm.celery import app
from referralcrm.uploads import LimitedUploadHandler

pytestmark = pytest.mark.django_db

PHONE_VCF = """BEGIN:VCARD
VERSION:3.0
FN:Jane Roe
N:Roe;Jane;;;
ORG:Roe Staging
TITLE:Home stager
EMAIL;TYPE=INTERNET:JANE@ROESTAGING.COM
TEL;TYPE=CELL:(415) 555-0101
BDAY:1984-04-15
CATEGORIES:Realtors,Stagers
NOTE:Met at the chamber mixer
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Mark Mortgage
ORG:Best Loans
TEL;TYPE=WORK:+1 415 555 0199
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Nina New
ORG:Fresh Bakery
EMAIL:nina@fresh.example
BDAY:--0601
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Nina N.
EMAIL:Nina@Fresh.example
END:VCARD
"""


def _existing(owner) -> tuple[Contact, Contact]:
    jane = Contact.objects.create(owner=owner, name="Jane Roe", emails=["jane@roestaging.com"])
    mark = Contact.objects.create(
        owner=owner, name="Mark M.", company="Best Loans", phones=["415.555.0199"]
    )
    return jane, mark


def _upload(client, content: str | bytes, name: str = "contacts.vcf", **extra):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        reverse("portability:import"),
        {"file": SimpleUploadedFile(name, data), "format": "auto", "phone_region": "US", **extra},
    )


def _batch(owner) -> ImportBatch:
    return ImportBatch.objects.for_user(owner).latest("created_at")


def test_preview_shows_each_rows_outcome_and_nothing_is_imported_yet(alice_client, alice):
    _existing(alice)
    response = _upload(alice_client, PHONE_VCF)
    batch = _batch(alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("portability:import_batch", args=[batch.pk])
    outcomes = {
        r["record"]["name"]: (r["outcome"], r["reason"]) for r in importer.stored_rows(batch)
    }
    assert outcomes["Jane Roe"] == ("match", "same e-mail jane@roestaging.com")
    assert outcomes["Mark Mortgage"][0] == "match"
    assert outcomes["Mark Mortgage"][1].startswith("same phone")
    assert outcomes["Nina New"][0] == "new"
    assert outcomes["Nina N."] == ("duplicate", "same e-mail nina@fresh.example")
    assert Contact.objects.for_user(alice).count() == 2

    page = alice_client.get(response["Location"]).content.decode()
    assert "Matches" in page and "Duplicate" in page and "New contact" in page
    assert "Roe Staging" in page  # the side-by-side: what the file adds
    assert "Import 1 new and update 2" in page


def test_confirm_imports_in_one_go_and_fills_matches_field_by_field(alice_client, alice):
    jane, mark = _existing(alice)
    _upload(alice_client, PHONE_VCF)
    batch = _batch(alice)
    response = alice_client.post(reverse("portability:import_confirm", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert batch.summary["result"]["created"] == 1
    assert batch.summary["result"]["merged"] == 2
    assert batch.data is None  # the uploaded file is not kept once imported

    jane.refresh_from_db()
    assert jane.company == "Roe Staging"
    assert jane.profession == "Home stager"
    assert jane.phones == ["+14155550101"]
    assert "chamber mixer" in jane.notes
    assert sorted(t.name for t in jane.tags.all()) == ["Realtors", "Stagers"]
    birthday = Occasion.objects.get(contact=jane)
    assert (birthday.year, birthday.month, birthday.day) == (1984, 4, 15)
    mark.refresh_from_db()
    assert mark.name == "Mark M."  # the user's own value is kept
    assert mark.phones == ["415.555.0199"]  # same number, not added twice

    nina = Contact.objects.for_user(alice).get(name="Nina New")
    assert nina.emails == ["nina@fresh.example"]
    assert "Imported" in nina.met_how
    assert Occasion.objects.get(contact=nina).year is None
    assert Contact.objects.for_user(alice).count() == 3


def test_confirming_twice_imports_once(alice_client, alice):
    _upload(alice_client, PHONE_VCF)
    batch = _batch(alice)
    url = reverse("portability:import_confirm", args=[batch.pk])
    alice_client.post(url)
    second = alice_client.post(url, follow=True)
    assert "already confirmed" in second.content.decode()
    assert Contact.objects.for_user(alice).count() == 3
    # Nor can a confirm of a batch that is not in preview any more be claimed.
    assert importer.confirm(batch) is False


def test_reimporting_the_same_file_creates_nothing_new(alice_client, alice):
    _upload(alice_client, PHONE_VCF)
    alice_client.post(reverse("portability:import_confirm", args=[_batch(alice).pk]))
    before = Contact.objects.for_user(alice).count()
    links = Contact.tags.through.objects.filter(contact__owner=alice).count()

    _upload(alice_client, PHONE_VCF)
    again = _batch(alice)
    assert {r["outcome"] for r in importer.stored_rows(again)} == {"unchanged", "duplicate"}
    alice_client.post(reverse("portability:import_confirm", args=[again.pk]))
    again.refresh_from_db()
    assert again.summary["result"]["created"] == 0
    assert again.summary["result"]["merged"] == 0
    assert Contact.objects.for_user(alice).count() == before
    assert Contact.tags.through.objects.filter(contact__owner=alice).count() == links
    assert Occasion.objects.for_user(alice).count() == 2


def test_unticked_rows_are_skipped_and_keep_both_adds_a_second_contact(alice_client, alice):
    _existing(alice)
    _upload(alice_client, PHONE_VCF)
    batch = _batch(alice)
    by_name = {r["record"]["name"]: r["position"] for r in importer.stored_rows(batch)}
    # Nina is unticked; Jane is kept as a separate contact; Mark merges as proposed.
    response = alice_client.post(
        reverse("portability:import_confirm", args=[batch.pk]),
        {
            "shown": [by_name["Jane Roe"], by_name["Mark Mortgage"], by_name["Nina New"]],
            "import": [by_name["Jane Roe"], by_name["Mark Mortgage"]],
            "keep_both": [by_name["Jane Roe"]],
        },
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.summary["result"] == {
        "created": 1,
        "merged": 1,
        "duplicates": 1,
        "errors": 0,
        "unchanged": 0,
        "skipped": 1,
    }
    assert Contact.objects.for_user(alice).filter(name="Jane Roe").count() == 2
    assert not Contact.objects.for_user(alice).filter(name="Nina New").exists()


def test_choices_saved_over_htmx_update_the_confirm_button(alice_client, alice):
    _upload(alice_client, PHONE_VCF)
    batch = _batch(alice)
    first = importer.stored_rows(batch)[0]["position"]
    response = alice_client.post(
        reverse("portability:import_choices", args=[batch.pk]),
        {"shown": [first]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Import 2 new and update 0" in response.content.decode()
    batch.refresh_from_db()
    assert importer.stored_rows(batch)[0]["selected"] is False


def test_a_row_with_an_error_is_reported_and_the_rest_still_import(alice_client, alice):
    bad = PHONE_VCF + "BEGIN:VCARD\nVERSION:3.0\nNOTE:no name at all\nEND:VCARD\n"
    _upload(alice_client, bad)
    batch = _batch(alice)
    errors = [r for r in importer.stored_rows(batch) if r["outcome"] == "error"]
    assert len(errors) == 1
    assert errors[0]["record"]["errors"]
    page = alice_client.get(reverse("portability:import_batch", args=[batch.pk]) + "?show=error")
    assert errors[0]["record"]["errors"][0] in page.content.decode()
    alice_client.post(reverse("portability:import_confirm", args=[batch.pk]))
    assert Contact.objects.for_user(alice).count() == 3


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.vcf", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "photo.vcf", "PNG"),
    ],
)
def test_unusable_files_are_refused_with_a_clear_message(
    alice_client, alice, content, name, message
):
    response = _upload(alice_client, content, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Contact.objects.for_user(alice).count() == 0


def test_a_file_over_the_limit_is_refused_before_it_is_read(alice_client, alice, settings):
    settings.IMPORT_MAX_BYTES = 1024
    big = PHONE_VCF * 400  # about 120 kB: over the limit plus the envelope
    response = _upload(alice_client, big)
    assert response.status_code == 413
    assert "larger than" in response.content.decode()
    assert not ImportBatch.objects.for_user(alice).exists()


def test_the_upload_handler_stops_a_body_past_the_limit():
    from django.core.files.uploadhandler import StopUpload

    handler = LimitedUploadHandler(limit=10)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"678901", 5)
    assert handler.too_large


def test_too_many_rows_are_refused_before_parsing(alice_client, alice, settings):
    settings.IMPORT_MAX_ROWS = 2
    response = _upload(alice_client, PHONE_VCF)
    assert response.status_code == 400
    assert "at most" in response.content.decode()


def test_cancel_discards_the_batch(alice_client, alice):
    _upload(alice_client, PHONE_VCF)
    batch = _batch(alice)
    alice_client.post(reverse("portability:import_cancel", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED
    assert (
        alice_client.post(reverse("portability:import_confirm", args=[batch.pk])).status_code == 302
    )
    assert Contact.objects.for_user(alice).count() == 0


MARKER = "Zyzzyva-Import-Marker"


def test_nobody_else_can_see_choose_confirm_or_cancel_an_import(client, alice, charlie):
    client.force_login(alice)
    _upload(client, PHONE_VCF.replace("Jane Roe", f"Jane {MARKER}"))
    batch = _batch(alice)
    client.force_login(charlie)
    for name, method in [
        ("import_batch", "get"),
        ("import_progress", "get"),
        ("import_choices", "post"),
        ("import_mapping", "post"),
        ("import_confirm", "post"),
        ("import_cancel", "post"),
    ]:
        response = getattr(client, method)(reverse(f"portability:{name}", args=[batch.pk]))
        assert response.status_code == 404, name
        assert MARKER not in response.content.decode()
    listing = client.get(reverse("portability:import"))
    assert MARKER not in listing.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW
    assert not Contact.objects.filter(owner=charlie).exists()


def test_import_command_prints_each_row_and_a_summary(alice, tmp_path):
    _existing(alice)
    path = tmp_path / "phone.vcf"
    path.write_text(PHONE_VCF)
    out = io.StringIO()
    call_command("import_contacts", "--user", alice.email, str(path), "--dry-run", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1].startswith("new 1, merged 2, duplicates in file 1, errors 0")
    assert any("duplicate of row" in line for line in lines)
    assert Contact.objects.for_user(alice).count() == 2

    call_command("import_contacts", "--user", alice.email, str(path), stdout=io.StringIO())
    assert Contact.objects.for_user(alice).count() == 3


def test_import_command_fails_only_when_nothing_can_be_read(alice, tmp_path):
    path = tmp_path / "photo.vcf"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(CommandError):
        call_command("import_contacts", "--user", alice.email, str(path), stdout=io.StringIO())


def test_tags_are_shared_case_insensitively_with_existing_ones(alice_client, alice):
    Tag.objects.create(owner=alice, name="realtors")
    _upload(alice_client, PHONE_VCF)
    alice_client.post(reverse("portability:import_confirm", args=[_batch(alice).pk]))
    assert set(Tag.objects.for_user(alice).values_list("name", flat=True)) == {
        "realtors",
        "Stagers",
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_read_and_imported_by_the_worker_with_progress(client, settings):
    from tests.conftest import make_user

    owner = make_user("bulk@example.com")
    client.force_login(owner)
    settings.IMPORT_BACKGROUND_ROWS = 3
    cards = "".join(
        f"BEGIN:VCARD\nVERSION:3.0\nFN:Person {i}\nEMAIL:p{i}@bulk.example\nEND:VCARD\n"
        for i in range(40)
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        response = _upload(client, cards)
        batch = _batch(owner)
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "import-progress" in page or batch.status != ImportStatus.PARSING
        _wait_for(batch, ImportStatus.PREVIEW)
        assert (
            client.get(reverse("portability:import_progress", args=[batch.pk])).status_code == 204
        )
        client.post(reverse("portability:import_confirm", args=[batch.pk]))
        _wait_for(batch, ImportStatus.DONE)
    assert Contact.objects.for_user(owner).count() == 40


def _wait_for(batch: ImportBatch, status: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"batch is {batch.status}, not {status}: {batch.error}")


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures" / "imports"


def test_linkedin_rows_record_where_we_met_and_match_on_name_and_company(alice_client, alice):
    data = (FIXTURES / "linkedin_connections.csv").read_bytes()
    _upload(alice_client, data, name="Connections.csv")
    batch = _batch(alice)
    assert batch.format == "linkedin"
    alice_client.post(reverse("portability:import_confirm", args=[batch.pk]))
    grace = Contact.objects.for_user(alice).get(name="Grace Hopper")
    assert grace.met_how == "Imported from LinkedIn, connected 15 Mar 2024"
    assert grace.company == "Hopper Consulting, LLC"
    count = Contact.objects.for_user(alice).count()

    # Most LinkedIn rows have no e-mail: the second import matches them by name + company.
    _upload(alice_client, data, name="Connections.csv")
    again = _batch(alice)
    assert {r["outcome"] for r in importer.stored_rows(again)} <= {
        "unchanged",
        "error",
        "duplicate",
    }
    alice_client.post(reverse("portability:import_confirm", args=[again.pk]))
    assert Contact.objects.for_user(alice).count() == count


def test_any_other_csv_gets_a_column_mapping_step(alice_client, alice):
    csv_text = "Who;Firm;Mail;Colour\r\nAda Lovelace;Engines Ltd;ada@engines.example;green\r\n"
    _upload(alice_client, csv_text.encode("latin-1"), name="people.csv")
    batch = _batch(alice)
    assert batch.format == "csv"
    page = alice_client.get(reverse("portability:import_batch", args=[batch.pk])).content.decode()
    assert "Columns of your file" in page
    assert 'id="column_0"' in page

    response = alice_client.post(
        reverse("portability:import_mapping", args=[batch.pk]),
        {"column_0": "name", "column_1": "company", "column_2": "email", "column_3": ""},
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEW
    record = importer.stored_rows(batch)[0]["record"]
    assert (record["name"], record["company"], record["emails"]) == (
        "Ada Lovelace",
        "Engines Ltd",
        ["ada@engines.example"],
    )

    # Ignoring every column leaves nothing to import, and says so per row.
    alice_client.post(reverse("portability:import_mapping", args=[batch.pk]), {})
    batch.refresh_from_db()
    assert importer.stored_rows(batch)[0]["outcome"] == "error"


def _cards(n: int) -> str:
    return "".join(
        f"BEGIN:VCARD\nVERSION:3.0\nFN:Person {i}\nEMAIL:p{i}@many.example\nEND:VCARD\n"
        for i in range(n)
    )


@pytest.mark.parametrize("size", [5, 250])
def test_the_preview_page_costs_the_same_queries_for_any_file(
    alice_client, alice, settings, django_assert_max_num_queries, size
):
    settings.IMPORT_BACKGROUND_ROWS = 1000
    _upload(alice_client, _cards(size))
    batch = _batch(alice)
    url = reverse("portability:import_batch", args=[batch.pk])
    with django_assert_max_num_queries(6):
        page = alice_client.get(url + "?show=new&page=2")
    assert page.status_code == 200
    body = page.content.decode()
    if size > 100:
        assert "Person 100" in body and "Person 99<" not in body and "Page 2 of 3" in body
    else:
        assert "Person 0" in body  # past the last page: the last page


def test_the_import_menu_links_are_on_every_page(alice_client):
    body = alice_client.get(reverse("dashboard")).content.decode()
    assert reverse("portability:import") in body
    assert reverse("portability:export") in body


def test_an_archive_uploaded_on_the_import_page_restores_into_an_empty_account(client, alice, bob):
    from portability.exports import archive_chunks
    from referrals.models import Referral

    partner = Contact.objects.create(owner=alice, name="Raj Realtor", emails=["raj@x.example"])
    Referral.objects.create(owner=alice, direction="given", partner=partner, prospect_name="Lee")
    archive = "".join(archive_chunks(alice)).encode()

    client.force_login(bob)
    _upload(client, archive, name="referral-crm-archive.json")
    batch = _batch(bob)
    assert (batch.format, batch.status) == ("archive", ImportStatus.PREVIEW)
    page = client.get(reverse("portability:import_batch", args=[batch.pk])).content.decode()
    assert "Restore the archive" in page
    client.post(reverse("portability:import_confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert Contact.objects.for_user(bob).get().emails == ["raj@x.example"]
    assert Referral.objects.for_user(bob).get().prospect_name == "Lee"

    # Into an account that has contacts it is refused, and nothing changes.
    _upload(client, archive, name="again.json")
    again = _batch(bob)
    client.post(reverse("portability:import_confirm", args=[again.pk]))
    again.refresh_from_db()
    assert again.status == ImportStatus.FAILED
    assert "contacts" in again.error
    assert Contact.objects.for_user(bob).count() == 1
