"""Reading a complete archive (``portability.exports.archive_chunks``) back into an account.

``restore(user, data)`` recreates every object of the archive for ``user``, with new ids
and every reference remapped, in one transaction: the account gets all of it or none.
It only restores into an account with no contacts and no meetings yet, so nothing is
duplicated or mixed up. Exporting the restored account again gives the same archive,
apart from ids, ``exported_at``, the login e-mail and the two things a file cannot
carry over:

- group slips come back as plain ledger referrals (with their notes and history): the
  user may not be in that group, and the other member's side is theirs, not the file's;
- group memberships (``groups``) are not restored: joining a group takes an invitation.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from contacts.models import (
    Contact,
    GainsFact,
    GainsKind,
    Meeting,
    MeetingKind,
    Occasion,
    OccasionKind,
    Stage,
    Tag,
    TriState,
)
from followups import digest
from followups.models import DigestPreference, FollowUp
from followups.models import Status as FollowUpStatus
from referrals.models import (
    Direction,
    Introduction,
    IntroMethod,
    IntroOutcome,
    Referral,
    Spend,
    StatusChange,
    Temperature,
)
from referrals.models import Status as ReferralStatus

from . import duplicates
from .exports import ARCHIVE_FORMAT, ARCHIVE_VERSION
from .models import DuplicateDismissal, MergeRecord
from .records import FileRejected

BULK = 1000
PROFILE_FIELDS = [
    "display_name",
    "business_name",
    "profession",
    "time_zone",
    "default_currency",
    "phone_region",
    "goals",
    "accomplishments",
    "interests",
    "networks",
    "skills",
]
# Keys of the summary restore() returns that say what could not come back as it was.
SLIPS_AS_LEDGER = "group slips restored as plain referrals (notes and history kept)"
MEMBERSHIPS_SKIPPED = "group memberships not restored (rejoin by invitation)"
SECTIONS = [
    "tags",
    "contacts",
    "meetings",
    "followups",
    "referrals",
    "introductions",
    "spends",
    "merges",
    "not_duplicates",
]


class _Damaged(Exception):
    """A value in the archive that can't be what the exporter wrote."""


def _choice(value, choices, what: str) -> str:
    if value not in choices.values:
        raise _Damaged(f"{what} “{str(value)[:40]}” is not one we know")
    return value


def _text(value, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise _Damaged("a text field holds something else")
    return value


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise _Damaged("a time without a time zone")
    return parsed


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise _Damaged("an amount that is not a number") from exc


def _ref(mapping: dict, value, what: str, *, optional: bool = False):
    if value is None and optional:
        return None
    try:
        return mapping[value]
    except (KeyError, TypeError) as exc:
        raise _Damaged(f"it refers to a {what} that is not in the file") from exc


def load(data: bytes) -> dict:
    """The archive as a dict, or ``FileRejected`` if it is not one we can read."""
    try:
        archive = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FileRejected(
            "This file is not a Referral CRM archive (it is not valid JSON). "
            "Choose the .json file made by “Export → Complete archive”."
        ) from exc
    if not isinstance(archive, dict) or archive.get("format") != ARCHIVE_FORMAT:
        raise FileRejected(
            "This JSON file is not a Referral CRM archive. "
            "Choose the .json file made by “Export → Complete archive”."
        )
    if archive.get("version") != ARCHIVE_VERSION:
        raise FileRejected(
            f"This archive is version {archive.get('version')!r}; this site reads version "
            f"{ARCHIVE_VERSION}. Export it again from an up-to-date Referral CRM."
        )
    for section in SECTIONS:
        if not isinstance(archive.get(section, []), list):
            raise FileRejected(f"This archive is damaged: “{section}” is not a list.")
    return archive


def restore(user, data: bytes) -> dict[str, int]:
    """Recreate the archive in ``user``'s empty account; returns how many of each came in.

    Raises ``FileRejected`` (and changes nothing) if the account already has contacts or
    meetings, if the file is not a readable archive, or if anything in it is damaged.
    """
    archive = load(data)
    if Contact.objects.for_user(user).exists() or Meeting.objects.for_user(user).exists():
        raise FileRejected(
            "An archive can only be restored into an empty account, and yours already has "
            "contacts. To add contacts to it, import a vCard or CSV file instead."
        )
    try:
        with transaction.atomic():
            return _restore(user, archive)
    except _Damaged as exc:
        raise FileRejected(f"This archive is damaged: {exc}. Nothing was imported.") from exc
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        ValidationError,
        DatabaseError,
    ) as exc:
        raise FileRejected(
            "This archive is damaged or was edited by hand, and could not be read. "
            "Nothing was imported."
        ) from exc


