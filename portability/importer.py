"""Importing contacts: match parsed records against the network, preview, then import at once.

The flow, shared by the pages, the Celery tasks and ``manage.py import_contacts``:

1. ``parsers.parse`` turns the file into ``Record``s (errors and warnings per row);
2. ``plan(owner, records)`` decides each row's outcome — *new*, *match* (an existing
   contact found by e-mail, then normalised phone, then name + company, with the
   field-by-field merge it would make), *unchanged* (a match with nothing new: re-importing
   a file creates nothing), *duplicate* (an earlier row of the same file) or *error* — in
   one query over the owner's contacts;
3. ``apply(owner, rows, ...)`` imports the chosen rows in one transaction.

``ImportBatch`` rows carry a batch through those steps; ``confirm()`` moves it from
preview to importing with a compare-and-set, so confirming twice imports once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from contacts.models import Contact, Occasion, OccasionKind, Tag, tags_named

from . import duplicates, parsers
from .merge import phone_key
from .models import ImportBatch, ImportFormat, ImportRow, ImportStatus
from .records import FileRejected, Record

logger = logging.getLogger(__name__)

NEW, MATCH, UNCHANGED, DUPLICATE, ERROR = "new", "match", "unchanged", "duplicate", "error"
OUTCOME_LABELS = {
    NEW: "New contact",
    MATCH: "Matches an existing contact",
    UNCHANGED: "Already in your contacts",
    DUPLICATE: "Duplicate inside the file",
    ERROR: "Error",
}
# Scalar fields an import may fill on an existing contact (only where it is empty there).
FILLABLE = [
    ("company", "Company"),
    ("profession", "Profession"),
    ("website", "Website"),
    ("address", "Address"),
    ("city", "City"),
    ("met_how", "How we met"),
]
PROGRESS_EVERY = 250


# --- Matching -----------------------------------------------------------------


def normalise_phone(raw: str, region: str) -> str:
    """The comparison key of a phone number, by the same rule as the duplicates page
    (``merge.phone_key``: E.164 where phonenumbers reads it, else the digits)."""
    key = phone_key(raw, region)
    return key[0] if key else raw.strip()


def _name_key(name: str, company: str) -> tuple[str, str]:
    return (" ".join(name.lower().split()), " ".join(company.lower().split()))


@dataclass
class Existing:
    pk: int
    name: str
    company: str
    profession: str
    website: str
    address: str
    city: str
    met_how: str
    notes: str
    emails: list[str]
    phones: list[str]


class Index:
    """The owner's contacts, keyed by e-mail, normalised phone and name + company.

    Built from one query; rows of the file being planned are added as they are seen so a
    later row that repeats an earlier one is reported as a duplicate inside the file.
    """

    FIELDS = ("pk", *(f for f, _ in FILLABLE), "name", "notes", "emails", "phones")

    def __init__(self, owner, region: str):
        self.region = region
        self.contacts: dict[int, Existing] = {}
        self.by_email: dict[str, int] = {}
        self.by_phone: dict[str, int] = {}
        self.by_name: dict[tuple[str, str], int] = {}
        for values in Contact.objects.for_user(owner).values(*self.FIELDS).iterator(2000):
            contact = Existing(**values)
            contact.emails = [e for e in (contact.emails or []) if isinstance(e, str)]
            contact.phones = [p for p in (contact.phones or []) if isinstance(p, str)]
            self.contacts[contact.pk] = contact
            self._add(self.by_email, [e.lower() for e in contact.emails], contact.pk)
            self._add(
                self.by_phone, [normalise_phone(p, region) for p in contact.phones], contact.pk
            )
            self._add(self.by_name, [_name_key(contact.name, contact.company)], contact.pk)

    @staticmethod
    def _add(index: dict, keys: Iterable, value) -> None:
        for key in keys:
            if key and key not in index:
                index[key] = value

    def find(self, record: Record, seen: dict) -> tuple[str, object, str]:
        """(kind, target, reason): kind "contact" (target a pk) or "row" (a position)."""
        for email in record.emails:
            if (hit := seen["email"].get(email)) is not None:
                return "row", hit, f"same e-mail {email}"
            if (hit := self.by_email.get(email)) is not None:
                return "contact", hit, f"same e-mail {email}"
        for phone in record.phones:
            key = normalise_phone(phone, self.region)
            if (hit := seen["phone"].get(key)) is not None:
                return "row", hit, f"same phone {phone}"
            if (hit := self.by_phone.get(key)) is not None:
                return "contact", hit, f"same phone {phone}"
        key = _name_key(record.name, record.company)
        if key[0]:
            shown = record.name + (f" at {record.company}" if record.company else "")
            if (hit := seen["name"].get(key)) is not None:
                return "row", hit, f"same name {shown}"
            if (hit := self.by_name.get(key)) is not None:
                return "contact", hit, f"same name {shown}"
        return "", None, ""

    def remember(self, record: Record, seen: dict) -> None:
        for email in record.emails:
            seen["email"].setdefault(email, record.position)
        for phone in record.phones:
            seen["phone"].setdefault(normalise_phone(phone, self.region), record.position)
        seen["name"].setdefault(_name_key(record.name, record.company), record.position)


def _changes(contact: Existing, record: Record, has_birthday: bool, region: str) -> list[dict]:
    """What merging ``record`` into ``contact`` would add, field by field."""
    changes = []
    for field, label in FILLABLE:
        incoming = getattr(record, field)
        current = getattr(contact, field) or ""
        if incoming and not current:
            changes.append({"field": field, "label": label, "current": "", "incoming": incoming})
        elif incoming and current.strip().lower() != incoming.strip().lower():
            changes.append(
                {
                    "field": field,
                    "label": label,
                    "current": current,
                    "incoming": incoming,
                    "kept": True,
                }
            )
    have_emails = {e.lower() for e in contact.emails}
    have_phones = {normalise_phone(p, region) for p in contact.phones}
    for field, label, new in (
        ("emails", "E-mails", [e for e in record.emails if e.lower() not in have_emails]),
        (
            "phones",
            "Phones",
            [p for p in record.phones if normalise_phone(p, region) not in have_phones],
        ),
    ):
        if new:
            changes.append(
                {
                    "field": field,
                    "label": label,
                    "current": ", ".join(getattr(contact, field)),
                    "incoming": ", ".join(new),
                }
            )
    if record.notes and record.notes.strip() not in (contact.notes or ""):
        changes.append(
            {"field": "notes", "label": "Notes", "current": contact.notes, "incoming": record.notes}
        )
    if record.tags:
        changes.append(
            {"field": "tags", "label": "Tags", "current": "", "incoming": ", ".join(record.tags)}
        )
    birthdays = [o for o in record.occasions if o.kind == OccasionKind.BIRTHDAY]
    if birthdays and not has_birthday:
        b = birthdays[0]
        shown = f"{b.year}-{b.month:02d}-{b.day:02d}" if b.year else f"--{b.month:02d}-{b.day:02d}"
        changes.append({"field": "birthday", "label": "Birthday", "current": "", "incoming": shown})
    return changes


def plan(owner, records: list[Record], *, region: str, progress: Callable | None = None) -> list:
    """Each record's outcome, as dicts (stored as ``ImportRow``s by ``prepare``)."""
    index = Index(owner, region)
    with_birthday = set(
        Occasion.objects.for_user(owner)
        .filter(kind=OccasionKind.BIRTHDAY)
        .values_list("contact_id", flat=True)
    )
    existing_tags = {
        (pk, name.lower())
        for pk, name in Contact.tags.through.objects.filter(contact__owner=owner).values_list(
            "contact_id", "tag__name"
        )
    }
    seen: dict[str, dict] = {"email": {}, "phone": {}, "name": {}}
    rows = []
    for n, record in enumerate(records, start=1):
        row = {
            "position": record.position,
            "record": record.to_dict(),
            "outcome": NEW,
            "reason": "",
            "contact_id": None,
            "contact_name": "",
            "duplicate_of": None,
            "changes": [],
            "selected": True,
            "keep_both": False,
        }
        if record.errors:
            row.update(outcome=ERROR, selected=False)
        else:
            kind, target, reason = index.find(record, seen)
            if kind == "row":
                row.update(outcome=DUPLICATE, duplicate_of=target, reason=reason, selected=False)
            elif kind == "contact":
                contact = index.contacts[target]
                changes = _changes(contact, record, target in with_birthday, region)
                if changes and all(c["field"] == "tags" for c in changes):
                    wanted = {t.lower() for t in record.tags}
                    if all((target, t) in existing_tags for t in wanted):
                        changes = []
                real = [c for c in changes if not c.get("kept")]
                row.update(
                    outcome=MATCH if real else UNCHANGED,
                    contact_id=target,
                    contact_name=contact.name,
                    reason=reason,
                    changes=changes,
                    selected=bool(real),
                )
            index.remember(record, seen)
        rows.append(row)
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
    return rows


