"""Taking a network out: vCard 4.0, CSV and the complete JSON archive, streamed.

Each exporter is a generator of ``str`` chunks (about ``CHUNK_CHARS`` each), so a view
streams it (``StreamingHttpResponse``), a Celery task writes it to a file and
``manage.py export_data`` prints it, all without holding the account in memory. Rows are
read with ``.iterator(chunk_size=BATCH)`` and their related rows prefetched per batch: the
query count is a constant per batch of ``BATCH`` rows, whatever the size of the account.

The complete archive (``archive_chunks``) holds everything the user owns, referring
between objects by their original ids (``portability.archive.restore`` reads it back):

- ``user``: the profile (name, business, profession, time zone, currency, phone region)
  and the user's own GAINS; ``settings``: the digest preference (on/off, hour, weekdays);
- ``tags``; ``contacts`` with their GAINS facts (and the meeting each came from), tags and
  occasions; ``meetings`` with their attendees; ``followups``;
- ``referrals`` with their status history; for a group slip, the user's own ledger row
  plus ``group_slip`` (the group's name, the other member's name, who gave it and the
  slip's shared fields); ``introductions``; ``spends``; ``merges`` (contacts merged into
  a survivor); ``not_duplicates`` (pairs the user said are different people);
- ``groups``: the user's memberships (group, role, seat, status, what of their GAINS the
  group sees, monthly outside-referral counts), for the record only: a file cannot make
  anyone a member of a group again.

Deliberately left out: the password, two-factor secrets and recovery codes, sessions,
e-mail addresses of the login, the private calendar-feed token and the digest's schedule
and send log (security and operational state, recreated by the new account); the link
of a contact to a fellow member's account; group data that belongs to the group rather
than to the user (other members' slips, attendance, visitors, invitations, the group's
one-to-one log, the slip's audit trail); import batches (the uploaded files) and export
jobs; ``updated_at`` stamps (they record the last save, which a restore is).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

import vobject
from django.db.models import Prefetch
from django.utils import timezone

from contacts.models import (
    Contact,
    GainsFact,
    GainsKind,
    Meeting,
    Occasion,
    OccasionKind,
    Tag,
)
from followups.models import DigestPreference, FollowUp
from groups.models import Membership
from referrals.models import Direction, Introduction, Referral, Spend, StatusChange

from .models import DuplicateDismissal, MergeRecord

ARCHIVE_FORMAT = "referral-crm-archive"
ARCHIVE_VERSION = 1
BATCH = 500  # rows read (and related rows prefetched) per round of queries
CHUNK_CHARS = 64 * 1024  # size of the str chunks the generators yield

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "vcard": "text/vcard; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
EXTENSIONS = {"json": "json", "vcard": "vcf", "csv": "csv"}
FILE_STEMS = {
    "json": "referral-crm-archive",
    "vcard": "referral-crm-contacts",
    "csv": "referral-crm-contacts",
}


def filename(fmt: str, today: date | None = None) -> str:
    """``referral-crm-contacts-2026-11-23.vcf`` and so on."""
    today = today or timezone.localdate()
    return f"{FILE_STEMS[fmt]}-{today:%Y-%m-%d}.{EXTENSIONS[fmt]}"


def chunks(fmt: str, user) -> Iterator[str]:
    """The generator of format ``fmt`` (an ``ExportFormat`` value) for ``user``."""
    return {"json": archive_chunks, "vcard": vcard_chunks, "csv": csv_chunks}[fmt](user)


def _buffered(pieces: Iterable[str], size: int = CHUNK_CHARS) -> Iterator[str]:
    """Join many small strings into chunks of about ``size`` characters."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def _contacts(user):
    """The user's contacts with tags, GAINS facts and occasions, prefetched per batch."""
    return (
        Contact.objects.for_user(user)
        .order_by("pk")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
            Prefetch("gains_facts", queryset=GainsFact.objects.order_by("pk")),
            Prefetch("occasions", queryset=Occasion.objects.order_by("pk")),
        )
        .iterator(chunk_size=BATCH)
    )


# --- vCard 4.0 ----------------------------------------------------------------------
# vobject 0.9.9 has no vCard 4.0 behaviour, but its vCard 3.0 serialiser writes what 4.0
# needs for the properties below (escaping of , ; \ and newlines in text, structured N
# and ADR, line folding, CRLF): VERSION:4.0 is set by hand and TEL carries VALUE=uri.