def _restore(user, archive: dict) -> dict[str, int]:
    summary: dict[str, int] = {}
    _restore_profile(user, archive.get("user") or {}, archive.get("settings") or {})

    tags = _restore_tags(user, archive.get("tags", []))
    summary["tags"] = len(tags)
    contacts = _restore_contacts(user, archive.get("contacts", []), tags)
    summary["contacts"] = len(contacts)
    duplicates.refresh(user.pk, contacts.values(), user.phone_region)  # bulk: no signals
    meetings = _restore_meetings(user, archive.get("meetings", []), contacts)
    summary["meetings"] = len(meetings)
    summary["GAINS facts"], summary["occasions"] = _restore_contact_details(
        user, archive.get("contacts", []), contacts, meetings
    )

    followups = [
        FollowUp(
            owner=user,
            contact_id=_ref(contacts, f["contact"], "contact"),
            meeting_id=_ref(meetings, f.get("meeting"), "meeting", optional=True),
            title=_text(f["title"]),
            due_on=_date(f["due_on"]),
            status=_choice(f.get("status", "open"), FollowUpStatus, "A follow-up status"),
            completed_at=_datetime(f.get("completed_at")),
            created_at=_datetime(f["created_at"]),
        )
        for f in archive.get("followups", [])
    ]
    FollowUp.objects.bulk_create(followups, batch_size=BULK)
    summary["follow-ups"] = len(followups)

    summary.update(_restore_referrals(user, archive.get("referrals", []), contacts))

    introductions = [
        Introduction(
            owner=user,
            contact_a_id=_ref(contacts, i["contact_a"], "contact"),
            contact_b_id=_ref(contacts, i["contact_b"], "contact"),
            reason_a=_text(i.get("reason_a")),
            reason_b=_text(i.get("reason_b")),
            introduced_on=_date(i["introduced_on"]),
            method=_choice(i.get("method", "email"), IntroMethod, "An introduction method"),
            outcome=_choice(i.get("outcome", "pending"), IntroOutcome, "An outcome"),
            notes=_text(i.get("notes")),
            created_at=_datetime(i["created_at"]),
        )
        for i in archive.get("introductions", [])
    ]
    Introduction.objects.bulk_create(introductions, batch_size=BULK)
    summary["introductions"] = len(introductions)

    spends = [
        Spend(
            owner=user,
            contact_id=_ref(contacts, s["contact"], "contact"),
            spent_on=_date(s["spent_on"]),
            amount=_decimal(s["amount"]),
            currency=_text(s.get("currency"), "USD"),
            description=_text(s.get("description")),
            imported=bool(s.get("imported")),
            created_at=_datetime(s["created_at"]),
        )
        for s in archive.get("spends", [])
    ]
    Spend.objects.bulk_create(spends, batch_size=BULK)
    summary["spends"] = len(spends)

    merges = [
        MergeRecord(
            owner=user,
            survivor_id=_ref(contacts, m["survivor"], "contact"),
            merged_name=_text(m["merged_name"]),
            moved=m.get("moved") or {},
            fields_taken=m.get("fields_taken") or [],
            merged_at=_datetime(m["merged_at"]),
        )
        for m in archive.get("merges", [])
    ]
    MergeRecord.objects.bulk_create(merges, batch_size=BULK)
    summary["merges"] = len(merges)
    dismissals = []
    for d in archive.get("not_duplicates", []):
        pair = sorted(_ref(contacts, c, "contact") for c in d["contacts"])
        if len(pair) != 2 or pair[0] == pair[1]:
            raise _Damaged("a pair of different people is not a pair")
        dismissals.append(
            DuplicateDismissal(
                owner=user,
                contact_low_id=pair[0],
                contact_high_id=pair[1],
                created_at=_datetime(d["created_at"]),
            )
        )
    DuplicateDismissal.objects.bulk_create(dismissals, batch_size=BULK)
    summary["pairs marked as different people"] = len(dismissals)
    summary[MEMBERSHIPS_SKIPPED] = len(archive.get("groups") or [])
    return summary


