"""Gaps in a user's networking plan, each with a concrete next step.

- a sphere profession nobody in the network practises: "the preferred client's other suppliers
  nobody knows" → ask a connection which one they use and trust;
- a sphere profession known only as a contact or acquaintance → a one-to-one to grow it into a
  connection;
- a goal with no helper, or only placeholders still to find → ask a connection who could help.

``gaps(user)`` runs a fixed number of queries whatever the size of the network: which sphere
professions the network has comes from the last refresh (plan.precompute), since finding out
means reading every contact's profession.
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
from .models import BusinessGoal, NetworkingPlan, SuggestionState

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


def connections_first(user):
    """The user's active connections, strongest first: the helpers a gap's step asks."""
    return (
        Contact.objects.for_user(user)
        .active()
        .filter(stage=Stage.CONNECTION)
        .order_by("-strength", F("last_touched_at").desc(nulls_last=True), "name", "pk")
    )


def _known_live(user, professions: list[str]) -> dict[str, tuple[Contact | None, bool]]:
    """For each of ``professions`` (by lower case): the best active contact practising it
    and whether any of them is a connection, read from every contact that might (one query,
    the whole network: what the refresh stores, and what a page falls back to)."""
    found: dict[str, tuple[Contact | None, bool]] = {p.lower(): (None, False) for p in professions}
    condition = _profession_filter(professions)
    if condition is None:
        return found
    candidates = list(
        Contact.objects.for_user(user)
        .active()
        .filter(condition)
        .order_by("-strength", F("last_touched_at").desc(nulls_last=True), "name", "pk")
        .only("pk", "name", "profession", "stage", "strength")
    )
    for profession in professions:
        known = [c for c in candidates if spheres.matches(profession, c.profession)]
        connected = any(c.stage == Stage.CONNECTION for c in known)
        found[profession.lower()] = (known[0] if known else None, connected)
    return found


def sphere_coverage(user, professions: list[str]) -> dict[str, dict]:
    """What ``SuggestionState.sphere_known`` stores (plan.precompute refreshes it)."""
    return {
        key: {"best": best.pk if best else None, "connected": connected}
        for key, (best, connected) in _known_live(user, professions).items()
    }


def sphere_known(
    user, professions: list[str], live: bool = False
) -> dict[str, tuple[Contact | None, bool]]:
    """``_known_live`` from what the last refresh stored (two queries, whatever the size of
    the network); a profession it did not cover (the sphere was just edited) or whose best
    contact has gone since is read live."""
    wanted = [p for p in professions if str(p).strip()]
    stored = {} if live else _stored_coverage(user)
    ids = {e["best"] for p in wanted if (e := stored.get(p.lower())) and e.get("best")}
    contacts = Contact.objects.for_user(user).active().in_bulk(ids) if ids else {}
    found: dict[str, tuple[Contact | None, bool]] = {}
    missing = []
    for profession in wanted:
        entry = stored.get(profession.lower())
        if entry is None or (entry.get("best") and entry["best"] not in contacts):
            missing.append(profession)
        else:
            found[profession.lower()] = (contacts.get(entry.get("best")), entry.get("connected"))
    if missing:
        found.update(_known_live(user, missing))
    return found


def _stored_coverage(user) -> dict:
    row = (
        SuggestionState.objects.filter(owner=user, computed_at__isnull=False)
        .values_list("sphere_known", flat=True)
        .first()
    )
    return row or {}


def gaps(
    user,
    plan: NetworkingPlan | None = None,
    goals: list[BusinessGoal] | None = None,
    via: list[Contact] | None = None,
    live: bool = False,
):
    """The gaps of ``user``'s plan (pass ``plan``/``goals``/``via`` already loaded to save
    queries; goals need their helpers prefetched, ``via`` is ``connections_first``).
    ``live`` reads the network itself instead of the last refresh (to act on a gap)."""
    plan = plan if plan is not None else load_plan(user)
    if goals is None:
        goals = list(BusinessGoal.objects.for_user(user).prefetch_related("helpers"))
    if via is None:
        via = list(connections_first(user).only("pk", "name", "profession")[:VIA_COUNT])
    via = via[:VIA_COUNT]
    known = sphere_known(user, plan.sphere, live=live)

    found: list[Gap] = []
    for profession in plan.sphere:
        best, connected = known.get(profession.lower(), (None, False))
        if connected:
            continue
        if best is not None:
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
        gap = next((g for g in gaps(user, plan=plan, live=True) if g.key == key), None)
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