def _vcard_date(year: int | None, month: int, day: int) -> str:
    """RFC 6350 date: ``19800304``, or ``--0304`` when the year is not known."""
    return f"{year:04d}{month:02d}{day:02d}" if year else f"--{month:02d}{day:02d}"


def _tel_uri(phone: str) -> str:
    cleaned = "".join(ch for ch in phone if ch.isdigit() or ch in "+-")
    return f"tel:{cleaned or phone}"


def _split_name(name: str) -> tuple[str, str]:
    """(family, given) from a full name: the last word is taken as the family name."""
    parts = name.split()
    if len(parts) < 2:
        return "", name
    return parts[-1], " ".join(parts[:-1])


def vcard(contact: Contact) -> str:
    """One contact as a vCard 4.0 (CRLF line ends, folded at 75 octets)."""
    card = vobject.vCard()
    card.add("version").value = "4.0"
    card.add("fn").value = contact.name
    family, given = _split_name(contact.name)
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
    if contact.company:
        card.add("org").value = [contact.company]
    if contact.profession:
        card.add("title").value = contact.profession
    for email in contact.emails or []:
        card.add("email").value = email
    for phone in contact.phones or []:
        tel = card.add("tel")
        tel.value = _tel_uri(phone)
        tel.params["VALUE"] = ["uri"]
    if contact.website:
        card.add("url").value = contact.website
    if contact.address or contact.city:
        card.add("adr").value = vobject.vcard.Address(street=contact.address, city=contact.city)
    if contact.notes:
        card.add("note").value = contact.notes
    tags = [tag.name for tag in contact.tags.all()]
    if tags:
        card.add("categories").value = tags
    for occasion in contact.occasions.all():
        when = _vcard_date(occasion.year, occasion.month, occasion.day)
        if occasion.kind == OccasionKind.BIRTHDAY:
            card.add("bday").value = when
        else:
            # RFC 6350's ANNIVERSARY is a marriage date (one per card): a work anniversary
            # or a founding date is not one, so they go in an extension property instead.
            prop = card.add("x-referralcrm-occasion")
            prop.value = when
            prop.params["TYPE"] = [occasion.kind]
            if occasion.label:
                prop.params["LABEL"] = [occasion.label.replace('"', "'")]
    return card.serialize()


def vcard_chunks(user) -> Iterator[str]:
    """Every contact of ``user`` (archived ones too) as one vCard 4.0 file."""
    return _buffered(vcard(contact) for contact in _contacts(user))


# --- CSV --------------------------------------------------------------------------

CSV_GAINS = [
    (GainsKind.GOAL, "Goals"),
    (GainsKind.ACCOMPLISHMENT, "Accomplishments"),
    (GainsKind.INTEREST, "Interests"),
    (GainsKind.NETWORK, "Networks"),
    (GainsKind.SKILL, "Skills"),
]
CSV_HEADER = [
    "Name",
    "Company",
    "Profession",
    "E-mails",
    "Phones",
    "Website",
    "Address",
    "City",
    "Stage",
    "Keep in touch every (days)",
    "Tags",
    "Birthday",
    "How we met",
    "Notes",
    *(label for _, label in CSV_GAINS),
    "Archived",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MULTI_SEPARATOR = " | "


def safe_cell(value) -> str:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading '."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _birthday(contact: Contact) -> str:
    for occasion in contact.occasions.all():
        if occasion.kind == OccasionKind.BIRTHDAY:
            if occasion.year:
                return f"{occasion.year:04d}-{occasion.month:02d}-{occasion.day:02d}"
            return f"--{occasion.month:02d}-{occasion.day:02d}"
    return ""


def csv_row(contact: Contact) -> list[str]:
    facts: dict[str, list[str]] = {kind: [] for kind, _ in CSV_GAINS}
    for fact in contact.gains_facts.all():
        facts.setdefault(fact.kind, []).append(fact.text)
    row = [
        contact.name,
        contact.company,
        contact.profession,
        MULTI_SEPARATOR.join(contact.emails or []),
        MULTI_SEPARATOR.join(contact.phones or []),
        contact.website,
        contact.address,
        contact.city,
        contact.get_stage_display(),
        contact.cadence_days or "",
        MULTI_SEPARATOR.join(tag.name for tag in contact.tags.all()),
        _birthday(contact),
        contact.met_how,
        contact.notes,
        *(MULTI_SEPARATOR.join(facts[kind]) for kind, _ in CSV_GAINS),
        "yes" if contact.is_archived else "",
    ]
    return [safe_cell(cell) for cell in row]


def csv_chunks(user) -> Iterator[str]:
    """One row per contact, UTF-8 with a byte-order mark so Excel reads the accents."""

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        yield "\ufeff"
        writer.writerow(CSV_HEADER)
        for contact in _contacts(user):
            writer.writerow(csv_row(contact))
            if out.tell() >= CHUNK_CHARS:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return _buffered(rows())


# --- Complete archive ---------------------------------------------------------------


def _default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(value) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False, sort_keys=False)


