"""Relationship strength: a transparent 0-100 score per contact, stored on the contact.

The score is the sum of five parts, each shown with its points and why:

- **Recency** 0-25: touched within 14 days is 25, falling evenly to 0 at a year.
- **Frequency** 0-20: 2 points per touch in the last 12 months (10 touches or more: 20).
- **Reciprocity** 0-25: what the user gave them (referrals given x 3, introductions x 2,
  spends x 1; at most 10), what they gave the user (referrals received x 3; at most 10), and 5
  more when it goes both ways.
- **GAINS** 0-15: 3 for each of the five kinds known.
- **Stage** 0-15: contact 0, acquaintance 8, connection 15.

``compute(contacts)`` scores a batch in a fixed number of aggregate queries, as of now and
as of the start of this quarter (inputs dated before it only), for the trend arrow. Stage
history is not kept, so last quarter's score uses today's stage.

``Contact.strength``, ``strength_parts`` and ``strength_before`` are written by
``refresh(ids)`` only, with ``bulk_update`` (no signals, so no recursion). Signal receivers
(``connect``) collect the contacts whose inputs changed and refresh them once when the
transaction commits (``schedule``); a daily task refreshes everyone, since recency decays
with time alone. Code that bulk-creates inputs (``bulk_create`` sends no signal) calls
``schedule(ids)`` itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import cache

from celery import shared_task
from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_delete
from django.utils import timezone

from contacts.models import Contact, GainsFact, GainsKind, Meeting, Stage
from referralcrm.oncommit import OnCommit

from . import precompute

BATCH_SIZE = 1000
YEAR = timedelta(days=365)

RECENCY_MAX, RECENCY_FULL_DAYS, RECENCY_ZERO_DAYS = 25, 14, 365
FREQUENCY_MAX, FREQUENCY_PER_TOUCH = 20, 2
RECIPROCITY_MAX, GIVE_MAX, RECEIVE_MAX, BOTH_WAYS = 25, 10, 10, 5
PER_REFERRAL, PER_INTRODUCTION, PER_SPEND = 3, 2, 1
GAINS_MAX, PER_GAINS_KIND = 15, 3
STAGE_MAX = 15
STAGE_POINTS = {Stage.CONTACT: 0, Stage.ACQUAINTANCE: 8, Stage.CONNECTION: 15}


def quarter_start(now: datetime) -> datetime:
    """Midnight of the first day of ``now``'s quarter, in the site's time zone (not the
    user's: a refresh after a request and the nightly one must agree)."""
    zone = timezone.get_default_timezone()
    local = timezone.localtime(now, zone)
    first = date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
    return timezone.make_aware(datetime.combine(first, datetime.min.time()), zone)


# --- The score, from counts ------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _days_ago(days: int) -> str:
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def recency_points(days: int | None) -> int:
    if days is None or days >= RECENCY_ZERO_DAYS:
        return 0
    if days <= RECENCY_FULL_DAYS:
        return RECENCY_MAX
    span = RECENCY_ZERO_DAYS - RECENCY_FULL_DAYS
    return round(RECENCY_MAX * (RECENCY_ZERO_DAYS - days) / span)


def score_parts(
    *,
    days_since_touch: int | None,
    touches: int,
    given: int,
    received: int,
    introductions: int,
    spends: int,
    gains_kinds: int,
    stage: str,
) -> list[dict]:
    """The five parts of the score, each ``{key, label, points, max, why}``."""
    if days_since_touch is None:
        recency_why = "never met"
    elif days_since_touch >= RECENCY_ZERO_DAYS:
        # Not "412 days ago": words that change daily would rewrite every row every night.
        recency_why = "last touch over a year ago"
    else:
        recency_why = f"last touch {_days_ago(days_since_touch)}"

    give = min(GIVE_MAX, PER_REFERRAL * given + PER_INTRODUCTION * introductions + spends)
    receive = min(RECEIVE_MAX, PER_REFERRAL * received)
    both = BOTH_WAYS if give and receive else 0
    ledger = [
        _plural(given, "referral") + " given",
        f"{received} received",
        _plural(introductions, "introduction"),
        _plural(spends, "spend"),
    ]
    if both:
        reciprocity_why = "; ".join([", ".join(ledger), f"both ways +{BOTH_WAYS}"])
    elif give and not receive:
        reciprocity_why = "; ".join([", ".join(ledger), "nothing back yet"])
    elif receive and not give:
        reciprocity_why = "; ".join([", ".join(ledger), "nothing given back yet"])
    else:
        reciprocity_why = "no referrals, introductions or spends yet"

    stage_label = Stage(stage).label if stage in Stage.values else stage
    return [
        {
            "key": "recency",
            "label": "Recency",
            "points": recency_points(days_since_touch),
            "max": RECENCY_MAX,
            "why": recency_why,
        },
        {
            "key": "frequency",
            "label": "Frequency",
            "points": min(FREQUENCY_MAX, FREQUENCY_PER_TOUCH * touches),
            "max": FREQUENCY_MAX,
            "why": f"{touches} touch{'' if touches == 1 else 'es'} in the last 12 months",
        },
        {
            "key": "reciprocity",
            "label": "Reciprocity",
            "points": give + receive + both,
            "max": RECIPROCITY_MAX,
            "why": reciprocity_why,
        },
        {
            "key": "gains",
            "label": "GAINS",
            "points": PER_GAINS_KIND * gains_kinds,
            "max": GAINS_MAX,
            "why": f"{gains_kinds} of {len(GainsKind.values)} kinds known",
        },
        {
            "key": "stage",
            "label": "Stage",
            "points": STAGE_POINTS.get(stage, 0),
            "max": STAGE_MAX,
            "why": stage_label.lower(),
        },
    ]


def total(parts: list[dict]) -> int:
    return max(0, min(100, sum(p["points"] for p in parts)))


# --- The inputs, for a batch of contacts ---------------------------------------------


def _inputs(ids: list[int], now: datetime, cut: datetime) -> dict[int, dict]:
    """Per contact id: its counts as of ``now`` (key "now") and as of ``cut`` ("before").

    Five aggregate queries, whatever the number of contacts."""
    cut_day = timezone.localdate(cut, timezone.get_default_timezone())
    now_counts: dict[int, Counter] = defaultdict(Counter)
    before: dict[int, Counter] = defaultdict(Counter)
    last_now: dict[int, datetime | None] = {}
    last_before: dict[int, datetime | None] = {}

    Attendance = Meeting.attendees.through
    when = "meeting__occurred_at"
    for row in (
        Attendance.objects.filter(contact_id__in=ids, **{f"{when}__lte": now})
        .values("contact_id")
        .annotate(
            touches=Count("pk", filter=Q(**{f"{when}__gt": now - YEAR})),
            last=Max(when),
            touches_before=Count("pk", filter=Q(**{f"{when}__gt": cut - YEAR, f"{when}__lt": cut})),
            last_before=Max(when, filter=Q(**{f"{when}__lt": cut})),
        )
    ):
        cid = row["contact_id"]
        now_counts[cid]["touches"] = row["touches"]
        before[cid]["touches"] = row["touches_before"]
        last_now[cid] = row["last"]
        last_before[cid] = row["last_before"]

    from referrals.models import Direction, Introduction, Referral, Spend

    for row in (
        Referral.objects.filter(partner_id__in=ids)
        .values("partner_id")
        .annotate(
            given=Count("pk", filter=Q(direction=Direction.GIVEN)),
            received=Count("pk", filter=Q(direction=Direction.RECEIVED)),
            given_before=Count("pk", filter=Q(direction=Direction.GIVEN, referred_on__lt=cut_day)),
            received_before=Count(
                "pk", filter=Q(direction=Direction.RECEIVED, referred_on__lt=cut_day)
            ),
        )
    ):
        cid = row["partner_id"]
        now_counts[cid].update(given=row["given"], received=row["received"])
        before[cid].update(given=row["given_before"], received=row["received_before"])

    # Introductions: the contact on either side (one query, two aggregates united).
    by_a = (
        Introduction.objects.filter(contact_a_id__in=ids)
        .values("contact_a_id")
        .annotate(n=Count("pk"), n_before=Count("pk", filter=Q(introduced_on__lt=cut_day)))
        .values_list("contact_a_id", "n", "n_before")
        .order_by()  # SQLite allows no ORDER BY inside a UNION
    )
    by_b = (
        Introduction.objects.filter(contact_b_id__in=ids)
        .values("contact_b_id")
        .annotate(n=Count("pk"), n_before=Count("pk", filter=Q(introduced_on__lt=cut_day)))
        .values_list("contact_b_id", "n", "n_before")
        .order_by()  # SQLite allows no ORDER BY inside a UNION
    )
    for cid, n, n_before in by_a.union(by_b, all=True):
        now_counts[cid]["introductions"] += n
        before[cid]["introductions"] += n_before

    for row in (
        Spend.objects.filter(contact_id__in=ids)
        .values("contact_id")
        .annotate(n=Count("pk"), n_before=Count("pk", filter=Q(spent_on__lt=cut_day)))
    ):
        now_counts[row["contact_id"]]["spends"] = row["n"]
        before[row["contact_id"]]["spends"] = row["n_before"]

    for cid, _kind, first in (
        GainsFact.objects.filter(contact_id__in=ids)
        .values("contact_id", "kind")
        .annotate(first=Min("learned_on"))
        .values_list("contact_id", "kind", "first")
    ):
        now_counts[cid]["gains_kinds"] += 1
        if first < cut_day:
            before[cid]["gains_kinds"] += 1

    return {
        cid: {
            "now": (now_counts[cid], last_now.get(cid)),
            "before": (before[cid], last_before.get(cid)),
        }
        for cid in ids
    }


def _parts_from(counts: Counter, last: datetime | None, at: datetime, stage: str) -> list[dict]:
    return score_parts(
        days_since_touch=(at - last).days if last else None,
        touches=counts["touches"],
        given=counts["given"],
        received=counts["received"],
        introductions=counts["introductions"],
        spends=counts["spends"],
        gains_kinds=min(counts["gains_kinds"], len(GainsKind.values)),
        stage=stage,
    )


def compute_with_before(
    contacts: Iterable[Contact], now: datetime | None = None
) -> dict[int, tuple[int, list[dict], int | None]]:
    """``{contact id: (score, parts, score at the start of this quarter or None)}``;
    None for a contact created this quarter. Five queries."""
    now = now or timezone.now()
    cut = quarter_start(now)
    contacts = list(contacts)
    if not contacts:
        return {}
    inputs = _inputs([c.pk for c in contacts], now, cut)
    result = {}
    for contact in contacts:
        counts, last = inputs[contact.pk]["now"]
        parts = _parts_from(counts, last, now, contact.stage)
        if contact.created_at and contact.created_at >= cut:
            score_before = None
        else:
            counts_b, last_b = inputs[contact.pk]["before"]
            score_before = total(_parts_from(counts_b, last_b, cut, contact.stage))
        result[contact.pk] = (total(parts), parts, score_before)
    return result


def compute(
    contacts: Iterable[Contact], now: datetime | None = None
) -> dict[int, tuple[int, list[dict]]]:
    """``{contact id: (score, parts)}`` for a batch of contacts, in five queries."""
    return {
        cid: (score, parts) for cid, (score, parts, _) in compute_with_before(contacts, now).items()
    }


# --- Writing it ------------------------------------------------------------------


def refresh(
    contact_ids: Iterable[int], now: datetime | None = None, owners: set[int] | None = None
) -> int:
    """Recompute and store the strength of these contacts (ids of deleted ones are
    ignored); returns how many rows changed. Per batch of 1,000: one read, five
    aggregates, and one bulk update of the contacts whose score or parts changed.
    ``owners``, if given, collects the ids of the contacts' owners."""
    ids = sorted({int(i) for i in contact_ids if i})
    now = now or timezone.now()
    changed_total = 0
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        contacts = list(
            Contact.objects.filter(pk__in=batch).only(
                "pk",
                "owner",
                "stage",
                "created_at",
                "strength",
                "strength_parts",
                "strength_before",
            )
        )
        if owners is not None:
            owners.update(c.owner_id for c in contacts)
        changed = []
        results = compute_with_before(contacts, now)
        for contact in contacts:
            score, parts, before = results[contact.pk]
            stored = {"parts": parts}
            if (contact.strength, contact.strength_parts, contact.strength_before) != (
                score,
                stored,
                before,
            ):
                contact.strength, contact.strength_parts = score, stored
                contact.strength_before = before
                changed.append(contact)
        if changed:
            Contact.objects.bulk_update(
                changed, ["strength", "strength_parts", "strength_before"], batch_size=BATCH_SIZE
            )
        changed_total += len(changed)
    return changed_total


def refresh_all(owner=None, now: datetime | None = None) -> int:
    """Refresh every contact (of ``owner`` if given) in batches of 1,000."""
    contacts = Contact.objects.all() if owner is None else Contact.objects.filter(owner=owner)
    ids = list(contacts.order_by("pk").values_list("pk", flat=True))
    return refresh(ids, now)


@shared_task(name="plan.refresh_all_strength", ignore_result=True)
def refresh_all_strength() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): recency decays with time, without any write."""
    return refresh_all()


# --- Refreshing when inputs change: once per transaction -------------------------


class _Pending(OnCommit):
    """The contacts (and meetings, whose attendees count) touched in this transaction. What
    changes strength changes the owners' stored suggestions too (plan.precompute): the owners
    of those contacts, and ``owner_ids`` (a deleted contact's), are marked stale after."""

    def __init__(self) -> None:
        super().__init__()
        self.contact_ids: set[int] = set()
        self.meeting_ids: set[int] = set()
        self.owner_ids: set[int] = set()
        self.origins: list = []  # querysets of meetings being deleted, already read

    def run(self) -> None:
        ids = set(self.contact_ids)
        if self.meeting_ids:
            ids.update(
                Meeting.attendees.through.objects.filter(
                    meeting_id__in=self.meeting_ids
                ).values_list("contact_id", flat=True)
            )
        owners = set(self.owner_ids)
        refresh(ids, owners=owners)
        precompute.stale_now(owners)


def _pending() -> _Pending:
    """This transaction's pending refresh (referralcrm.oncommit)."""
    return _Pending.current()


def schedule(
    contact_ids: Iterable[int] = (), meeting_ids: Iterable[int] = (), owner_ids: Iterable[int] = ()
) -> None:
    """Refresh these contacts when the transaction commits (now, outside one); the stored
    suggestions of their owners and of ``owner_ids`` are then stale."""
    contact_ids = {i for i in contact_ids if i}
    meeting_ids = {i for i in meeting_ids if i}
    owner_ids = {i for i in owner_ids if i}
    if not contact_ids and not meeting_ids and not owner_ids:
        return
    if not transaction.get_connection().in_atomic_block:
        pending = _Pending()
        pending.contact_ids, pending.meeting_ids = contact_ids, meeting_ids
        pending.owner_ids = owner_ids
        pending()
        return
    pending = _pending()
    pending.contact_ids |= contact_ids
    pending.meeting_ids |= meeting_ids
    pending.owner_ids |= owner_ids


# Which contact fields of each input model count; their values when loaded are kept so
# moving a referral from one partner to another refreshes both.
@cache
@cache  # read as each of these rows is loaded (post_init): built once
def _input_fields() -> dict:
    from referrals.models import Introduction, Referral, Spend

    return {
        GainsFact: ("contact_id",),
        Referral: ("partner_id",),
        Introduction: ("contact_a_id", "contact_b_id"),
        Spend: ("contact_id",),
    }


def _remember(sender, instance, **kwargs) -> None:
    fields = _input_fields()[sender]
    # __dict__, not getattr: a deferred field must not cost a query.
    instance._strength_loaded = [instance.__dict__.get(f) for f in fields]


def _input_changed(sender, instance, **kwargs) -> None:
    fields = _input_fields()[sender]
    ids = [getattr(instance, f) for f in fields]
    ids += getattr(instance, "_strength_loaded", [])
    # The owner too: a deleted contact's facts name no contact the refresh can still read.
    schedule(ids, owner_ids=[instance.owner_id])


def _meeting_saved(sender, instance, created, **kwargs) -> None:
    if not created:  # a new meeting has no attendees yet: m2m_changed follows
        schedule(meeting_ids=[instance.pk])


def _meeting_logged(sender, meeting, attendees, **kwargs) -> None:
    schedule([c.pk for c in attendees])


def _attendees_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "pre_remove", "pre_clear"):
        return
    if reverse:  # contact.meetings.add(...), .remove(...), .clear()
        schedule([instance.pk])
    elif action == "pre_clear":  # meeting.attendees.clear(): who they were, while we can
        schedule(_attendee_ids(meeting_id=instance.pk))
    else:
        schedule(pk_set or ())


