"""This week's small steps: three one-click actions for the dashboard.

- ``introduce``: the best suggested introduction not dismissed this week, read from the
  stored suggestions (``plan.precompute``); the dashboard loads it after the page
  (``introduction_step``), so the widget's own queries stay three;
- ``call``: a stalled connection to call, strongest first then most overdue, with one of
  their GAINS facts as the reason to call;
- ``thanks``: a received referral that closed won and has not been thanked.

Each step has a ``key`` ("intro:3-9", "call:42", "thanks:7"); "Not this week" stores a
``StepDismissal`` until the end of the week (Sunday), so the step comes back on Monday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import JSONObject
from django.utils import timezone

from contacts.models import Contact, GainsFact, GainsKind, Stage
from referrals.models import Direction, Referral, Status

from .models import StepDismissal

# How many suggested introductions to read to find one not dismissed this week.
SUGGESTIONS = 5
KEY = re.compile(r"^(?:intro:(\d{1,18})-(\d{1,18})|(call|thanks):(\d{1,18}))$")

# Which GAINS fact gives the reason to call, best first, and how it is worded.
REASON_ORDER = [
    GainsKind.GOAL,
    GainsKind.ACCOMPLISHMENT,
    GainsKind.INTEREST,
    GainsKind.NETWORK,
    GainsKind.SKILL,
]
REASON_WORDING = {
    GainsKind.GOAL: "Ask how it is going: “{}”",
    GainsKind.ACCOMPLISHMENT: "Congratulate them again: “{}”",
    GainsKind.INTEREST: "Ask about “{}”",
    GainsKind.NETWORK: "Ask what is new with “{}”",
    GainsKind.SKILL: "Ask what work they want more of: “{}”",
}


@dataclass
class Step:
    kind: str  # "introduce", "call" or "thanks"
    key: str
    title: str
    reason: str
    contact: Contact | None = None
    referral: Referral | None = None
    suggestion: object | None = None  # plan.suggestions.Suggestion


def week_end(day: date) -> date:
    """The Sunday ending ``day``'s week: a dismissed step comes back the Monday after."""
    return day + timedelta(days=6 - day.weekday())


def parse_key(key: str) -> tuple[str, tuple[int, ...]] | None:
    """("intro", (low, high)), ("call", (contact,)), ("thanks", (referral,)) or None."""
    m = KEY.match(key or "")
    if not m:
        return None
    if m.group(1):
        low, high = int(m.group(1)), int(m.group(2))
        return ("intro", (low, high)) if low < high else None
    return m.group(3), (int(m.group(4)),)


def intro_key(low: int, high: int) -> str:
    return f"intro:{low}-{high}"


def dismissed_keys(user, today: date) -> set[str]:
    """Keys of the steps dismissed this week (one query)."""
    return set(
        StepDismissal.objects.for_user(user).filter(until__gte=today).values_list("key", flat=True)
    )


def dismiss(user, key: str, today: date | None = None) -> StepDismissal:
    """ "Not this week": hide the step until Sunday (again: moves the date, never two rows)."""
    today = today or timezone.localdate()
    until = week_end(today)
    try:
        with transaction.atomic():
            row, _ = StepDismissal.objects.update_or_create(
                owner=user, key=key, defaults={"until": until}
            )
    except IntegrityError:  # the same click in another tab at the same moment
        row = StepDismissal.objects.get(owner=user, key=key)
    return row


def _ids(keys: set[str], kind: str) -> list[int]:
    out = []
    for key in keys:
        parsed = parse_key(key)
        if parsed and parsed[0] == kind:
            out.append(parsed[1][0])
    return out


def call_step(user, dismissed: set[str]) -> Step | None:
    """The strongest stalled connection, most overdue first among equals, with the GAINS
    fact to ask about (one query: the fact is a subquery, goals before interests...)."""
    facts = (
        GainsFact.objects.filter(contact=OuterRef("pk"))
        .annotate(
            rank=Case(
                *[When(kind=k, then=Value(i)) for i, k in enumerate(REASON_ORDER)],
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "-learned_on", "-pk")
    )
    contact = (
        Contact.objects.for_user(user)
        .stalled()
        .filter(stage=Stage.CONNECTION)
        .exclude(pk__in=_ids(dismissed, "call"))
        .annotate(reason=Subquery(facts.values(fact=JSONObject(kind="kind", text="text"))[:1]))
        .order_by("-strength", F("touch_due_at").asc(nulls_last=True), "pk")
        .only("pk", "name", "company", "strength", "touch_due_at", "last_touched_at")
        .first()
    )
    if contact is None:
        return None
    if contact.reason:
        reason = REASON_WORDING[contact.reason["kind"]].format(contact.reason["text"])
    elif contact.last_touched_at:
        reason = f"No touch for {contact.days_since_touch} days: ask what they are working on."
    else:
        reason = "You have not met yet: ask for a one-to-one."
    return Step(
        kind="call",
        key=f"call:{contact.pk}",
        title=f"Call {contact.name}",
        reason=reason,
        contact=contact,
    )


def thanks_step(user, dismissed: set[str]) -> Step | None:
    """The oldest received referral closed won without a thank-you (one query, through the
    partial index ``plan_thanks_owed_idx``; a partner since deleted has nobody to thank)."""
    referral = (
        Referral.objects.for_user(user)
        .filter(direction=Direction.RECEIVED, status=Status.WON, thanks_sent_on__isnull=True)
        .filter(partner__isnull=False)
        .exclude(pk__in=_ids(dismissed, "thanks"))
        .select_related("partner")
        .order_by("closed_on", "pk")
        .first()
    )
    if referral is None:
        return None
    value = f" ({referral.value_display})" if referral.value else ""
    return Step(
        kind="thanks",
        key=f"thanks:{referral.pk}",
        title=f"Thank {referral.partner.name}",
        reason=f"Their referral of {referral.prospect_name} closed{value}.",
        contact=referral.partner,
        referral=referral,
    )


def this_week(user, today: date | None = None) -> list[Step]:
    """The call and thank-you steps (three queries); the introduction loads separately."""
    if user is None or not user.is_authenticated:
        return []
    dismissed = dismissed_keys(user, today or timezone.localdate())
    return [s for s in (call_step(user, dismissed), thanks_step(user, dismissed)) if s]


def introduction_step(user, today: date | None = None) -> Step | None:
    """The best suggested introduction not dismissed this week, or None (also when the
    suggestions find nothing, or are still being found): the stored ones, plan.precompute."""
    from .precompute import current

    if user is None or not user.is_authenticated:
        return None
    dismissed = dismissed_keys(user, today or timezone.localdate())
    for s in current(user, SUGGESTIONS)[0]:
        key = intro_key(min(s.a.pk, s.b.pk), max(s.a.pk, s.b.pk))
        if key in dismissed:
            continue
        return Step(
            kind="introduce",
            key=key,
            title=f"Introduce {s.a.name} to {s.b.name}",
            reason=s.reason,
            suggestion=s,
        )
    return None
