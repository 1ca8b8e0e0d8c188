"""What the plan pages read precomputed: introduction suggestions, the sphere's coverage and
the words of the network's skills.

Suggesting introductions is a match over the whole network (about a second of SQL for
10,000 contacts); knowing which sphere professions the network has means reading every
contact's profession; finding whose skill meets a goal means reading every skill. None of
that belongs in a page view. A Celery task (``plan.refresh_suggestions``) computes them with
today's code (``suggestions.suggest``, ``gaps.sphere_coverage``, ``prep.store_offer_words``)
and stores them: ``StoredSuggestion`` rows, ranked; ``SuggestionState.sphere_known``;
``OfferWord`` rows. Pages read them by index (``current``, ``gaps.gaps``, ``prep.offers_for``).

When: a change to an input marks the user stale once its transaction commits. GAINS facts,
referrals, introductions, spends and meetings already refresh relationship strength on commit
(plan.strength), which then marks the owners of the contacts it refreshed; contacts saved,
the plan, "not a fit" and the profile's profession are marked by ``connect``'s receivers
(``mark_stale``: one on-commit callback per transaction). The first mark after a
refresh enqueues one refresh ``DEBOUNCE`` seconds later; later marks only bump the version, so a
burst of changes (a quick log, an import) costs one refresh. A refresh stores what it computed
for the version it read and enqueues another when the version moved meanwhile. Beat runs a
sweep for refreshes whose task was lost (broker down at commit, worker killed) and a nightly
refresh of everyone (scores include recency, which decays without any write).

"Not a fit" and "Introduce them" delete the pair's stored row in their request, so the page
is right at once. Until the first refresh a small network is computed in the request, a big
one shows "finding suggestions" while the refresh runs.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.core.cache import cache
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from referralcrm.oncommit import OnCommit

from .models import StoredSuggestion, SuggestionDismissal, SuggestionState

log = logging.getLogger(__name__)

# Seconds between the first change and the refresh: a burst of changes is one refresh.
DEBOUNCE = 5
# How many suggestions are stored: the page shows 20, and dismissals eat into the rest
# until the next refresh.
STORED = 40
# Until the first refresh, a network with fewer goal/skill/network facts than this is
# matched in the request (a few milliseconds); a bigger one waits for the task.
SYNC_FACTS = 500
# A stale state older than this had its task lost: the sweep enqueues it again.
SWEEP_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 1000
# A page that finds no refresh yet asks for one at most this often (seconds).
KICK_EVERY = 60
# The first key of the advisory lock a refresh holds while it writes (the user is the second).
WRITER_LOCK = 7_340_001


# --- Marking stale ---------------------------------------------------------------------------


class _Stale(OnCommit):
    """The users whose suggestions this transaction made stale (marked once it commits)."""

    def __init__(self) -> None:
        super().__init__()
        self.owner_ids: set[int] = set()

    def run(self) -> None:
        stale_now(self.owner_ids)


def mark_stale(owner_ids) -> None:
    """The stored suggestions of these users are stale once this transaction commits (now,
    outside one): one on-commit callback per transaction, as plan.strength does."""
    ids = {i for i in owner_ids if i}
    if not ids:
        return
    if not transaction.get_connection().in_atomic_block:
        stale_now(ids)
        return
    _Stale.current().owner_ids |= ids


def stale_now(owner_ids) -> None:
    """Bump each user's version; the first change since their last refresh enqueues one
    (once this transaction, if any, commits)."""
    for owner_id in sorted(set(owner_ids)):
        if _bump(owner_id):
            transaction.on_commit(partial(enqueue, owner_id, DEBOUNCE))


def _bump(owner_id: int) -> bool:
    """Whether this change made the user's state stale (and so must enqueue the refresh)."""
    now = timezone.now()
    states = SuggestionState.objects.filter(owner_id=owner_id)
    for _ in range(2):
        if states.filter(stale_since__isnull=True).update(
            version=F("version") + 1, stale_since=now
        ):
            return True
        if states.update(version=F("version") + 1):
            return False  # already stale: a refresh is on its way
        try:
            with transaction.atomic():
                SuggestionState.objects.create(owner_id=owner_id, stale_since=now)
            return True
        except IntegrityError:  # made at the same moment elsewhere, or the user is gone
            continue
    return False


