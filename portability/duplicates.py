"""Possible duplicates, kept current as contacts are written, so the duplicates page reads
one page of an index instead of parsing every phone number of the network on each view.

Three derived tables (portability.models):

- ``ContactKey``: what each contact can be matched on (e-mails, phones, name, company);
- ``DuplicateReason``: one rule's evidence that two contacts are one person, with the key
  it came from;
- ``DuplicatePair``: one row per pair with every reason and the score, in page order.

``refresh(owner_id, contact_ids)`` rewrites the keys of some contacts (a contact that is
gone loses its keys) and then only what depends on them: the key groups they left or
joined, their similar-name checks, and the pairs those touched. Single writes reach it
through the Contact signals connected below; the bulk paths that send no signals call it
themselves: the importer, the archive restore and ``seed_demo`` (a global seeder, after
groups add fellow members as contacts). A change of the owner's phone region rewrites their
phone keys.

Writes of one owner's duplicates are serialised by a transaction-level advisory lock, so
two requests adding the same e-mail at once cannot each miss the other.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_init, post_save

from contacts.models import Contact

from .merge import NAME_SIMILARITY, WEIGHT, email_key, name_key, phone_key
from .models import ContactKey, DuplicatePair, DuplicateReason

# Kinds whose contacts sharing a key are paired (the oldest with each of the others).
GROUPED = ("email", "phone", "name")
# The order reasons are shown in; "similar" counts as the name's reason when the names
# are not simply the same.
SHOWN_ORDER = ("email", "phone", "name")
MATCH_FIELDS = {"name", "company", "emails", "phones"}
# Bounds the similar-name check of one contact when a company has many similar names.
MAX_SIMILAR = 50
BATCH = 1000
KEY_LENGTH = ContactKey._meta.get_field("key").max_length
LOCK_NAMESPACE = 0x4455  # "DU": pg_advisory_xact_lock(namespace, owner id)


# --- Keys -----------------------------------------------------------------------------


def keys_of(name: str, company: str, emails, phones, region: str) -> set[tuple[str, str, str]]:
    """(kind, key, shown) for what one contact can be matched on."""
    keys = set()
    for raw in emails or []:
        if isinstance(raw, str) and (key := email_key(raw)[:KEY_LENGTH]):
            keys.add(("email", key, key))
    seen_phones = set()
    for raw in phones or []:
        if isinstance(raw, str) and (parsed := phone_key(raw, region)):
            key, shown = parsed[0][:KEY_LENGTH], parsed[1][:KEY_LENGTH]
            if key not in seen_phones:  # the first way of writing it is the one shown
                seen_phones.add(key)
                keys.add(("phone", key, shown))
    company = (company or "").strip()
    if key := name_key(name or "")[:KEY_LENGTH]:
        keys.add(("name", key, company[:KEY_LENGTH]))
    if key := name_key(company)[:KEY_LENGTH]:
        keys.add(("company", key, company[:KEY_LENGTH]))
    return keys


def _region(owner_id: int) -> str:
    from accounts.models import User

    return User.objects.filter(pk=owner_id).values_list("phone_region", flat=True).first() or "US"


def _batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Rules ----------------------------------------------------------------------------


def _group_pairs(kind: str, key: str, people: list[tuple[int, str]]) -> Iterator[tuple]:
    """(low, high, words) for contacts sharing one key, ``people`` as (id, shown) by id.

    A group gives pairs of its oldest contact with each of the others, so a cluster costs
    as many pairs as merges. Names pair each with the oldest of the same name whose company
    agrees (or is unknown).
    """
    if kind == "name":
        for i, (pk, company) in enumerate(people):
            for first, first_company in people[:i]:
                if not company or not first_company or company.lower() == first_company.lower():
                    where = first_company or company
                    yield first, pk, f"same name{f' at {where}' if where else ''}"
                    break
        return
    (first, shown), others = people[0], people[1:]
    words = f"same e-mail {key}" if kind == "email" else f"same phone {shown}"
    for pk, _ in others:
        yield first, pk, words


def _regroup(owner_id: int, groups: set[tuple[str, str]]) -> set[tuple[int, int]]:
    """Rewrite the evidence of these key groups; the pairs it touched."""
    touched: set[tuple[int, int]] = set()
    for batch in _batches(sorted(groups)):
        by_kind = defaultdict(list)
        for kind, key in batch:
            by_kind[kind].append(key)
        reasons = Q()
        keys = Q()
        for kind, group_keys in by_kind.items():
            reasons |= Q(kind=kind, source__in=group_keys)
            keys |= Q(kind=kind, key__in=group_keys)
        old = DuplicateReason.objects.filter(reasons, owner_id=owner_id)
        touched.update(old.values_list("contact_low", "contact_high"))
        old.delete()
        members = defaultdict(list)
        for kind, key, pk, shown in (
            ContactKey.objects.filter(keys, owner_id=owner_id)
            .order_by("kind", "key", "contact_id")
            .values_list("kind", "key", "contact_id", "shown")
        ):
            members[kind, key].append((pk, shown))
        new = [
            DuplicateReason(
                owner_id=owner_id,
                contact_low=low,
                contact_high=high,
                kind=kind,
                source=key,
                words=words[:300],
            )
            for (kind, key), people in members.items()
            if len(people) > 1
            for low, high, words in _group_pairs(kind, key, people)
        ]
        DuplicateReason.objects.bulk_create(new, batch_size=BATCH)
        touched.update((r.contact_low, r.contact_high) for r in new)
    return touched


SIMILAR_SQL = """
    SELECT a.contact_id, b.contact_id, a.shown, b.shown, a.key, lower(ca.name) = lower(b.name)
    FROM {keys} a
    JOIN {contacts} ca ON ca.id = a.contact_id
    CROSS JOIN LATERAL (
        SELECT k.contact_id, k.shown, c.name
        FROM {keys} k
        JOIN {contacts} c ON c.id = k.contact_id
        WHERE k.owner_id = a.owner_id AND k.kind = 'company' AND k.key = a.key
          AND k.contact_id <> a.contact_id
          AND similarity(lower(c.name), lower(ca.name)) >= %s
        ORDER BY k.contact_id
        LIMIT %s
    ) b
    WHERE a.owner_id = %s AND a.kind = 'company' AND a.contact_id = ANY(%s)