def _attendee_ids(**filters) -> list[int]:
    return list(
        Meeting.attendees.through.objects.filter(**filters).values_list("contact_id", flat=True)
    )


def _meeting_deleting(sender, instance, origin=None, **kwargs) -> None:
    """Attendance rows go without a signal of their own (Django sends none for an
    auto-created through model), so read the attendees before they go: one query for a
    meeting deleted by itself, one per queryset for ``Meeting.objects.filter(...).delete()``."""
    if isinstance(origin, QuerySet) and origin.model is Meeting:
        pending = _pending()
        if any(seen is origin for seen in pending.origins):
            return
        pending.origins.append(origin)
        schedule(_attendee_ids(meeting__in=origin.values("pk")))
    else:
        schedule(_attendee_ids(meeting_id=instance.pk))


def _contact_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    # Stage and last touch are inputs; archiving, say, is not.
    if update_fields is None or {"stage", "last_touched_at"} & set(update_fields):
        schedule([instance.pk])


def _seed_strength(*, options, demo_user, now, **kwargs) -> Counter:
    """``seed_demo``: the seeded users' contacts get their strength."""
    from django.contrib.auth import get_user_model

    if demo_user is not None:
        users = [demo_user]
    else:
        first = options.get("first_user") or 1
        count = options.get("users") or 1
        emails = [f"user{i}@example.com" for i in range(first, first + count)]
        users = list(get_user_model().objects.filter(email__in=emails))
    refreshed = sum(refresh_all(user, now) for user in users)
    return Counter({"strength scores": refreshed})


