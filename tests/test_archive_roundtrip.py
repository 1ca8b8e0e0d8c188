"""Complete archive: export a rich account, restore it into an empty one, export again."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from contacts.meetings import FactInput, log_meeting
from contacts.models import Contact, GainsFact, Meeting, Occasion, Tag
from followups.models import DigestPreference, FollowUp
from groups import slips
from portability import archive
from portability.exports import archive_chunks
from portability.models import DuplicateDismissal, MergeRecord
from portability.records import FileRejected
from referrals.models import Direction, Introduction, Referral, Spend, StatusChange
from tests.conftest import make_user
from tests.groups_fixtures import build_group


def export_json(user) -> dict:
    return json.loads("".join(archive_chunks(user)))


def build_rich_account(alice, bob) -> dict:
    """Something of everything alice can own, with texts that need escaping."""
    alice.goals = 'Grow to 40 clients, "quoted" & <tagged>'
    alice.skills = "Retirement planning\nEstate planning"
    alice.business_name = "Owner Planning Ltd"
    alice.phone_region = "GB"
    alice.default_currency = "GBP"
    alice.save()
    pref = DigestPreference.objects.get(user=alice)
    pref.hour, pref.weekdays, pref.enabled = 9, [0, 2], False
    pref.save()

    golf = Tag.objects.create(owner=alice, name="Golf")
    chamber = Tag.objects.create(owner=alice, name="Chamber")
    Tag.objects.create(owner=alice, name="Unused tag")
    now = timezone.now()
    susan = Contact.objects.create(
        owner=alice,
        name="Susan Ødegaard",
        company="Ødegaard, Lund & Co",
        profession="Estate lawyer",
        emails=["susan@example.com", "s.o@example.org"],
        phones=["+447700900123"],
        website="https://example.com/susan",
        address="1 Main St\nFlat 2",
        city="Leeds",
        met_how="Chamber breakfast; sat next to each other",
        notes="Line one\nline two, with comma; and semicolon",
        stage="connection",
        cadence_days=14,
        is_expert="yes",
        honours_referrals="no",
        word_of_mouth="Bob says she is great",
        created_at=now - timedelta(days=300),
    )
    susan.tags.set([golf, chamber])
    tom = Contact.objects.create(owner=alice, name="Tom Baker", cadence_days=None)
    tom.tags.set([golf])
    vet = Contact.objects.create(owner=alice, name="Vera Vet", profession="Vet", is_archived=True)
    Occasion.objects.create(owner=alice, contact=susan, kind="birthday", month=3, day=4)
    Occasion.objects.create(
        owner=alice, contact=susan, kind="work_anniversary", year=2015, month=9, day=1
    )
    Occasion.objects.create(
        owner=alice, contact=tom, kind="other", label="Wedding day", month=6, day=21
    )
    GainsFact.objects.create(
        owner=alice,
        contact=susan,
        kind="skill",
        text="Wills and trusts",
        learned_on=date(2025, 1, 2),
    )
    meeting = log_meeting(
        owner=alice,
        occurred_at=now - timedelta(days=3),
        kind="coffee",
        attendees=[susan, tom],
        place="Café Nero",
        notes="Talked about golf",
        facts=[FactInput("goal", "Open a second office"), FactInput("interest", "Golf", tom)],
    )
    log_meeting(owner=alice, occurred_at=now - timedelta(days=40), kind="event", attendees=[tom])
    done = FollowUp.objects.create(
        owner=alice, contact=susan, meeting=meeting, title="Send thank-you", due_on=date.today()
    )
    done.mark_done()
    FollowUp.objects.create(
        owner=alice, contact=tom, title="Call about golf day", due_on=date.today() + timedelta(3)
    )
    given = Referral.objects.create(
        owner=alice,
        direction=Direction.GIVEN,
        partner=susan,
        prospect_name="Pat Prospect",
        prospect_contact=tom,
        need="A will",
        notes="Private: Pat is in a hurry",
    )
    StatusChange.objects.create(referral=given, status="passed")
    given.move_to("contacted", note="Susan called Pat")
    received = Referral.objects.create(
        owner=alice,
        direction=Direction.RECEIVED,
        partner=tom,
        prospect_name="Quentin Client",
        currency="GBP",
    )
    received.move_to("won", value=Decimal("2500.50"), on=date(2025, 5, 1))
    received.mark_thanks_sent(date(2025, 5, 2))
    Introduction.objects.create(
        owner=alice,
        contact_a=susan,
        contact_b=tom,
        reason_a="Estate work for his clients",
        outcome="met",
    )
    Spend.objects.create(
        owner=alice, contact=vet, amount=Decimal("85.20"), currency="GBP", description="Dog"
    )
    MergeRecord.objects.create(
        owner=alice, survivor=susan, merged_name="S. Odegaard", moved={"meetings": 1}
    )
    low, high = sorted([susan.pk, vet.pk])
    DuplicateDismissal.objects.create(owner=alice, contact_low_id=low, contact_high_id=high)

    chapter = build_group("Roundtrip Chapter", members=(alice, bob))
    slip = slips.give(
        giver=chapter.m["alice"],
        receiver=chapter.m["bob"],
        by=alice,
        prospect_name="Slip Prospect",
        need="Needs a plumber",
        note="My own note on the slip",
    )
    slips.advance(slip, bob)
    return {"susan": susan, "tom": tom, "slip": slip}


ID_SECTIONS = ["tags", "contacts", "meetings", "followups", "referrals", "introductions", "spends"]


def normalise(data: dict) -> dict:
    """Ids become positions in their section; what differs by design is dropped."""
    data = json.loads(json.dumps(data))
    index = {
        section: {row["id"]: n for n, row in enumerate(data[section])} for section in ID_SECTIONS
    }
    tag, contact, meeting = index["tags"], index["contacts"], index["meetings"]

    def ref(mapping, value):
        return None if value is None else mapping[value]

    for section in ID_SECTIONS:
        for row in data[section]:
            row["id"] = index[section][row["id"]]
    for c in data["contacts"]:
        c["tags"] = [tag[t] for t in c["tags"]]
        for fact in c["gains_facts"]:
            fact["meeting"] = ref(meeting, fact["meeting"])
    for m in data["meetings"]:
        m["attendees"] = [contact[a] for a in m["attendees"]]
    for f in data["followups"]:
        f["contact"], f["meeting"] = contact[f["contact"]], ref(meeting, f["meeting"])
    for r in data["referrals"]:
        r["partner"] = contact[r["partner"]]
        r["prospect_contact"] = ref(contact, r["prospect_contact"])
        r.pop("group_slip")  # restored as a plain ledger referral, by design
    for i in data["introductions"]:
        i["contact_a"], i["contact_b"] = contact[i["contact_a"]], contact[i["contact_b"]]
    for s in data["spends"]:
        s["contact"] = contact[s["contact"]]
    for m in data["merges"]:
        m["survivor"] = contact[m["survivor"]]
    for d in data["not_duplicates"]:
        d["contacts"] = [contact[c] for c in d["contacts"]]
    for key in ("exported_at", "groups"):
        data.pop(key)
    for key in ("email", "date_joined"):
        data["user"].pop(key)
    return data


@pytest.fixture
def rich(alice, bob):
    return build_rich_account(alice, bob)


def test_archive_restores_into_an_empty_account_and_exports_the_same(alice, rich):
    first = export_json(alice)
    dora = make_user("dora@example.com")

    summary = archive.restore(dora, json.dumps(first).encode())

    again = export_json(dora)
    assert normalise(again) == normalise(first)
    assert summary["contacts"] == 4  # susan, tom, vera and bob (linked through the group)
    assert summary["meetings"] == 2
    assert summary["referrals"] == 3
    assert summary[archive.SLIPS_AS_LEDGER] == 1
    assert summary[archive.MEMBERSHIPS_SKIPPED] == 1


def test_archive_holds_everything_alice_owns(alice, rich):
    data = export_json(alice)
    assert data["format"] == "referral-crm-archive" and data["version"] == 1
    assert data["user"]["goals"].startswith("Grow to 40 clients")
    assert data["user"]["phone_region"] == "GB"
    assert data["settings"]["digest"] == {"enabled": False, "hour": 9, "weekdays": [0, 2]}
    assert [t["name"] for t in data["tags"]] == ["Golf", "Chamber", "Unused tag"]
    susan = next(c for c in data["contacts"] if c["name"] == "Susan Ødegaard")
    assert {f["kind"] for f in susan["gains_facts"]} == {"skill", "goal"}
    assert {o["kind"] for o in susan["occasions"]} == {"birthday", "work_anniversary"}
    assert len(data["meetings"]) == 2 and sorted(
        map(len, (m["attendees"] for m in data["meetings"]))
    ) == [1, 2]
    assert {f["title"] for f in data["followups"]} == {"Send thank-you", "Call about golf day"}
    won = next(r for r in data["referrals"] if r["status"] == "won")
    assert won["value"] == "2500.50" and won["closed_on"] == "2025-05-01"
    assert [h["status"] for h in won["history"]] == ["won"]
    slip = next(r for r in data["referrals"] if r["group_slip"])
    assert slip["notes"] == "My own note on the slip"
    assert slip["group_slip"]["group"] == "Roundtrip Chapter"
    assert slip["group_slip"]["other_member"] == "Bob Member"
    assert slip["group_slip"]["you"] == "giver"
    assert [h["status"] for h in slip["history"]] == ["passed", "contacted"]
    assert data["groups"][0]["group"] == "Roundtrip Chapter"
    assert len(data["introductions"]) == 1 and len(data["spends"]) == 1
    assert data["merges"][0]["merged_name"] == "S. Odegaard"
    assert len(data["not_duplicates"]) == 1
    text = "".join(archive_chunks(alice))
    assert "calendar_token" not in text and "password" not in text


def test_restored_group_slip_is_a_plain_referral_with_notes_and_history(alice, rich):
    dora = make_user("dora@example.com")
    archive.restore(dora, "".join(archive_chunks(alice)).encode())
    row = Referral.objects.for_user(dora).get(prospect_name="Slip Prospect")
    assert row.slip_id is None
    assert row.notes == "My own note on the slip"
    assert list(row.history.values_list("status", flat=True)) == ["passed", "contacted"]
    assert row.partner.owner == dora and row.partner.linked_user_id is None


def test_restore_recreates_rows_for_the_new_owner_only(alice, rich):
    before = {m: m.objects.filter(owner=alice).count() for m in (Contact, Meeting, Referral)}
    dora = make_user("dora@example.com")
    archive.restore(dora, "".join(archive_chunks(alice)).encode())
    assert {m: m.objects.filter(owner=alice).count() for m in before} == before
    for model in (Contact, Meeting, Referral, FollowUp, GainsFact, Occasion, Tag, Spend):
        assert model.objects.filter(owner=dora).exists(), model
    # Every reference points at dora's own rows.
    assert not Referral.objects.filter(owner=dora).exclude(partner__owner=dora).exists()
    assert not FollowUp.objects.filter(owner=dora).exclude(contact__owner=dora).exists()
    assert (
        not Meeting.attendees.through.objects.filter(meeting__owner=dora)
        .exclude(contact__owner=dora)
        .exists()
    )
    susan = Contact.objects.for_user(dora).get(name="Susan Ødegaard")
    assert susan.touch_due_at == susan.last_touched_at + timedelta(days=14)
    dora.refresh_from_db()
    assert dora.email == "dora@example.com"  # the login is not taken from the file
    assert dora.business_name == "Owner Planning Ltd"
    pref = DigestPreference.objects.get(user=dora)
    assert (pref.enabled, pref.hour, pref.weekdays, pref.next_digest_at) == (False, 9, [0, 2], None)


def test_restore_into_an_account_with_contacts_is_refused(alice, rich, charlie):
    Contact.objects.create(owner=charlie, name="Already here")
    data = "".join(archive_chunks(alice)).encode()
    with pytest.raises(FileRejected, match="empty account"):
        archive.restore(charlie, data)
    assert Contact.objects.for_user(charlie).count() == 1
    assert not Meeting.objects.for_user(charlie).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[1, 2]", "not a Referral CRM archive"),
        (b'{"format": "something-else", "version": 1}', "not a Referral CRM archive"),
        (b'{"format": "referral-crm-archive", "version": 2}', "version 2"),
        (b'{"format": "referral-crm-archive", "version": 1, "contacts": {}}', "damaged"),
    ],
)
def test_files_that_are_not_archives_are_rejected(charlie, data, message):
    with pytest.raises(FileRejected, match=message):
        archive.restore(charlie, data)


def test_a_damaged_archive_imports_nothing(alice, rich, charlie):
    data = export_json(alice)
    data["followups"][0]["contact"] = 999_999_999  # not in the file
    with pytest.raises(FileRejected, match="damaged"):
        archive.restore(charlie, json.dumps(data).encode())
    assert not Contact.objects.for_user(charlie).exists()
    assert not Tag.objects.for_user(charlie).exists()

    data = export_json(alice)
    data["contacts"][0]["stage"] = "best friend"
    with pytest.raises(FileRejected, match="damaged"):
        archive.restore(charlie, json.dumps(data).encode())
    assert not Contact.objects.for_user(charlie).exists()


def test_an_empty_account_exports_an_archive_that_restores(charlie):
    data = export_json(charlie)
    assert data["contacts"] == [] and data["meetings"] == []
    dora = make_user("dora@example.com")
    summary = archive.restore(dora, json.dumps(data).encode())
    assert summary["contacts"] == 0