def user_data(user) -> dict:
    return {
        "email": user.email,
        "display_name": user.display_name,
        "business_name": user.business_name,
        "profession": user.profession,
        "time_zone": user.time_zone,
        "default_currency": user.default_currency,
        "phone_region": user.phone_region,
        "goals": user.goals,
        "accomplishments": user.accomplishments,
        "interests": user.interests,
        "networks": user.networks,
        "skills": user.skills,
        "date_joined": user.date_joined,
    }


def settings_data(user) -> dict:
    pref = DigestPreference.objects.filter(user=user).first()
    digest = None
    if pref is not None:
        digest = {"enabled": pref.enabled, "hour": pref.hour, "weekdays": pref.weekdays}
    return {"digest": digest}


def contact_data(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "name": contact.name,
        "company": contact.company,
        "profession": contact.profession,
        "emails": contact.emails or [],
        "phones": contact.phones or [],
        "website": contact.website,
        "address": contact.address,
        "city": contact.city,
        "met_how": contact.met_how,
        "notes": contact.notes,
        "tags": [tag.pk for tag in contact.tags.all()],
        "stage": contact.stage,
        "cadence_days": contact.cadence_days,
        "is_expert": contact.is_expert,
        "is_passionate": contact.is_passionate,
        "honours_referrals": contact.honours_referrals,
        "word_of_mouth": contact.word_of_mouth,
        "is_archived": contact.is_archived,
        "last_touched_at": contact.last_touched_at,
        "created_at": contact.created_at,
        "gains_facts": [
            {
                "kind": fact.kind,
                "text": fact.text,
                "learned_on": fact.learned_on,
                "meeting": fact.meeting_id,
                "created_at": fact.created_at,
            }
            for fact in contact.gains_facts.all()
        ],
        "occasions": [
            {
                "kind": occasion.kind,
                "label": occasion.label,
                "year": occasion.year,
                "month": occasion.month,
                "day": occasion.day,
                "created_at": occasion.created_at,
            }
            for occasion in contact.occasions.all()
        ],
    }


def _meetings(user) -> Iterator[dict]:
    rows = (
        Meeting.objects.for_user(user)
        .order_by("pk")
        .prefetch_related(Prefetch("attendees", queryset=Contact.objects.only("pk")))
        .iterator(chunk_size=BATCH)
    )
    for meeting in rows:
        yield {
            "id": meeting.pk,
            "occurred_at": meeting.occurred_at,
            "kind": meeting.kind,
            "place": meeting.place,
            "notes": meeting.notes,
            "attendees": sorted(contact.pk for contact in meeting.attendees.all()),
            "created_at": meeting.created_at,
        }


def _followups(user) -> Iterator[dict]:
    for f in FollowUp.objects.for_user(user).order_by("pk").iterator(chunk_size=BATCH):
        yield {
            "id": f.pk,
            "contact": f.contact_id,
            "meeting": f.meeting_id,
            "title": f.title,
            "due_on": f.due_on,
            "status": f.status,
            "completed_at": f.completed_at,
            "created_at": f.created_at,
        }


def _slip_data(referral: Referral) -> dict | None:
    slip = referral.slip
    if slip is None:
        return None
    gave = referral.direction == Direction.GIVEN
    other = slip.receiver if gave else slip.giver
    return {
        "group": slip.group.name,
        "other_member": other.name,
        "you": "giver" if gave else "receiver",
        "prospect_name": slip.prospect_name,
        "prospect_reach": slip.prospect_reach,
        "need": slip.need,
        "referred_on": slip.referred_on,
        "status": slip.status,
        "value": slip.value,
        "currency": slip.currency,
        "closed_on": slip.closed_on,
    }