def strength_panel(request, contact):
    from referralcrm.dashboard import Widget

    return Widget("plan/strength_panel.html", {"contact": contact, "trend": trend(contact)})


def trend(contact: Contact) -> dict:
    """The arrow and its words: this quarter against last."""
    before, now = contact.strength_before, contact.strength
    if before is None:
        return {"arrow": "", "direction": "new", "text": "new this quarter"}
    if now > before:
        return {"arrow": "↑", "direction": "up", "text": f"up from {before} last quarter"}
    if now < before:
        return {"arrow": "↓", "direction": "down", "text": f"down from {before} last quarter"}
    return {"arrow": "→", "direction": "same", "text": f"same as last quarter ({before})"}


def connect() -> None:
    from contacts import meetings, panels, seeding

    for model in _input_fields():
        uid = f"plan.strength.{model.__name__}"
        post_init.connect(_remember, sender=model, dispatch_uid=f"{uid}.init")
        post_save.connect(_input_changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(_input_changed, sender=model, dispatch_uid=f"{uid}.delete")
    post_save.connect(_meeting_saved, sender=Meeting, dispatch_uid="plan.strength.meeting")
    meetings.meeting_logged.connect(_meeting_logged, dispatch_uid="plan.strength.logged")
    Attendance = Meeting.attendees.through
    m2m_changed.connect(_attendees_changed, sender=Attendance, dispatch_uid="plan.strength.m2m")
    pre_delete.connect(_meeting_deleting, sender=Meeting, dispatch_uid="plan.strength.delete")
    post_save.connect(_contact_saved, sender=Contact, dispatch_uid="plan.strength.contact")
    panels.register(strength_panel)
    seeding.register_global(_seed_strength)