def _restore_profile(user, profile: dict, settings: dict) -> None:
    changed = []
    for field in PROFILE_FIELDS:
        if field in profile and profile[field] is not None:
            setattr(user, field, _text(profile[field]))
            changed.append(field)
    if changed:
        user.full_clean(exclude=[f.name for f in user._meta.fields if f.name not in changed])
        user.save(update_fields=changed)
    wanted = settings.get("digest")
    if wanted:
        pref, _ = DigestPreference.objects.get_or_create(user=user)
        pref.enabled = bool(wanted.get("enabled", True))
        hour = wanted.get("hour", pref.hour)
        weekdays = wanted.get("weekdays", pref.weekdays)
        if not isinstance(hour, int) or not 0 <= hour <= 23:
            raise _Damaged("the digest hour is not an hour of the day")
        if not isinstance(weekdays, list) or not all(
            isinstance(d, int) and 0 <= d <= 6 for d in weekdays
        ):
            raise _Damaged("the digest days are not days of the week")
        pref.hour, pref.weekdays = hour, sorted(set(weekdays))
        pref.save(update_fields=["enabled", "hour", "weekdays"])
        pref.user = user
        digest.schedule(pref)


def _restore_tags(user, rows: list) -> dict:
    """{archive tag id: new tag id}; a tag the account has already (by name) is reused."""
    by_name = {tag.name.lower(): tag for tag in Tag.objects.for_user(user)}
    new: list[Tag] = []
    wanted: list[tuple[object, str]] = []
    for row in rows:
        name = _text(row["name"]).strip()
        if not name:
            raise _Damaged("a tag has no name")
        if name.lower() not in by_name:
            by_name[name.lower()] = Tag(owner=user, name=name)
            new.append(by_name[name.lower()])
        wanted.append((row["id"], name.lower()))
    Tag.objects.bulk_create(new, batch_size=BULK)
    return {old_id: by_name[key].pk for old_id, key in wanted}


def _restore_contacts(user, rows: list, tags: dict) -> dict:
    """{archive contact id: new contact id}, with their tags."""
    mapping: dict = {}
    batch: list[tuple[dict, Contact]] = []

    def flush():
        Contact.objects.bulk_create([c for _, c in batch])
        links = [
            Contact.tags.through(contact_id=contact.pk, tag_id=_ref(tags, tag, "tag"))
            for row, contact in batch
            for tag in dict.fromkeys(row.get("tags") or [])
        ]
        Contact.tags.through.objects.bulk_create(links, batch_size=BULK)
        for row, contact in batch:
            mapping[row["id"]] = contact.pk
        batch.clear()

    for row in rows:
        emails, phones = row.get("emails") or [], row.get("phones") or []
        if not isinstance(emails, list) or not isinstance(phones, list):
            raise _Damaged("a contact's e-mails or phones are not a list")
        cadence = row.get("cadence_days")
        if cadence is not None and (not isinstance(cadence, int) or cadence < 1):
            raise _Damaged("a contact's cadence is not a number of days")
        contact = Contact(
            owner=user,
            name=_text(row["name"]),
            company=_text(row.get("company")),
            profession=_text(row.get("profession")),
            emails=[_text(e) for e in emails],
            phones=[_text(p) for p in phones],
            website=_text(row.get("website")),
            address=_text(row.get("address")),
            city=_text(row.get("city")),
            met_how=_text(row.get("met_how")),
            notes=_text(row.get("notes")),
            stage=_choice(row.get("stage", "contact"), Stage, "A relationship stage"),
            cadence_days=cadence,
            is_expert=_choice(row.get("is_expert", "unknown"), TriState, "An answer"),
            is_passionate=_choice(row.get("is_passionate", "unknown"), TriState, "An answer"),
            honours_referrals=_choice(
                row.get("honours_referrals", "unknown"), TriState, "An answer"
            ),
            word_of_mouth=_text(row.get("word_of_mouth")),
            is_archived=bool(row.get("is_archived")),
            last_touched_at=_datetime(row.get("last_touched_at")),
            created_at=_datetime(row["created_at"]),
        )
        contact.touch_due_at = contact.compute_touch_due_at()  # bulk_create skips save()
        batch.append((row, contact))
        if len(batch) >= BULK:
            flush()
    flush()
    if len(mapping) != len(rows):
        raise _Damaged("two contacts have the same id")
    return mapping