def summarise(rows: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys((NEW, MATCH, UNCHANGED, DUPLICATE, ERROR), 0)
    for row in rows:
        counts[row["outcome"]] += 1
    counts["selected_new"] = sum(
        1 for r in rows if r["selected"] and (r["outcome"] == NEW or r["keep_both"])
    )
    counts["selected_merge"] = sum(
        1 for r in rows if r["selected"] and r["outcome"] == MATCH and not r["keep_both"]
    )
    counts["warnings"] = sum(1 for r in rows if r["record"]["warnings"])
    return counts


# --- Importing ----------------------------------------------------------------


def _tags_by_name(owner, names: set[str]) -> dict[str, Tag]:
    """The owner's tags for ``names`` by lower-cased name, creating the missing ones."""
    wanted = sorted({n.strip()[:40] for n in names if n.strip()})
    return {tag.name.lower(): tag for tag in tags_named(owner, wanted)}


def _occasions(owner, contact_id: int, record: Record, skip_birthday: bool) -> list[Occasion]:
    out = []
    for o in record.occasions:
        if o.kind == OccasionKind.BIRTHDAY and skip_birthday:
            continue
        out.append(
            Occasion(
                owner=owner,
                contact_id=contact_id,
                kind=o.kind,
                label=o.label[:80],
                year=o.year,
                month=o.month,
                day=o.day,
            )
        )
        if o.kind == OccasionKind.BIRTHDAY:
            skip_birthday = True
    return out


def apply(
    owner, rows: list[dict], *, region: str = "US", progress: Callable | None = None
) -> dict[str, int]:
    """Import the selected rows in one transaction; returns what was done."""
    chosen = [r for r in rows if r["selected"] and r["outcome"] in (NEW, MATCH)]
    new_rows = [r for r in chosen if r["outcome"] == NEW or r["keep_both"]]
    merge_rows = [r for r in chosen if r["outcome"] == MATCH and not r["keep_both"]]
    now = timezone.now()
    done = 0
    with transaction.atomic():
        records = {id(r): Record.from_dict(r["record"]) for r in chosen}
        tags = _tags_by_name(owner, {t for rec in records.values() for t in rec.tags})
        through = Contact.tags.through
        links: list = []
        occasions: list[Occasion] = []

        # New contacts, in batches (bulk_create skips save(): set touch_due_at here).
        for start in range(0, len(new_rows), 1000):
            batch = new_rows[start : start + 1000]
            contacts = []
            for row in batch:
                rec = records[id(row)]
                contact = Contact(
                    owner=owner,
                    name=rec.name[:120],
                    company=rec.company[:160],
                    profession=rec.profession[:120],
                    emails=rec.emails,
                    phones=rec.phones,
                    website=rec.website[:200],
                    address=rec.address,
                    city=rec.city[:120],
                    met_how=rec.met_how[:240],
                    notes=rec.notes,
                    created_at=now,
                )
                contact.touch_due_at = contact.compute_touch_due_at()
                contacts.append(contact)
            Contact.objects.bulk_create(contacts, batch_size=1000)
            for row, contact in zip(batch, contacts, strict=True):
                rec = records[id(row)]
                row["contact_id"] = contact.pk
                links += [
                    through(contact_id=contact.pk, tag_id=tags[t.lower()[:40]].pk)
                    for t in dict.fromkeys(t.strip() for t in rec.tags if t.strip())
                    if t.lower()[:40] in tags
                ]
                occasions += _occasions(owner, contact.pk, rec, skip_birthday=False)
            done += len(batch)
            if progress:
                progress(done)

        # Matches: fill what is empty, add e-mails, phones, tags, notes and a birthday.
        if merge_rows:
            targets = Contact.objects.for_user(owner).in_bulk([r["contact_id"] for r in merge_rows])
            has_birthday = set(
                Occasion.objects.for_user(owner)
                .filter(kind=OccasionKind.BIRTHDAY, contact_id__in=list(targets))
                .values_list("contact_id", flat=True)
            )
            changed = set()
            for row in merge_rows:
                contact = targets.get(row["contact_id"])
                if contact is None:  # deleted since the preview: import it as new instead
                    continue
                rec = records[id(row)]
                for field, _ in FILLABLE:
                    value = getattr(rec, field)
                    if value and not getattr(contact, field):
                        setattr(contact, field, value[: Contact._meta.get_field(field).max_length])
                emails = list(contact.emails or [])
                lowered = {e.lower() for e in emails}
                contact.emails = emails + [e for e in rec.emails if e.lower() not in lowered]
                phones = list(contact.phones or [])
                normal = {normalise_phone(p, region) for p in phones}
                contact.phones = phones + [
                    p for p in rec.phones if normalise_phone(p, region) not in normal
                ]
                if rec.notes and rec.notes.strip() not in (contact.notes or ""):
                    contact.notes = f"{contact.notes}\n\n{rec.notes}".strip()
                changed.add(contact.pk)
                links += [
                    through(contact_id=contact.pk, tag_id=tags[t.lower()[:40]].pk)
                    for t in dict.fromkeys(t.strip() for t in rec.tags if t.strip())
                    if t.lower()[:40] in tags
                ]
                occasions += _occasions(
                    owner, contact.pk, rec, skip_birthday=contact.pk in has_birthday
                )
                if any(o.kind == OccasionKind.BIRTHDAY for o in rec.occasions):
                    has_birthday.add(contact.pk)
            Contact.objects.bulk_update(
                [targets[pk] for pk in changed],
                [f for f, _ in FILLABLE] + ["emails", "phones", "notes"],
                batch_size=1000,
            )
            Contact.objects.filter(pk__in=changed).update(updated_at=now)
            done += len(merge_rows)
            if progress:
                progress(done)

        through.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)
        Occasion.objects.bulk_create(occasions, batch_size=2000, ignore_conflicts=True)
        # Bulk writes send no signals: score the new and updated contacts on commit, and
        # key them for the duplicates page now.
        from plan import strength

        strength.schedule([r["contact_id"] for r in new_rows + merge_rows])
        duplicates.refresh(owner.pk, [r["contact_id"] for r in new_rows + merge_rows])
    return {
        "created": len(new_rows),
        "merged": len(merge_rows),
        "duplicates": sum(1 for r in rows if r["outcome"] == DUPLICATE),
        "errors": sum(1 for r in rows if r["outcome"] == ERROR),
        "unchanged": sum(1 for r in rows if r["outcome"] == UNCHANGED),
        "skipped": sum(1 for r in rows if not r["selected"] and r["outcome"] in (NEW, MATCH)),
    }


