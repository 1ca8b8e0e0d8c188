"""Gaps in a user's networking plan, each with a concrete next step.

- a sphere profession nobody in the network practises: "the preferred client's other suppliers
  nobody knows" → ask a connection which one they use and trust;
- a sphere profession known only as a contact or acquaintance → a one-to-one to grow it into a
  connection;
- a goal with no helper, or only placeholders still to find → ask a connection who could help.

``gaps(user)`` runs a fixed number of queries whatever the size of the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from contacts.models import Contact, Stage
from followups.models import FollowUp

from . import spheres
from .models import BusinessGoal, NetworkingPlan

# The connections a gap may go through; the step names the first, and a follow-up already
# made through any of them counts (so a change of ranking cannot duplicate it).
VIA_COUNT = 5
STEP_DUE_DAYS = 3
TITLE_LENGTH = 200


@dataclass
class Gap:
    key: str  # "sphere:bookkeeper", "goal:12": what the "Make it a follow-up" button posts
    kind: str  # "unknown", "not_connected", "goal"
    text: str  # what is missing, in words
    step: str  # the next step, in words
    contact: Contact | None = None  # whom the follow-up is with; None: no one to ask yet
    followup: FollowUp | None = None  # the open follow-up already made for this gap
    titles: list[str] = field(default_factory=list, repr=False)

    @property
    def title(self) -> str:
        return self.titles[0] if self.titles else ""


def _title(text: str) -> str:
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1] + "…"


def load_plan(user) -> NetworkingPlan:
    """The user's plan, or an unsaved one pre-filled from their profession (no write on GET)."""
    plan = NetworkingPlan.objects.filter(owner=user).first()
    if plan is None:
        plan = NetworkingPlan(owner=user, sphere=spheres.sphere_for(user.profession))
    return plan


def _profession_filter(professions: list[str]) -> Q | None:
    """A database pre-filter: contacts whose profession shares a word with a sphere profession
    or one of its synonyms (the exact loose match happens in Python)."""
    terms: set[str] = set()
    for profession in professions:
        name = spheres.canonical(profession)
        names = [profession]
        if name:
            names += [name, *(a for a, n in spheres.SYNONYMS.items() if n == name)]
        for text in names:
            terms.update(w for w in spheres.words(text) if len(w) >= 2)
    if not terms:
        return None
    return reduce(or_, (Q(profession__icontains=t) for t in sorted(terms)))


def _goal_words(goal: BusinessGoal) -> str:
    text = goal.text
    return f"“{text if len(text) <= 80 else text[:79] + '…'}”"


def gaps(user, plan: NetworkingPlan | None = None, goals: list[BusinessGoal] | None = None):
    """The gaps of ``user``'s plan (pass ``plan``/``goals`` already loaded to save queries;
    goals need their helpers prefetched)."""
    plan = plan if plan is not None else load_plan(user)
    if goals is None:
        goals = list(BusinessGoal.objects.for_user(user).prefetch_related("helpers"))
    active = Contact.objects.for_user(user).active()
    via = list(
        active.filter(stage=Stage.CONNECTION)
        .order_by("-strength", F("last_touched_at").desc(nulls_last=True), "name", "pk")
        .only("pk", "name", "profession", "strength")[:VIA_COUNT]
    )

    candidates: list[Contact] = []
    condition = _profession_filter(plan.sphere)
    if condition is not None:
        candidates = list(
            active.filter(condition)
            .order_by("-strength", F("last_touched_at").desc(nulls_last=True), "name", "pk")
            .only("pk", "name", "profession", "stage", "strength")
        )

    found: list[Gap] = []
    for profession in plan.sphere:
        known = [c for c in candidates if spheres.matches(profession, c.profession)]
        if any(c.stage == Stage.CONNECTION for c in known):
            continue
        if known:
            best = known[0]
            found.append(
                Gap(
                    key=f"sphere:{profession.lower()}",
                    kind="not_connected",
                    text=f"No {profession} among your connections: you know {best.name}, "
                    f"but not yet well enough to refer.",
                    step=f"Book a one-to-one with {best.name} ({profession}).",
                    contact=best,
                    titles=[_title(f"Book a one-to-one with {best.name} ({profession})")],
                )
            )
            continue
        gap = Gap(
            key=f"sphere:{profession.lower()}",
            kind="unknown",
            text=f"No {profession} in your network: your preferred client's {profession} "
            f"is someone nobody you know knows yet.",
            step=f"Look for a {profession} at your next event.",
        )
        if via:
            gap.contact = via[0]
            gap.titles = [
                _title(f"Ask {c.name} which {profession} they use and trust") for c in via
            ]
            gap.step = f"Ask {via[0].name} which {profession} they use and trust."
        found.append(gap)

    for goal in goals:
        helpers = list(goal.helpers.all())
        if any(h.contact_id for h in helpers):
            continue
        wanted = [h.placeholder for h in helpers if h.placeholder]
        goal_words = _goal_words(goal)
        if wanted:
            who = " or ".join(f"a {p}" for p in wanted[:3])
            text = f"Goal {goal_words}: you are still looking for {who}."
            ask = [f"Ask {c.name} to introduce me to {who} (goal: {goal.text})" for c in via]
            step = (
                f"Ask {via[0].name} to introduce you to {who}."
                if via
                else (f"Look for {who} at your next event.")
            )
        else:
            text = f"Goal {goal_words} has nobody to help with it yet."
            ask = [f"Ask {c.name} who could help me {goal.text}" for c in via]
            step = (
                f"Ask {via[0].name} who could help with it."
                if via
                else "Name who could help: one of your contacts, or someone who is a …"
            )
        found.append(
            Gap(
                key=f"goal:{goal.pk}",
                kind="goal",
                text=text,
                step=step,
                contact=via[0] if via else None,
                titles=[_title(t) for t in ask],
            )
        )

    _attach_followups(user, found, via)
    return found


def _attach_followups(user, found: list[Gap], via: list[Contact]) -> None:
    titles = {t for gap in found for t in gap.titles}
    if not titles:
        return
    open_ones = {
        (f.contact_id, f.title): f
        for f in FollowUp.objects.for_user(user)
        .pending()
        .filter(title__in=titles)
        .select_related("contact")
    }
    for gap in found:
        people = [gap.contact] if gap.kind == "not_connected" else via
        for contact, title in zip(people, gap.titles, strict=False):
            if (contact.pk, title) in open_ones:
                gap.followup = open_ones[(contact.pk, title)]
                break


def make_followup(user, key: str) -> tuple[Gap | None, bool]:
    """Turn the gap ``key`` into a follow-up: (gap, created). Idempotent: a gap that already
    has an open follow-up keeps it. (None, False) when there is no such gap."""
    with transaction.atomic():
        # Serialise concurrent clicks of the same user (a double submit) on the plan row.
        plan, _ = NetworkingPlan.objects.get_or_create(
            owner=user, defaults={"sphere": spheres.sphere_for(user.profession)}
        )
        plan = NetworkingPlan.objects.select_for_update().get(pk=plan.pk)
        gap = next((g for g in gaps(user, plan=plan) if g.key == key), None)
        if gap is None or gap.contact is None:
            return gap, False
        if gap.followup is not None:
            return gap, False
        gap.followup = FollowUp.objects.create(
            owner=user,
            contact=gap.contact,
            title=gap.title,
            due_on=timezone.localdate() + timedelta(days=STEP_DUE_DAYS),
        )
        return gap, True
