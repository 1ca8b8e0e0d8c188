"""Possible duplicates among a user's contacts, and merging two contacts into one.

``find_duplicates`` reads one page of the pairs that ``portability.duplicates`` keeps
current as contacts are written (the key functions are here, the rules there): one query
however big the network. Archived contacts are included (an import often brings back
someone the user archived); pages mark them.

``merge`` folds one contact into another in one transaction and moves every row that
points at the merged contact, found through ``Contact._meta`` so relations that apps add
later move too; the few with constraints (meeting attendees, the one birthday, the linked
fellow member, an introduction between the two) are handled by name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import phonenumbers
from django.apps import apps
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from contacts import timeline
from contacts.models import Contact, Occasion, OccasionKind, Stage, TriState

from .models import DuplicateDismissal, DuplicatePair, MergeRecord

# Two names at the same company at least this similar (pg_trgm similarity of the
# lower-cased names) are offered: "Jon Smith"/"John Smith" is 0.62, "Jon Smith"/"Jonathan
# Smith" 0.56, "Jane Roberts"/"Jane Robert" 0.79, while "Jon Smith"/"Jane Smith" (0.50) is
# left alone.
NAME_SIMILARITY = 0.55
# Weights for ordering candidates: the strongest evidence first.
WEIGHT = {"email": 3, "phone": 3, "name": 2}


# --- Finding duplicates ---------------------------------------------------------


@dataclass
class Candidate:
    """Two contacts that are probably the same person, lowest id first, with why."""

    low_id: int
    high_id: int
    reasons: dict[str, str] = field(default_factory=dict)  # kind ("email"...) -> words
    low: Contact | None = None  # filled by with_contacts()
    high: Contact | None = None

    @property
    def score(self) -> int:
        return sum(WEIGHT[kind] for kind in self.reasons)

    @property
    def reason_list(self) -> list[str]:
        return list(self.reasons.values())


def email_key(raw: str) -> str:
    return raw.strip().lower()


def phone_key(raw: str, region: str) -> tuple[str, str] | None:
    """(comparison key, display) for a phone number: E.164 when phonenumbers reads it
    (numbers without +country are local to ``region``), else its digits."""
    try:
        number = phonenumbers.parse(raw, region or "US")
        if phonenumbers.is_possible_number(number):
            return (
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
            )
    except phonenumbers.NumberParseException:
        pass
    digits = re.sub(r"\D", "", raw)
    return (digits, raw.strip()) if len(digits) >= 5 else None


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def find_duplicates(user, limit: int | None = 50, offset: int = 0) -> list[Candidate]:
    """Pairs of ``user``'s contacts that are probably one person, strongest first.

    Same e-mail (case-insensitive), same phone (compared as E.164 with the user's phone
    region), the same name (at the same company, or where one has no company) and, on
    PostgreSQL, a very similar name at the same company (``portability.duplicates``).
    Pairs the user dismissed are left out. One query, on ``duplicate_pair_page_idx``.
    """
    dismissed = DuplicateDismissal.objects.filter(
        contact_low_id=OuterRef("contact_low"), contact_high_id=OuterRef("contact_high")
    )
    pairs = (
        DuplicatePair.objects.for_user(user)
        .filter(~Exists(dismissed))
        .order_by("-score", "contact_low", "contact_high")
        .values_list("contact_low", "contact_high", "reasons")
    )
    pairs = pairs[offset:] if limit is None else pairs[offset : offset + limit]
    return [Candidate(low, high, dict(reasons)) for low, high, reasons in pairs]


def with_contacts(user, candidates: list[Candidate]) -> list[Candidate]:
    """Fill ``low``/``high`` of each candidate (with ``meeting_count``) in one query.

    Meetings are counted per contact on the attendance index (a join of the whole
    attendance table, then a GROUP BY, cost 100 ms with 100,000 meetings)."""
    ids = {pk for c in candidates for pk in (c.low_id, c.high_id)}
    attended = (
        Contact.meetings.through.objects.filter(contact_id=OuterRef("pk"))
        .order_by()
        .values("contact_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    contacts = {
        c.pk: c
        for c in Contact.objects.for_user(user)
        .filter(pk__in=ids)
        .only("pk", "name", "company", "profession", "emails", "phones", "is_archived")
        .annotate(meeting_count=Coalesce(Subquery(attended), 0))
    }
    for candidate in candidates:
        candidate.low = contacts.get(candidate.low_id)
        candidate.high = contacts.get(candidate.high_id)
    return [c for c in candidates if c.low and c.high]


def dismiss(user, a: Contact, b: Contact) -> DuplicateDismissal:
    """Remember that ``a`` and ``b`` are not the same person (both must be ``user``'s)."""
    low, high = sorted((a, b), key=lambda c: c.pk)
    dismissal, _ = DuplicateDismissal.objects.get_or_create(
        contact_low=low, contact_high=high, defaults={"owner": user}
    )
    return dismissal


# --- Choosing values ------------------------------------------------------------

# Fields where the merged contact keeps one of the two values: the survivor's unless the
# caller takes the other's (or the survivor has none). "linked_user" and "birthday" are
# offered only when both contacts have one.
CHOICE_FIELDS = [
    "name",
    "company",
    "profession",
    "website",
    "address",
    "city",
    "met_how",
    "stage",
    "cadence_days",
    "is_expert",
    "is_passionate",
    "honours_referrals",
]
TAKE_KEYS = [*CHOICE_FIELDS, "linked_user", "birthday"]
# Text kept from both, one after the other.
JOINED_FIELDS = ["notes", "word_of_mouth"]
SURVIVOR, OTHER = "survivor", "other"
FIELD_LABELS = {
    "name": "Name",
    "company": "Company",
    "profession": "Profession or category",
    "website": "Website",
    "address": "Address",
    "city": "City",
    "met_how": "How and where we met",
    "stage": "Relationship stage",
    "cadence_days": "Keep in touch every",
    "is_expert": "Expert at their trade",
    "is_passionate": "Passionate about it",
    "honours_referrals": "Honours the referral process",
    "linked_user": "Fellow group member",
    "birthday": "Birthday",
}
STAGE_RANK = {Stage.CONTACT: 0, Stage.ACQUAINTANCE: 1, Stage.CONNECTION: 2}


class AlreadyMerged(Exception):
    """One of the two contacts no longer exists (merged by an earlier request)."""


def _blank(value) -> bool:
    return value in (None, "", TriState.UNKNOWN)


def default_take(key: str, survivor_value, other_value) -> str:
    """Which value a merge keeps when the caller does not say: the further stage along,
    the shorter cadence, otherwise the survivor's unless it is blank."""
    if key == "stage":
        further = STAGE_RANK.get(other_value, 0) > STAGE_RANK.get(survivor_value, 0)
        return OTHER if further else SURVIVOR
    if key == "cadence_days":
        shorter = other_value is not None and (
            survivor_value is None or other_value < survivor_value
        )
        return OTHER if shorter else SURVIVOR
    return OTHER if _blank(survivor_value) and not _blank(other_value) else SURVIVOR


def _birthday(contact: Contact) -> Occasion | None:
    return Occasion.objects.filter(contact=contact, kind=OccasionKind.BIRTHDAY).first()


def field_values(survivor: Contact, other: Contact) -> dict[str, tuple]:
    """{take key: (survivor's value, other's value)} for every key offered in a merge.
    The birthday values are Occasion rows (or None); linked_user values are user ids."""
    values = {f: (getattr(survivor, f), getattr(other, f)) for f in CHOICE_FIELDS}
    values["linked_user"] = (survivor.linked_user_id, other.linked_user_id)
    values["birthday"] = (_birthday(survivor), _birthday(other))
    return values


def _same(key: str, a, b) -> bool:
    if key == "birthday" and a and b:
        return (a.month, a.day, a.year) == (b.month, b.day, b.year)
    return a == b


def decide(values: dict[str, tuple], take: dict[str, str] | None) -> dict[str, str]:
    """{take key: SURVIVOR or OTHER} for the keys whose values differ."""
    take = take or {}
    unknown = set(take) - set(TAKE_KEYS)
    if unknown:
        raise ValueError(f"Not a field a merge can take: {', '.join(sorted(unknown))}")
    decisions = {}
    for key, (mine, theirs) in values.items():
        if _same(key, mine, theirs):
            continue
        if key in ("linked_user", "birthday") and (mine is None or theirs is None):
            decisions[key] = OTHER if mine is None else SURVIVOR  # keep the one there is
            continue
        choice = take.get(key) or default_take(key, mine, theirs)
        if choice not in (SURVIVOR, OTHER):
            raise ValueError(f"{key}: take {SURVIVOR!r} or {OTHER!r}, not {choice!r}")
        decisions[key] = choice
    return decisions


def _union(items: list[str], key) -> list[str]:
    seen, out = set(), []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def united_emails(survivor: Contact, other: Contact) -> list[str]:
    """Both contacts' e-mails, the survivor's first, each address once (any case)."""
    return _union([*survivor.emails, *other.emails], email_key)


def united_phones(survivor: Contact, other: Contact, region: str) -> list[str]:
    """Both contacts' phones, the survivor's first, each number once (however written)."""
    return _union(
        [*survivor.phones, *other.phones],
        lambda p: (phone_key(p, region) or (p.strip(), ""))[0],
    )


def _joined(a: str, b: str) -> str:
    a, b = a.strip(), b.strip()
    if a and b and a != b:
        return f"{a}\n\n{b}"
    return a or b


# --- Relations --------------------------------------------------------------------


def relations() -> list:
    """Every relation that points at a contact: reverse foreign keys and one-to-ones
    (hidden ``related_name="+"`` ones included), many-to-many fields of other models
    (meeting attendees) and Contact's own (tags). Through tables are handled with their
    many-to-many field, not on their own."""
    many = [f for f in Contact._meta.get_fields(include_hidden=True) if f.many_to_many]
    throughs = {
        (f.remote_field.through if f.concrete else f.through)._meta.label_lower for f in many
    }
    reverse_fks = [
        f
        for f in Contact._meta.get_fields(include_hidden=True)
        if f.auto_created
        and not f.concrete
        and (f.one_to_many or f.one_to_one)
        and f.related_model._meta.label_lower not in throughs
    ]
    return [*many, *reverse_fks]


def relation_key(rel) -> str:
    """The model whose rows move, e.g. "contacts.meeting" ("contacts.tag" for tags)."""
    model = rel.related_model
    return model._meta.label_lower


def _through(rel) -> tuple[type[models.Model], str, str]:
    """(through model, the field naming the other side, the field naming the contact)."""
    if rel.concrete:  # Contact's own many-to-many (tags)
        return rel.remote_field.through, rel.m2m_reverse_field_name(), rel.m2m_field_name()
    return rel.through, rel.field.m2m_field_name(), rel.field.m2m_reverse_field_name()


def _rows_of(rel, contact: Contact) -> models.QuerySet:
    if rel.many_to_many:
        through, _, mine = _through(rel)
        return through._base_manager.filter(**{mine: contact})
    return rel.related_model._base_manager.filter(**{rel.field.name: contact})


def _move(rel, survivor: Contact, other: Contact) -> int:
    """Re-point ``other``'s rows of one relation at ``survivor``; how many now point there
    that did not before (a meeting they both attended counts nothing)."""
    if rel.many_to_many:
        through, theirs, mine = _through(rel)
        shared = through._base_manager.filter(**{mine: survivor}).values(theirs)
        through._base_manager.filter(**{mine: other, f"{theirs}__in": shared}).delete()
        return through._base_manager.filter(**{mine: other}).update(**{mine: survivor})
    model, name = rel.related_model, rel.field.name
    if rel.one_to_one and model._base_manager.filter(**{name: survivor}).exists():
        return 0  # the survivor's stays; the other's goes with the other contact
    return model._base_manager.filter(**{name: other}).update(**{name: survivor})


# Relations merge() settles by name before the generic move (see merge()).
SETTLED = {"portability.duplicatedismissal", "plan.suggestiondismissal"}
# The contact's own rows rather than the user's: the survivor keeps its own and the other's
# go with the other contact (the search's ranking copy of the document, kept by triggers).
OWN = {"contacts.searchrank"}


def moving_counts(survivor: Contact, other: Contact) -> dict[str, int]:
    """What a merge of ``other`` into ``survivor`` would move and remove, in the shape of
    ``MergeRecord.moved`` (one count query per relation, for the merge screen)."""
    counts: dict[str, int] = defaultdict(int)
    for rel in relations():
        key = relation_key(rel)
        if key in SETTLED or key in OWN:
            continue
        rows = _rows_of(rel, other)
        if rel.many_to_many:  # what they both have is not moving
            through, theirs, mine = _through(rel)
            shared = through._base_manager.filter(**{mine: survivor}).values(theirs)
            rows = rows.exclude(**{f"{theirs}__in": shared})
        counts[key] += rows.count()
    if _birthday(survivor) and _birthday(other):
        counts["contacts.occasion"] -= 1
        counts["removed:birthday"] = 1
    if between := _introductions_between(survivor, other).count():
        counts["referrals.introduction"] -= between
        counts["removed:referrals.introduction"] = between
    return {k: v for k, v in counts.items() if v > 0}


def _introductions_between(a: Contact, b: Contact) -> models.QuerySet:
    Introduction = apps.get_model("referrals", "Introduction")
    return Introduction._base_manager.filter(
        Q(contact_a=a, contact_b=b) | Q(contact_a=b, contact_b=a)
    )


# --- Merging ------------------------------------------------------------------------


@transaction.atomic
def merge(
    user, survivor: Contact, other: Contact, *, take: dict[str, str] | None = None
) -> MergeRecord:
    """Fold ``other`` into ``survivor`` (both ``user``'s) and delete ``other``.

    ``take`` maps a key of ``TAKE_KEYS`` to "other" to keep the other's value (or
    "survivor"); unsaid, the defaults of ``default_take`` apply. E-mails, phones and tags
    are united, notes joined, and every related row moves. Returns the MergeRecord shown on
    the survivor's timeline. Raises AlreadyMerged if either contact is gone.
    """
    if survivor.pk == other.pk:
        raise ValueError("A contact cannot be merged with itself.")
    locked = {
        c.pk: c
        for c in Contact.objects.for_user(user)
        .select_for_update()
        .filter(pk__in=[survivor.pk, other.pk])
        .order_by("pk")
    }
    if survivor.pk not in locked or other.pk not in locked:
        raise AlreadyMerged
    survivor, other = locked[survivor.pk], locked[other.pk]
    other_pk, other_name = other.pk, other.name

    values = field_values(survivor, other)
    decisions = decide(values, take)
    taken = [key for key, choice in decisions.items() if choice == OTHER]
    for key in CHOICE_FIELDS:
        if decisions.get(key) == OTHER:
            setattr(survivor, key, getattr(other, key))
    survivor.emails = united_emails(survivor, other)
    survivor.phones = united_phones(survivor, other, getattr(user, "phone_region", "") or "US")
    for key in JOINED_FIELDS:
        setattr(survivor, key, _joined(getattr(survivor, key), getattr(other, key)))
    survivor.is_archived = survivor.is_archived and other.is_archived
    survivor.created_at = min(survivor.created_at, other.created_at)
    touches = [t for t in (survivor.last_touched_at, other.last_touched_at) if t]
    survivor.last_touched_at = max(touches) if touches else None
    if decisions.get("linked_user") == OTHER:
        survivor.linked_user_id = other.linked_user_id
    # contact_one_per_linked_user: the other lets go before the survivor takes it.
    if other.linked_user_id:
        Contact.objects.filter(pk=other.pk).update(linked_user=None)

    moved: dict[str, int] = defaultdict(int)
    removed: dict[str, int] = {}
    # occasion_one_birthday_per_contact: one birthday stays, the other is dropped.
    mine, theirs = values["birthday"]
    if mine and theirs:
        (theirs if decisions.get("birthday", SURVIVOR) == SURVIVOR else mine).delete()
        removed["birthday"] = 1
    # intro_two_different_people: an introduction of the two to each other would become
    # an introduction of someone to themselves.
    between, _ = _introductions_between(survivor, other).delete()
    if between:
        removed["referrals.introduction"] = between
    # "Not duplicates" and "not a fit" about the merged contact mean nothing once it is gone.
    DuplicateDismissal.objects.filter(Q(contact_low=other) | Q(contact_high=other)).delete()
    apps.get_model("plan", "SuggestionDismissal").objects.filter(
        Q(contact_low=other) | Q(contact_high=other)
    ).delete()

    for rel in relations():
        key = relation_key(rel)
        if key not in SETTLED | OWN and (n := _move(rel, survivor, other)):
            moved[key] += n

    other.delete()
    survivor.save()
    return MergeRecord.objects.create(
        owner=user,
        survivor=survivor,
        merged_name=other_name,
        merged_contact_id=other_pk,
        moved={**moved, **{f"removed:{k}": n for k, n in removed.items()}},
        fields_taken=taken,
    )


# --- Describing a merge -----------------------------------------------------------

NAMES = {
    "contacts.gainsfact": ("GAINS fact", "GAINS facts"),
    "followups.followup": ("follow-up", "follow-ups"),
    "portability.mergerecord": ("earlier merge", "earlier merges"),
    "plan.goalhelper": ("place as a goal helper", "places as a goal helper"),
}


def noun(key: str, n: int) -> str:
    if key in NAMES:
        one, many = NAMES[key]
    else:
        try:
            meta = apps.get_model(key)._meta
            one, many = str(meta.verbose_name), str(meta.verbose_name_plural)
        except (LookupError, ValueError):
            one = many = key
    return f"{n} {one if n == 1 else many}"


def describe(moved: dict[str, int]) -> str:
    """ "3 meetings, 1 referral moved; 1 introduction removed" from a MergeRecord.moved."""
    moving = [noun(k, n) for k, n in moved.items() if not k.startswith("removed:") and n]
    gone = [noun(k.split(":", 1)[1], n) for k, n in moved.items() if k.startswith("removed:")]
    parts = []
    if moving:
        parts.append(f"{', '.join(moving)} moved")
    if gone:
        parts.append(f"{', '.join(gone)} removed")
    return "; ".join(parts) or "nothing else to move"


def timeline_entries(contact: Contact, limit: int) -> list[timeline.Entry]:
    records = list(contact.merge_records.all()[:limit])
    for record in records:
        record.summary = describe(record.moved)
        record.taken = ", ".join(FIELD_LABELS.get(k, k).lower() for k in record.fields_taken)
    return [
        timeline.Entry(r.merged_at, "portability/merge_timeline_entry.html", r, "merge")
        for r in records
    ]