# --- Batches --------------------------------------------------------------------


def progress_key(batch_id) -> str:
    return f"import-progress:{batch_id}"


def _progress_writer(batch: ImportBatch) -> Callable[[int], None]:
    # Progress lives in the cache: the import's own transaction hides its row updates.
    def write(n: int) -> None:
        cache.set(progress_key(batch.pk), n, 3600)

    return write


def read_progress(batch: ImportBatch) -> int:
    return cache.get(progress_key(batch.pk), batch.processed)


def estimate_rows(data: bytes, fmt: str) -> int:
    if fmt == ImportFormat.VCARD:
        return data.upper().count(b"BEGIN:VCARD")
    return data.count(b"\n")


def prepare(batch: ImportBatch) -> ImportBatch:
    """Parse the batch's file and plan every row; the batch ends in preview (or failed)."""
    owner = batch.owner
    data = bytes(batch.data or b"")
    rows: list[dict] = []
    try:
        if batch.format == ImportFormat.ARCHIVE:
            batch.summary = {"archive": describe_archive(data)}
            batch.total = batch.summary["archive"].get("contacts", 0)
        else:
            parsed = parsers.parse(
                data,
                batch.format,
                region=batch.phone_region,
                # Once the header is known, the user's mapping (even "ignore all") stands.
                column_map=batch.column_map if batch.columns else None,
                max_rows=settings.IMPORT_MAX_ROWS,
            )
            batch.total = len(parsed.records)
            if parsed.columns:
                batch.columns = parsed.columns
                batch.column_map = parsed.column_map
            if not parsed.records:
                raise FileRejected("The file holds no contacts.")
            rows = plan(
                owner, parsed.records, region=batch.phone_region, progress=_progress_writer(batch)
            )
            batch.summary = summarise(rows)
        batch.status = ImportStatus.PREVIEW
        batch.processed = batch.total
    except FileRejected as exc:
        batch.status = ImportStatus.FAILED
        batch.error = str(exc)[:500]
        batch.data = None
    with transaction.atomic():
        ImportRow.objects.filter(batch=batch).delete()  # a new column mapping re-plans
        ImportRow.objects.bulk_create(
            (ImportRow.from_dict(batch, row) for row in rows), batch_size=2000
        )
        batch.save()
    return batch