def enqueue(owner_id: int, countdown: int = 0) -> None:
    from .tasks import refresh_suggestions

    try:
        refresh_suggestions.apply_async((owner_id,), countdown=countdown)
    except Exception:  # broker down: the sweep enqueues it again
        log.exception("Could not enqueue the suggestions refresh of user %s", owner_id)


def kick(user) -> None:
    """Ask for a first refresh (a page found none): a message to the queue, no write."""
    if cache.add(f"plan:suggestions:kick:{user.pk}", 1, KICK_EVERY):
        enqueue(user.pk)


# --- Refreshing --------------------------------------------------------------------------------


def refresh(owner_id: int) -> bool:
    """Compute and store ``owner_id``'s suggestions and sphere coverage, unless they are
    current already. Returns whether anything was stored."""
    from django.contrib.auth import get_user_model

    from . import gaps, prep
    from .suggestions import suggest

    user = get_user_model().objects.filter(pk=owner_id).first()
    if user is None:
        return False
    state, _ = SuggestionState.objects.get_or_create(owner=user)
    if state.computed_at is not None and state.computed_version >= state.version:
        return False  # a refresh enqueued twice (the sweep, a page): nothing new since
    version = state.version
    found = suggest(user, limit=STORED)
    coverage = gaps.sphere_coverage(user, gaps.load_plan(user).sphere)
    with transaction.atomic():
        # Refreshes of one user take turns (a lock of their own: the state row stays free
        # for the marks of requests); a slower one of an older version stores nothing.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [WRITER_LOCK, owner_id])
        state = SuggestionState.objects.get(owner=user)
        if state.computed_at is not None and state.computed_version >= version:
            return False
        StoredSuggestion.objects.filter(owner=user).delete()
        StoredSuggestion.objects.bulk_create(_rows(user, found))
        if connection.vendor == "postgresql":
            prep.store_offer_words(user)
        states = SuggestionState.objects.filter(owner=user)
        states.update(
            computed_version=version,
            computed_at=timezone.now(),
            sphere_known=coverage,
            # Fresh, unless a change came while we computed.
            stale_since=Case(
                When(version=version, then=Value(None)),
                default=F("stale_since"),
                output_field=models.DateTimeField(),
            ),
        )
        if states.filter(version__gt=version).exists():  # once more, with that change
            transaction.on_commit(partial(enqueue, owner_id, DEBOUNCE))
    return True


def _rows(user, found) -> list[StoredSuggestion]:
    """The rows to store, without pairs dismissed or introduced while they were computed
    (their own refresh follows, but the page must not show them again meanwhile)."""
    from referrals.models import Introduction

    ids = {c.pk for s in found for c in (s.a, s.b)}
    done = set()
    if ids:
        done.update(
            SuggestionDismissal.objects.for_user(user)
            .filter(contact_low__in=ids, contact_high__in=ids)
            .values_list("contact_low", "contact_high")
        )
        done.update(
            tuple(sorted(pair))
            for pair in Introduction.objects.for_user(user)
            .filter(contact_a__in=ids, contact_b__in=ids)
            .values_list("contact_a", "contact_b")
        )
    return [
        StoredSuggestion(
            owner=user,
            position=position,
            a_id=s.a.pk,
            b_id=s.b.pk,
            kind=s.kind,
            score=s.score,
            reason=s.reason,
            a_text=s.a_text,
            b_text=s.b_text,
            b_label=s.b_label,
            highlights=s.highlights,
        )
        for position, s in enumerate(s for s in found if (s.low, s.high) not in done)
    ]


def sweep(now=None) -> int:
    """Enqueue again the refreshes that should have run by now; returns how many."""
    now = now or timezone.now()
    ids = list(
        SuggestionState.objects.filter(stale_since__lt=now - SWEEP_AFTER)
        .order_by("stale_since")
        .values_list("owner_id", flat=True)[:SWEEP_BATCH]
    )
    for owner_id in ids:
        enqueue(owner_id)
    return len(ids)


def refresh_everyone(now=None) -> int:
    """Nightly: every user's suggestions are stale (recency has moved); enqueue them all."""
    now = now or timezone.now()
    ids = list(SuggestionState.objects.values_list("owner_id", flat=True))
    SuggestionState.objects.update(
        version=F("version") + 1, stale_since=Coalesce("stale_since", now)
    )
    for owner_id in ids:
        enqueue(owner_id)
    return len(ids)