def _referrals(user) -> Iterator[dict]:
    rows = (
        Referral.objects.for_user(user)
        .order_by("pk")
        .select_related("slip__group", "slip__giver__user", "slip__receiver__user")
        .prefetch_related(Prefetch("history", queryset=StatusChange.objects.order_by("pk")))
        .iterator(chunk_size=BATCH)
    )
    for r in rows:
        yield {
            "id": r.pk,
            "direction": r.direction,
            "partner": r.partner_id,
            "partner_name": r.partner_name,
            "prospect_name": r.prospect_name,
            "prospect_contact": r.prospect_contact_id,
            "prospect_reach": r.prospect_reach,
            "need": r.need,
            "referred_on": r.referred_on,
            "temperature": r.temperature,
            "status": r.status,
            "value": r.value,
            "currency": r.currency,
            "closed_on": r.closed_on,
            "thanks_sent_on": r.thanks_sent_on,
            "thanks_received_on": r.thanks_received_on,
            "notes": r.notes,
            "created_at": r.created_at,
            "history": [
                {
                    "status": h.status,
                    "changed_on": h.changed_on,
                    "note": h.note,
                    "created_at": h.created_at,
                }
                for h in r.history.all()
            ],
            "group_slip": _slip_data(r),
        }


def _introductions(user) -> Iterator[dict]:
    for i in Introduction.objects.for_user(user).order_by("pk").iterator(chunk_size=BATCH):
        yield {
            "id": i.pk,
            "contact_a": i.contact_a_id,
            "contact_b": i.contact_b_id,
            "reason_a": i.reason_a,
            "reason_b": i.reason_b,
            "introduced_on": i.introduced_on,
            "method": i.method,
            "outcome": i.outcome,
            "notes": i.notes,
            "created_at": i.created_at,
        }


def _spends(user) -> Iterator[dict]:
    for s in Spend.objects.for_user(user).order_by("pk").iterator(chunk_size=BATCH):
        yield {
            "id": s.pk,
            "contact": s.contact_id,
            "spent_on": s.spent_on,
            "amount": s.amount,
            "currency": s.currency,
            "description": s.description,
            "imported": s.imported,
            "created_at": s.created_at,
        }


def _merges(user) -> Iterator[dict]:
    for m in MergeRecord.objects.for_user(user).order_by("pk").iterator(chunk_size=BATCH):
        yield {
            "survivor": m.survivor_id,
            "merged_name": m.merged_name,
            "moved": m.moved,
            "fields_taken": m.fields_taken,
            "merged_at": m.merged_at,
        }


def _not_duplicates(user) -> Iterator[dict]:
    rows = DuplicateDismissal.objects.for_user(user).order_by("pk")
    for d in rows.iterator(chunk_size=BATCH):
        yield {"contacts": [d.contact_low_id, d.contact_high_id], "created_at": d.created_at}


def _groups(user) -> Iterator[dict]:
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("group")
        .prefetch_related("outside_reports")
        .order_by("pk")
    )
    for m in memberships:
        yield {
            "group": m.group.name,
            "role": m.role,
            "seat": m.seat,
            "status": m.status,
            "joined_on": m.joined_on,
            "left_on": m.left_on,
            "shared_gains": m.shared_gains,
            "outside_reports": [
                {"month": o.month, "count": o.count}
                for o in sorted(m.outside_reports.all(), key=lambda o: o.month)
            ],
        }


def _section(name: str, items: Iterable, first: bool = False) -> Iterator[str]:
    """``"name": [item, item, ...]`` written one item at a time."""
    yield ("" if first else ",\n") + f"{_dumps(name)}: ["
    for n, item in enumerate(items):
        yield ("\n  " if n == 0 else ",\n  ") + _dumps(item)
    yield "\n]"


def archive_pieces(user, now: datetime | None = None) -> Iterator[str]:
    now = now or timezone.now()
    yield "{\n"
    yield f'"format": {_dumps(ARCHIVE_FORMAT)},\n'
    yield f'"version": {ARCHIVE_VERSION},\n'
    yield f'"exported_at": {_dumps(now)},\n'
    yield f'"user": {_dumps(user_data(user))},\n'
    yield f'"settings": {_dumps(settings_data(user))},\n'
    tags = Tag.objects.for_user(user).order_by("pk").values("id", "name")
    yield from _section("tags", tags.iterator(chunk_size=BATCH), first=True)
    yield from _section("contacts", (contact_data(c) for c in _contacts(user)))
    yield from _section("meetings", _meetings(user))
    yield from _section("followups", _followups(user))
    yield from _section("referrals", _referrals(user))
    yield from _section("introductions", _introductions(user))
    yield from _section("spends", _spends(user))
    yield from _section("merges", _merges(user))
    yield from _section("not_duplicates", _not_duplicates(user))
    yield from _section("groups", _groups(user))
    yield "\n}\n"


def archive_chunks(user) -> Iterator[str]:
    """The complete archive of ``user``'s data as JSON (see the module docstring)."""
    return _buffered(archive_pieces(user))