def recount(batch: ImportBatch) -> dict:
    """Refresh the batch's counts of selected rows after the user's choices (one query)."""
    counts = ImportRow.objects.filter(batch=batch).aggregate(
        selected_new=Count(
            "pk", filter=Q(selected=True) & (Q(outcome=NEW) | Q(outcome=MATCH, keep_both=True))
        ),
        selected_merge=Count("pk", filter=Q(selected=True, outcome=MATCH, keep_both=False)),
    )
    batch.summary = {**batch.summary, **counts}
    return batch.summary


def stored_rows(batch: ImportBatch) -> list[dict]:
    return [row.as_dict() for row in ImportRow.objects.filter(batch=batch).order_by("position")]


def confirm(batch: ImportBatch) -> bool:
    """Claim the batch for import; False when it was already claimed (a second confirm)."""
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEW).update(
        status=ImportStatus.IMPORTING, confirmed_at=timezone.now(), processed=0
    )
    return bool(claimed)


def _fail(batch_id, message: str) -> ImportBatch:
    ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.IMPORTING).update(
        status=ImportStatus.FAILED, error=message[:500], finished_at=timezone.now()
    )
    return ImportBatch.objects.get(pk=batch_id)


ARCHIVE_PARTS = ("contacts", "meetings", "referrals", "introductions", "spends", "followups")