# --- Reading ---------------------------------------------------------------------------------


def current(user, limit: int) -> tuple[list, bool]:
    """(the best ``limit`` suggestions, whether they are known): the stored ones, read
    through the user's active contacts (two queries); before the first refresh, computed
    now for a small network, or ([], False) while the refresh of a big one runs."""
    from contacts.models import Contact

    from .suggestions import Suggestion, suggest

    computed_at, big = _state(user)
    if computed_at is not None:
        rows = list(StoredSuggestion.objects.for_user(user).order_by("position")[:limit])
        ids = {i for row in rows for i in (row.a_id, row.b_id)}
        # The pages show a contact's name and link: the rest of the row is not read.
        contacts = (
            Contact.objects.for_user(user).active().only("pk", "owner", "name").in_bulk(ids)
            if ids
            else {}
        )
        return [
            Suggestion(
                a=contacts[row.a_id],
                b=contacts[row.b_id],
                reason=row.reason,
                score=row.score,
                highlights=row.highlights,
                kind=row.kind,
                a_text=row.a_text,
                b_text=row.b_text,
                b_label=row.b_label,
            )
            for row in rows
            if row.a_id in contacts and row.b_id in contacts
        ], True
    if not big:
        return suggest(user, limit=limit), True
    kick(user)
    return [], False


def _state(user) -> tuple:
    """(when the last refresh ran or None, whether the network is too big to match in a
    request: only asked before the first refresh), in one query."""
    from django.contrib.auth import get_user_model

    from contacts.models import GainsFact

    from .suggestions import KIND_WORD

    computed = SuggestionState.objects.filter(owner=OuterRef("pk")).values("computed_at")[:1]
    facts = GainsFact.objects.filter(owner=OuterRef("pk"), kind__in=list(KIND_WORD))
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(computed=Subquery(computed))
        .annotate(
            big=Case(
                When(computed__isnull=True, then=Exists(facts[SYNC_FACTS - 1 :])),
                default=Value(False),
            )
        )
        .values_list("computed", "big")
        .first()
    ) or (None, False)


def forget(user, a: int, b: int) -> None:
    """The pair is dismissed or introduced: off the stored list now (either order)."""
    StoredSuggestion.objects.for_user(user).filter(Q(a_id=a, b_id=b) | Q(a_id=b, b_id=a)).delete()


# --- What marks a user stale (besides strength's inputs) -----------------------------------


def _owner_changed(sender, instance, **kwargs) -> None:
    mark_stale([instance.owner_id])


def _user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    # The profession decides the sphere of a plan not saved yet.
    if not created and (update_fields is None or "profession" in update_fields):
        mark_stale([instance.pk])


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    from contacts import seeding
    from contacts.models import Contact

    from .models import NetworkingPlan

    # A contact renamed, archived, moved to another company or profession; the plan's
    # sphere; "not a fit" taken back. Deleted contacts simply drop out when read.
    for model in (Contact, NetworkingPlan, SuggestionDismissal):
        uid = f"plan.precompute.{model.__name__}"
        post_save.connect(_owner_changed, sender=model, dispatch_uid=f"{uid}.save")
    post_delete.connect(
        _owner_changed, sender=SuggestionDismissal, dispatch_uid="plan.precompute.undismiss"
    )
    post_save.connect(_user_saved, sender=get_user_model(), dispatch_uid="plan.precompute.user")
    seeding.register_global(_seed_suggestions)


def _seed_suggestions(*, options, demo_user, **kwargs):
    """``seed_demo``: the seeded users' suggestions are computed (after their strength)."""
    from collections import Counter

    from django.contrib.auth import get_user_model

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # statistics of the bulk load, for the matcher
            cursor.execute("ANALYZE contacts_contact, contacts_gainsfact")
    if demo_user is not None:
        users = [demo_user.pk]
    else:
        first = options.get("first_user") or 1
        count = options.get("users") or 1
        emails = [f"user{i}@example.com" for i in range(first, first + count)]
        users = list(get_user_model().objects.filter(email__in=emails).values_list("pk", flat=True))
    # Seeding bulk-creates (no signals): whatever was stored before is out of date.
    SuggestionState.objects.filter(owner_id__in=users).update(version=F("version") + 1)
    return Counter({"suggestion refreshes": sum(refresh(pk) for pk in users)})