def _restore_meetings(user, rows: list, contacts: dict) -> dict:
    mapping: dict = {}
    Attendee = Meeting.attendees.through
    for start in range(0, len(rows), BULK):
        part = rows[start : start + BULK]
        meetings = [
            Meeting(
                owner=user,
                occurred_at=_datetime(row["occurred_at"]),
                kind=_choice(row.get("kind", "one_to_one"), MeetingKind, "A meeting kind"),
                place=_text(row.get("place")),
                notes=_text(row.get("notes")),
                created_at=_datetime(row["created_at"]),
            )
            for row in part
        ]
        Meeting.objects.bulk_create(meetings)
        Attendee.objects.bulk_create(
            [
                Attendee(meeting_id=meeting.pk, contact_id=_ref(contacts, c, "contact"))
                for row, meeting in zip(part, meetings, strict=True)
                for c in dict.fromkeys(row.get("attendees") or [])
            ],
            batch_size=BULK,
        )
        for row, meeting in zip(part, meetings, strict=True):
            mapping[row["id"]] = meeting.pk
    if len(mapping) != len(rows):
        raise _Damaged("two meetings have the same id")
    return mapping


def _restore_contact_details(user, rows: list, contacts: dict, meetings: dict) -> tuple[int, int]:
    facts: list[GainsFact] = []
    occasions: list[Occasion] = []
    n_facts = n_occasions = 0
    for row in rows:
        contact_id = contacts[row["id"]]
        for fact in row.get("gains_facts") or []:
            facts.append(
                GainsFact(
                    owner=user,
                    contact_id=contact_id,
                    kind=_choice(fact["kind"], GainsKind, "A GAINS kind"),
                    text=_text(fact["text"]),
                    learned_on=_date(fact["learned_on"]),
                    meeting_id=_ref(meetings, fact.get("meeting"), "meeting", optional=True),
                    created_at=_datetime(fact["created_at"]),
                )
            )
        for occasion in row.get("occasions") or []:
            occasions.append(
                Occasion(
                    owner=user,
                    contact_id=contact_id,
                    kind=_choice(occasion["kind"], OccasionKind, "An occasion"),
                    label=_text(occasion.get("label")),
                    year=occasion.get("year"),
                    month=occasion["month"],
                    day=occasion["day"],
                    created_at=_datetime(occasion["created_at"]),
                )
            )
        if len(facts) >= BULK:
            GainsFact.objects.bulk_create(facts)
            n_facts += len(facts)
            facts = []
        if len(occasions) >= BULK:
            Occasion.objects.bulk_create(occasions)
            n_occasions += len(occasions)
            occasions = []
    GainsFact.objects.bulk_create(facts)
    Occasion.objects.bulk_create(occasions)
    return n_facts + len(facts), n_occasions + len(occasions)


def _restore_referrals(user, rows: list, contacts: dict) -> dict[str, int]:
    slips = 0
    history: list[StatusChange] = []
    for start in range(0, len(rows), BULK):
        part = rows[start : start + BULK]
        referrals = []
        for row in part:
            if row.get("group_slip"):
                slips += 1
            referrals.append(
                Referral(
                    owner=user,
                    direction=_choice(row["direction"], Direction, "A direction"),
                    # null when the partner's contact was deleted: their name is kept
                    partner_id=_ref(contacts, row.get("partner"), "contact", optional=True),
                    partner_name=_text(row.get("partner_name"))[:120],
                    prospect_name=_text(row["prospect_name"]),
                    prospect_contact_id=_ref(
                        contacts, row.get("prospect_contact"), "contact", optional=True
                    ),
                    prospect_reach=_text(row.get("prospect_reach")),
                    need=_text(row.get("need")),
                    referred_on=_date(row["referred_on"]),
                    temperature=_choice(
                        row.get("temperature", "warm"), Temperature, "A temperature"
                    ),
                    status=_choice(row.get("status", "passed"), ReferralStatus, "A status"),
                    value=_decimal(row.get("value")),
                    currency=_text(row.get("currency"), "USD"),
                    closed_on=_date(row.get("closed_on")),
                    thanks_sent_on=_date(row.get("thanks_sent_on")),
                    thanks_received_on=_date(row.get("thanks_received_on")),
                    notes=_text(row.get("notes")),
                    created_at=_datetime(row["created_at"]),
                )
            )
        Referral.objects.bulk_create(referrals)
        for row, referral in zip(part, referrals, strict=True):
            history.extend(
                StatusChange(
                    referral_id=referral.pk,
                    status=_choice(h["status"], ReferralStatus, "A status"),
                    changed_on=_date(h["changed_on"]),
                    note=_text(h.get("note")),
                    created_at=_datetime(h["created_at"]),
                )
                for h in row.get("history") or []
            )
        if len(history) >= BULK:
            StatusChange.objects.bulk_create(history)
            history = []
    StatusChange.objects.bulk_create(history)
    return {"referrals": len(rows), SLIPS_AS_LEDGER: slips}