def describe_archive(data: bytes) -> dict[str, int]:
    """How many of each thing a Referral CRM archive holds (for the preview)."""
    try:
        archive = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FileRejected(f"The archive is not valid JSON: {exc}.") from exc
    if not isinstance(archive, dict) or archive.get("format") != "referral-crm-archive":
        raise FileRejected("This JSON file is not a Referral CRM archive.")
    return {
        part: len(archive.get(part) or [])
        for part in ARCHIVE_PARTS
        if isinstance(archive.get(part) or [], list)
    }


def run(batch_id) -> ImportBatch:
    """Import a claimed batch (status importing); done or failed after.

    The rows and the batch's move to done commit in one transaction that holds the
    batch's row lock, so a task delivered twice imports once.
    """
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().select_related("owner").get(pk=batch_id)
            if batch.status != ImportStatus.IMPORTING:
                return batch
            cache.set(progress_key(batch.pk), 0, 3600)
            if batch.format == ImportFormat.ARCHIVE:
                from . import archive

                result = archive.restore(batch.owner, bytes(batch.data or b""))
                from plan import strength

                strength.schedule(
                    Contact.objects.for_user(batch.owner).values_list("pk", flat=True)
                )
            else:
                result = apply(
                    batch.owner,
                    stored_rows(batch),
                    region=batch.phone_region,
                    progress=_progress_writer(batch),
                )
            batch.summary = {**batch.summary, "result": result}
            batch.status = ImportStatus.DONE
            batch.processed = batch.total
            batch.finished_at = timezone.now()
            batch.data = None
            batch.save(update_fields=["summary", "status", "processed", "finished_at", "data"])
            ImportRow.objects.filter(batch=batch).delete()  # the summary keeps what was done
            return batch
    except FileRejected as exc:
        return _fail(batch_id, str(exc))
    except Exception:
        logger.exception("import %s failed", batch_id)
        _fail(batch_id, "Something went wrong while importing; nothing was imported.")
        raise