"""


def _resimilar(owner_id: int, contact_ids: list[int]) -> set[tuple[int, int]]:
    """Rewrite the similar-name evidence of these contacts (pg_trgm's similarity of names
    at the same company; PostgreSQL only); the pairs it touched."""
    if connection.vendor != "postgresql":
        return set()
    touched: set[tuple[int, int]] = set()
    sql = SIMILAR_SQL.format(keys=ContactKey._meta.db_table, contacts=Contact._meta.db_table)
    for batch in _batches(contact_ids):
        old = DuplicateReason.objects.filter(
            Q(contact_low__in=batch) | Q(contact_high__in=batch), owner_id=owner_id, kind="similar"
        )
        touched.update(old.values_list("contact_low", "contact_high"))
        old.delete()
        with connection.cursor() as cursor:
            cursor.execute(sql, [NAME_SIMILARITY, MAX_SIMILAR, owner_id, batch])
            rows = cursor.fetchall()
        new = {}
        for a, b, a_company, b_company, company_key, same in rows:
            low, high, where = (a, b, a_company) if a < b else (b, a, b_company)
            words = f"{'same' if same else 'similar'} name at {where}"
            new[low, high] = DuplicateReason(
                owner_id=owner_id,
                contact_low=low,
                contact_high=high,
                kind="similar",
                source=company_key,
                words=words[:300],
            )
        DuplicateReason.objects.bulk_create(new.values(), batch_size=BATCH)
        touched.update(new)
    return touched


def _repair(owner_id: int, pairs: set[tuple[int, int]]) -> None:
    """Rewrite the DuplicatePair rows of these pairs from their evidence.

    Pairs are read and written as "low in L and high in H", which may take in a few more
    pairs than asked: those are rewritten from their evidence too, which changes nothing.
    """
    lows = sorted({low for low, _ in pairs})
    highs = sorted({high for _, high in pairs})
    for low_batch in _batches(lows):
        for high_batch in _batches(highs):
            where = {
                "owner_id": owner_id,
                "contact_low__in": low_batch,
                "contact_high__in": high_batch,
            }
            found: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
            for low, high, kind, words in (
                DuplicateReason.objects.filter(**where)
                .order_by("kind", "source")
                .values_list("contact_low", "contact_high", "kind", "words")
            ):
                found[low, high].setdefault(kind, words)
            DuplicatePair.objects.filter(**where).delete()
            DuplicatePair.objects.bulk_create(
                [_pair(owner_id, low, high, reasons) for (low, high), reasons in found.items()],
                batch_size=BATCH,
            )


def _pair(owner_id: int, low: int, high: int, reasons: dict[str, str]) -> DuplicatePair:
    if "name" not in reasons and "similar" in reasons:
        reasons["name"] = reasons["similar"]
    shown = [[kind, reasons[kind]] for kind in SHOWN_ORDER if kind in reasons]
    return DuplicatePair(
        owner_id=owner_id,
        contact_low=low,
        contact_high=high,
        score=sum(WEIGHT[kind] for kind, _ in shown),
        reasons=shown,
    )


# --- Refreshing -----------------------------------------------------------------------


def _lock(owner_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, owner_id])


def _stored(owner_id: int, ids: list[int]) -> dict[int, set]:
    stored: dict[int, set] = defaultdict(set)
    for batch in _batches(ids):
        for pk, kind, key, shown in ContactKey.objects.filter(
            owner_id=owner_id, contact_id__in=batch
        ).values_list("contact_id", "kind", "key", "shown"):
            stored[pk].add((kind, key, shown))
    return stored


def _changed(owner_id: int, ids: list[int], current: dict[int, set]) -> list[int]:
    stored = _stored(owner_id, ids)
    return [pk for pk in ids if current[pk] != stored[pk]]


def _current(owner_id: int, ids: list[int], region: str | None) -> dict[int, set]:
    current: dict[int, set] = {pk: set() for pk in ids}  # a contact gone has no keys
    for batch in _batches(ids):
        for pk, name, company, emails, phones in Contact.objects.filter(
            owner_id=owner_id, pk__in=batch
        ).values_list("pk", "name", "company", "emails", "phones"):
            if phones and region is None:
                region = _region(owner_id)
            current[pk] = keys_of(name, company, emails, phones, region or "US")
    return current


def refresh(
    owner_id: int,
    contact_ids: Iterable[int],
    region: str | None = None,
    *,
    current: dict[int, set] | None = None,
) -> int:
    """Rewrite the keys of these contacts of ``owner_id`` and the duplicates that depend on
    them; a contact that no longer exists loses its keys. ``region`` is the owner's phone
    region (read when needed and not given); ``current`` the keys already computed, by
    contact id. Returns how many contacts' keys changed: a save that changed none costs
    one query."""
    ids = sorted(set(contact_ids))
    if current is None:
        current = _current(owner_id, ids, region)
    changed = _changed(owner_id, ids, current)
    if not changed:
        return 0
    with transaction.atomic():
        _lock(owner_id)
        # Read again under the lock: a write that committed meanwhile is the one to undo.
        stored = _stored(owner_id, changed)
        groups = set()
        for batch in _batches(changed):
            ContactKey.objects.filter(owner_id=owner_id, contact_id__in=batch).delete()
        ContactKey.objects.bulk_create(
            [
                ContactKey(owner_id=owner_id, contact_id=pk, kind=kind, key=key, shown=shown)
                for pk in changed
                for kind, key, shown in current[pk]
            ],
            batch_size=BATCH,
        )
        for pk in changed:
            groups.update((kind, key) for kind, key, _ in current[pk] ^ stored[pk])
        groups = {(kind, key) for kind, key in groups if kind in GROUPED}
        touched = _regroup(owner_id, groups) | _resimilar(owner_id, changed)
        _repair(owner_id, touched)
    return len(changed)


def refresh_all(owner_id: int) -> int:
    """Rewrite the keys of every contact of ``owner_id`` (seeding, a new phone region)."""
    ids = Contact.objects.filter(owner_id=owner_id).values_list("pk", flat=True)
    return refresh(owner_id, list(ids))


# --- Signals ----------------------------------------------------------------------------


def _contact_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not MATCH_FIELDS & set(update_fields):
        return
    owner = instance._state.fields_cache.get("owner")
    region = owner.phone_region if owner else None
    if instance.phones and region is None:
        region = _region(instance.owner_id)
    keys = keys_of(instance.name, instance.company, instance.emails, instance.phones, region)
    refresh(instance.owner_id, [instance.pk], current={instance.pk: keys})


def _contact_deleted(sender, instance, origin=None, **kwargs) -> None:
    # An account deleted with its contacts takes these rows with it (owner, CASCADE).
    if isinstance(origin, Contact) or (isinstance(origin, QuerySet) and origin.model is Contact):
        refresh(instance.owner_id, [instance.pk])


def _remember_region(sender, instance, **kwargs) -> None:
    instance._duplicates_region = instance.__dict__.get("phone_region")


def _user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """Phone numbers without +country are read in the owner's region: a new region
    rewrites their phone keys."""
    if created or (update_fields is not None and "phone_region" not in update_fields):
        return
    loaded = getattr(instance, "_duplicates_region", None)  # None: not loaded, not changed
    if loaded is None or loaded == instance.__dict__.get("phone_region"):
        return
    instance._duplicates_region = instance.phone_region
    with_phones = Contact.objects.filter(owner=instance).exclude(phones=[])
    refresh(instance.pk, list(with_phones.values_list("pk", flat=True)), instance.phone_region)


def _seed(**kwargs) -> Counter:
    """``seed_demo`` writes contacts in bulk, in its own seeding and in other apps' seeders
    (groups add fellow members as contacts): key every contact that has none yet."""
    unkeyed = defaultdict(list)
    for owner_id, pk in Contact.objects.exclude(
        pk__in=ContactKey.objects.values("contact_id")
    ).values_list("owner_id", "pk"):
        unkeyed[owner_id].append(pk)
    keyed = sum(refresh(owner_id, ids) for owner_id, ids in unkeyed.items())
    return Counter({"contacts keyed for duplicates": keyed})


def connect() -> None:
    from accounts.models import User
    from contacts import seeding

    post_save.connect(_contact_saved, sender=Contact, dispatch_uid="portability.dup.save")
    post_delete.connect(_contact_deleted, sender=Contact, dispatch_uid="portability.dup.delete")
    post_init.connect(_remember_region, sender=User, dispatch_uid="portability.dup.user_init")
    post_save.connect(_user_saved, sender=User, dispatch_uid="portability.dup.user_save")
    seeding.register_global(_seed)
