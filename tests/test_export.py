"""Export: vCard 4.0, CSV, the export page, background jobs, downloads and export_data."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import vobject
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.meetings import FactInput, log_meeting
from contacts.models import Contact, GainsFact, Occasion, Tag
from followups.models import FollowUp
from portability import export_tasks
from portability.exports import archive_chunks, csv_chunks, safe_cell, vcard_chunks
from portability.models import ExportJob, ExportStatus
from portability.views import exports as export_views
from referralcrm.celery import app
from referrals.models import Direction, Referral, StatusChange
from tests.conftest import make_user

MARKER = "CHARLIE-SECRET-7f3a"


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORT_ROOT = str(tmp_path / "exports")
    return Path(settings.EXPORT_ROOT)


def add_contacts(owner, n: int, prefix: str = "Person") -> list[Contact]:
    """``n`` contacts, each with a tag, two GAINS facts, a birthday, a meeting and a referral."""
    tag, _ = Tag.objects.get_or_create(owner=owner, name=f"{prefix} tag")
    made = []
    for i in range(n):
        contact = Contact.objects.create(
            owner=owner,
            name=f"{prefix} {i}",
            emails=[f"{prefix.lower()}{i}@example.com"],
            phones=["+15555550100"],
        )
        contact.tags.add(tag)
        Occasion.objects.create(
            owner=owner, contact=contact, kind="birthday", month=1, day=i % 28 + 1
        )
        GainsFact.objects.create(owner=owner, contact=contact, kind="goal", text=f"Goal {i}")
        log_meeting(
            owner=owner,
            occurred_at=timezone.now() - timedelta(days=i),
            kind="call",
            attendees=[contact],
            facts=[FactInput("skill", f"Skill {i}")],
        )
        FollowUp.objects.create(
            owner=owner, contact=contact, title="Call back", due_on=timezone.localdate()
        )
        referral = Referral.objects.create(
            owner=owner, direction=Direction.GIVEN, partner=contact, prospect_name=f"P{i}"
        )
        StatusChange.objects.create(referral=referral, status="passed")
        made.append(contact)
    return made


@pytest.fixture
def charlie_data(charlie):
    """The outsider's data, with a marker that must never show in alice's exports."""
    contact = Contact.objects.create(owner=charlie, name=f"{MARKER} contact", notes=MARKER)
    GainsFact.objects.create(owner=charlie, contact=contact, kind="goal", text=MARKER)
    return contact


# --- vCard ------------------------------------------------------------------------


def test_vcard_is_version_4_and_parses_back(alice):
    susan = Contact.objects.create(
        owner=alice,
        name="Susan Ødegaard",
        company="Lund, Berg; & Co",
        profession="Estate lawyer",
        emails=["susan@example.com"],
        phones=["+44 7700 900123"],
        website="https://example.com",
        address="1 Main St\nFlat 2",
        city="Leeds",
        notes="Line one\nline two, comma; semicolon",
    )
    susan.tags.set([Tag.objects.create(owner=alice, name="Golf, club")])
    Occasion.objects.create(owner=alice, contact=susan, kind="birthday", month=3, day=4)
    Occasion.objects.create(
        owner=alice, contact=susan, kind="work_anniversary", year=2015, month=9, day=1
    )
    Contact.objects.create(owner=alice, name="Cher", emails=[], phones=[])

    text = "".join(vcard_chunks(alice))

    assert "\r\n" in text
    cards = list(vobject.readComponents(text))
    assert len(cards) == 2
    assert all(card.version.value == "4.0" for card in cards)
    card = next(c for c in cards if c.fn.value == "Susan Ødegaard")
    assert card.n.value.family == "Ødegaard" and card.n.value.given == "Susan"
    assert card.org.value == ["Lund, Berg; & Co"]
    assert card.title.value == "Estate lawyer"
    assert card.email.value == "susan@example.com"
    assert card.tel.value == "tel:+447700900123"
    assert card.tel.params["VALUE"] == ["uri"]
    assert card.url.value == "https://example.com"
    assert card.adr.value.street == "1 Main St\nFlat 2" and card.adr.value.city == "Leeds"
    assert card.note.value == "Line one\nline two, comma; semicolon"
    assert card.categories.value == ["Golf, club"]
    assert card.bday.value == "--0304"
    assert "TEL;VALUE=uri:tel:+447700900123" in text
    occasion = card.contents["x-referralcrm-occasion"][0]
    assert occasion.value == "20150901" and occasion.params["TYPE"] == ["work_anniversary"]


def test_vcard_has_only_the_users_contacts(alice, charlie_data):
    Contact.objects.create(owner=alice, name="Alice's contact")
    text = "".join(vcard_chunks(alice))
    assert "Alice's contact" in text
    assert MARKER not in text


# --- CSV --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+44 20 7946", "'+44 20 7946"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("Plain", "Plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_formula_cells_are_escaped(value, expected):
    assert safe_cell(value) == expected


def test_csv_has_bom_header_gains_and_escaped_cells(alice, charlie_data):
    bad = Contact.objects.create(
        owner=alice,
        name='=HYPERLINK("http://evil.example","click")',
        company="+1 cmd",
        profession="@SUM(1)",
        notes="-2+3",
        phones=["+15555550100"],
        city="Leeds",
        cadence_days=30,
        stage="connection",
    )
    bad.tags.set([Tag.objects.create(owner=alice, name="Golf")])
    for text in ("Open an office", "Hire two people"):
        GainsFact.objects.create(owner=alice, contact=bad, kind="goal", text=text)
    GainsFact.objects.create(owner=alice, contact=bad, kind="network", text="Chamber")
    Occasion.objects.create(owner=alice, contact=bad, kind="birthday", year=1980, month=3, day=4)

    text = "".join(csv_chunks(alice))

    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["Name"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["Company"] == "'+1 cmd"
    assert row["Profession"] == "'@SUM(1)"
    assert row["Notes"] == "'-2+3"
    assert row["Phones"] == "'+15555550100"
    assert row["City"] == "Leeds" and row["Stage"] == "Connection"
    assert row["Keep in touch every (days)"] == "30"
    assert row["Tags"] == "Golf"
    assert row["Birthday"] == "1980-03-04"
    assert set(row["Goals"].split(" | ")) == {"Open an office", "Hire two people"}
    assert row["Networks"] == "Chamber" and row["Skills"] == ""
    assert MARKER not in text


# --- Query counts -------------------------------------------------------------------


@pytest.mark.parametrize("exporter", [archive_chunks, vcard_chunks, csv_chunks])
def test_export_query_count_does_not_grow_with_the_data(
    alice, exporter, django_assert_max_num_queries
):
    add_contacts(alice, 2, "Small")
    with CaptureQueriesContext(connection) as small:
        "".join(exporter(alice))
    add_contacts(alice, 25, "Large")
    with django_assert_max_num_queries(len(small.captured_queries)):
        text = "".join(exporter(alice))
    assert "Large 24" in text


# --- The export page --------------------------------------------------------------


def test_export_page_offers_the_three_formats(alice_client):
    response = alice_client.get(reverse("portability:export"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Export your network" in body
    for value in ("vcard", "csv", "json"):
        assert f'value="{value}"' in body
    assert "No exports built in the background yet" in body
    assert not ExportJob.objects.exists()


def test_export_page_needs_login(client):
    response = client.get(reverse("portability:export"))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("vcard", "text/vcard; charset=utf-8", "vcf"),
        ("csv", "text/csv; charset=utf-8", "csv"),
        ("json", "application/json; charset=utf-8", "json"),
    ],
)
def test_small_export_streams_a_download(
    alice_client, alice, charlie_data, fmt, content_type, extension
):
    Contact.objects.create(owner=alice, name="Zed Alice-contact")
    response = alice_client.post(reverse("portability:export"), {"format": fmt})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == content_type
    today = timezone.localdate()
    stem = "referral-crm-archive" if fmt == "json" else "referral-crm-contacts"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{stem}-{today:%Y-%m-%d}.{extension}"'
    )
    body = b"".join(response.streaming_content).decode("utf-8")
    assert "Zed Alice-contact" in body
    assert MARKER not in body
    assert not ExportJob.objects.exists()


def test_unknown_format_re_renders_the_form(alice_client):
    response = alice_client.post(reverse("portability:export"), {"format": "xml"})
    assert response.status_code == 200
    assert "field-error" in response.content.decode()


def test_large_export_becomes_a_background_job(
    alice_client, alice, monkeypatch, django_capture_on_commit_callbacks, export_root
):
    monkeypatch.setattr(export_views, "DIRECT_MAX_CONTACTS", 1)
    add_contacts(alice, 2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post(reverse("portability:export"), {"format": "json"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.owner, job.format, job.status) == (alice, "json", ExportStatus.QUEUED)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alice_client.post(reverse("portability:export"), {"format": "json"})  # double click
    assert ExportJob.objects.count() == 1 and not callbacks

    page = alice_client.get(reverse("portability:export")).content.decode()
    status_url = reverse("portability:export_status", args=[job.pk])
    assert f'hx-get="{status_url}"' in page and 'hx-trigger="every 2s"' in page

    assert export_tasks.build_export.apply(args=[str(job.pk)]).get() == ExportStatus.READY
    job.refresh_from_db()
    path = export_root / str(alice.pk) / f"{job.pk}.json"
    assert job.status == ExportStatus.READY
    assert path.exists() and job.size == path.stat().st_size
    assert job.path == f"{alice.pk}/{job.pk}.json"
    hours = (job.expires_at - job.finished_at) / timedelta(hours=1)
    assert hours == pytest.approx(24)
    assert json.loads(path.read_text())["contacts"][0]["name"] == "Person 0"

    fragment = alice_client.get(status_url).content.decode()
    assert "hx-trigger" not in fragment  # ready: the polling stops
    download_url = reverse("portability:export_download", args=[job.pk])
    assert download_url in fragment

    response = alice_client.get(download_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="referral-crm-archive-')
    assert b"".join(response.streaming_content) == path.read_bytes()


def test_a_job_is_built_once_even_if_the_task_runs_twice(alice):
    job = ExportJob.objects.create(owner=alice, format="vcard")
    assert export_tasks.build(job.pk) == ExportStatus.READY
    first = ExportJob.objects.get(pk=job.pk).finished_at
    assert export_tasks.build(job.pk) == ExportStatus.READY
    assert ExportJob.objects.get(pk=job.pk).finished_at == first


def test_a_failed_build_is_marked_failed_and_leaves_no_file(alice, monkeypatch, export_root):
    def broken(fmt, user):
        yield "partial"
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export_tasks, "chunks", broken)
    job = ExportJob.objects.create(owner=alice, format="csv")
    assert export_tasks.build(job.pk) == ExportStatus.FAILED
    job.refresh_from_db()
    assert "could not be built" in job.error
    assert not list(export_root.rglob("*"))[1:]  # only the owner's empty folder, if any


def ready_job(owner, export_root, **extra) -> ExportJob:
    job = ExportJob.objects.create(owner=owner, format="csv")
    export_tasks.build(job.pk)
    job.refresh_from_db()
    for key, value in extra.items():
        setattr(job, key, value)
    job.save()
    return job


def test_other_users_get_404_for_status_and_download(alice, charlie_client, export_root):
    job = ready_job(alice, export_root)
    for name in ("export_status", "export_download"):
        response = charlie_client.get(reverse(f"portability:{name}", args=[job.pk]))
        assert response.status_code == 404, name
    page = charlie_client.get(reverse("portability:export")).content.decode()
    assert str(job.pk) not in page


def test_expired_link_is_gone_and_its_file_deleted(alice_client, alice, export_root):
    job = ready_job(alice, export_root, expires_at=timezone.now() - timedelta(minutes=1))
    path = export_root / job.path
    assert path.exists()
    response = alice_client.get(reverse("portability:export_download", args=[job.pk]))
    assert response.status_code == 410
    assert "This download link has expired" in response.content.decode()
    assert not path.exists()


def test_not_ready_job_does_not_download(alice_client, alice):
    job = ExportJob.objects.create(owner=alice, format="csv")
    response = alice_client.get(reverse("portability:export_download", args=[job.pk]))
    assert response.status_code == 302


def test_cleanup_deletes_expired_files_only(alice, export_root):
    old = ready_job(alice, export_root, expires_at=timezone.now() - timedelta(hours=1))
    fresh = ready_job(alice, export_root)
    old_path, fresh_path = export_root / old.path, export_root / fresh.path
    assert export_tasks.delete_expired_exports.apply().get() == 1
    assert not old_path.exists() and fresh_path.exists()
    old.refresh_from_db()
    assert old.path == ""


def test_cleanup_fails_jobs_stuck_for_an_hour(alice):
    stuck = ExportJob.objects.create(
        owner=alice, format="json", status="running", created_at=timezone.now() - timedelta(hours=2)
    )
    recent = ExportJob.objects.create(owner=alice, format="json", status="running")
    export_tasks.delete_expired()
    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert (stuck.status, recent.status) == (ExportStatus.FAILED, ExportStatus.RUNNING)


def test_export_page_query_count_does_not_grow(alice_client, alice, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        alice_client.get(reverse("portability:export"))
    add_contacts(alice, 5)
    ExportJob.objects.bulk_create(ExportJob(owner=alice, format="json") for _ in range(15))
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = alice_client.get(reverse("portability:export"))
    assert response.content.decode().count('hx-trigger="every 2s"') == 10


# --- export_data ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "vcard", "csv"])
def test_export_data_command_writes_the_file(alice, charlie_data, tmp_path, fmt):
    add_contacts(alice, 2)
    Referral.objects.filter(owner=alice).update(value=Decimal("10.00"))
    out = tmp_path / f"out.{fmt}"
    call_command("export_data", user="ALICE@example.com", format=fmt, output=str(out))
    text = out.read_text(encoding="utf-8")
    assert "Person 1" in text
    assert MARKER not in text
    if fmt == "json":
        assert len(json.loads(text)["contacts"]) == 2
    elif fmt == "vcard":
        assert len(list(vobject.readComponents(text))) == 2


def test_export_data_to_stdout(alice, capsys):
    Contact.objects.create(owner=alice, name="Stdout Person")
    call_command("export_data", user="alice@example.com", format="vcard", output="-")
    assert "FN:Stdout Person" in capsys.readouterr().out


def test_export_data_unknown_user(db, tmp_path):
    with pytest.raises(CommandError, match="No user"):
        call_command("export_data", user="nobody@example.com", format="json", output="-")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_builds_an_export_from_redis(export_root):
    owner = make_user("worker-export@example.com")
    Contact.objects.create(owner=owner, name="Built by the worker")
    job = ExportJob.objects.create(owner=owner, format="vcard")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        export_tasks.build_export.delay(str(job.pk))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in (ExportStatus.READY, ExportStatus.FAILED):
                break
            time.sleep(0.1)
    assert job.status == ExportStatus.READY
    assert "FN:Built by the worker" in (export_root / job.path).read_text()
