"""``/plan/``: my networking plan (preferred client, contact sphere, business goals and their
helpers, gaps and next steps); ``/plan/event/``: event prep and capture."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts.meetings import FactInput, log_meeting
from contacts.models import Contact, Meeting, MeetingKind
from followups.models import FollowUp

from .. import gaps as plan_gaps
from .. import spheres
from ..forms import (
    MAX_GOALS,
    EventForm,
    GoalForm,
    HelperForm,
    PersonRowFormSet,
    PreferredClientForm,
    SphereForm,
)
from ..models import BusinessGoal, GoalHelper, NetworkingPlan

# The connections offered in a goal's "Add helper" list, strongest first.
HELPER_CHOICES = 300
USED_TOKENS = "plan_capture_used_tokens"
FOLLOW_UP_TITLE = "Follow up within 48 hours"


# --- Ownership helpers ------------------------------------------------------------


def _get_goal(request: HttpRequest, pk: int) -> BusinessGoal:
    return get_object_or_404(BusinessGoal.objects.for_user(request.user), pk=pk)


def _get_helper(request: HttpRequest, pk: int) -> GoalHelper:
    return get_object_or_404(GoalHelper.objects.for_user(request.user), pk=pk)


def _saved_plan(user) -> NetworkingPlan:
    plan, _ = NetworkingPlan.objects.get_or_create(
        owner=user, defaults={"sphere": spheres.sphere_for(user.profession)}
    )
    return plan


def _goals(user) -> list[BusinessGoal]:
    helpers = GoalHelper.objects.select_related("contact").order_by("pk")
    return list(
        BusinessGoal.objects.for_user(user).prefetch_related(Prefetch("helpers", queryset=helpers))
    )


def suggested_goals(plan: NetworkingPlan, goals: list[BusinessGoal]) -> list[str]:
    """Two or three goals to start from, until the user has two of their own."""
    if len(goals) >= 2:
        return []
    sphere = plan.sphere
    ideas = ["Get one referral a month from my contact sphere"]
    if len(sphere) >= 2:
        ideas.append(f"Build a referral partnership with a {sphere[0]} and a {sphere[1]}")
    elif sphere:
        ideas.append(f"Build a referral partnership with a {sphere[0]}")
    ideas.append("Meet three new people a month who serve my preferred client")
    have = {g.text.lower() for g in goals}
    return [idea for idea in ideas if idea.lower() not in have]


# --- The plan page ------------------------------------------------------------------


def _render_plan(request: HttpRequest, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    plan = plan_gaps.load_plan(user)
    goals = _goals(user)
    # (pk, name, profession) of the connections: the helper lists of the goals need up to
    # HELPER_CHOICES, the gaps' steps the first few.
    connections = list(
        plan_gaps.connections_first(user).values_list("pk", "name", "profession")[
            : HELPER_CHOICES if goals else plan_gaps.VIA_COUNT
        ]
    )
    via = [
        Contact(pk=pk, owner=user, name=name, profession=profession)
        for pk, name, profession in connections[: plan_gaps.VIA_COUNT]
    ]
    unpicked = _connection_options(connections, None) if goals else ""
    bound_goal = forms.get("goal_form_for")
    bound_helper = forms.get("helper_form_for")
    rows = []
    for position, goal in enumerate(goals, 1):
        goal_form = (
            forms["goal_form"]
            if bound_goal == goal.pk
            else GoalForm(
                owner=user, goal=goal, initial={"text": goal.text}, prefix=f"goal{goal.pk}"
            )
        )
        helper_form = (
            forms["helper_form"]
            if bound_helper == goal.pk
            else HelperForm(owner=user, goal=goal, prefix=f"helper{goal.pk}")
        )
        picked = helper_form["contact"].value() if helper_form.is_bound else None
        rows.append(
            {
                "goal": goal,
                "position": position,
                "form": goal_form,
                "helper_form": helper_form,
                "helpers": list(goal.helpers.all()),
                "options": _connection_options(connections, picked) if picked else unpicked,
            }
        )
    context = {
        "plan": plan,
        "saved": plan.pk is not None,
        "profession": user.profession,
        "suggested_sphere": spheres.sphere_for(user.profession),
        "client_form": forms.get("client_form")
        or PreferredClientForm(
            initial={
                "preferred_client": plan.preferred_client,
                "client_tags": ", ".join(plan.client_tags),
            }
        ),
        "sphere_form": forms.get("sphere_form")
        or SphereForm(initial={"sphere": "\n".join(plan.sphere)}),
        "goal_rows": rows,
        "new_goal_form": forms.get("new_goal_form") or GoalForm(owner=user, prefix="new"),
        "suggested_goals": suggested_goals(plan, goals),
        "can_add_goal": len(goals) < MAX_GOALS,
        "connections": connections,
        "gaps": plan_gaps.gaps(user, plan=plan, goals=goals, via=via),
    }
    return render(request, "plan/plan.html", context, status=status)


def _connection_options(connections: list[tuple], picked) -> str:
    """The ``<option>``s of a goal's "One of my connections" list, built once per page
    rather than by the template loop for every goal (300 connections, up to ten goals)."""
    picked = str(picked)
    # The only text in it, the names, is escaped here.
    return mark_safe(  # noqa: S308  # nosec B308 B703
        "".join(
            f'<option value="{pk}"{" selected" if str(pk) == picked else ""}>'
            f"{escape(f'{name} ({profession})' if profession else name)}</option>"
            for pk, name, profession in connections
        )
    )


@login_required
@require_GET
def plan_page(request: HttpRequest) -> HttpResponse:
    return _render_plan(request)


@login_required
@require_POST
def plan_client(request: HttpRequest) -> HttpResponse:
    form = PreferredClientForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, status=400, client_form=form)
    plan = _saved_plan(request.user)
    plan.preferred_client = form.cleaned_data["preferred_client"]
    plan.client_tags = form.cleaned_data["client_tags"]
    plan.save(update_fields=["preferred_client", "client_tags", "updated_at"])
    messages.success(request, "Your preferred client is saved.")
    return redirect("plan:plan")


@login_required
@require_POST
def plan_sphere(request: HttpRequest) -> HttpResponse:
    form = SphereForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, status=400, sphere_form=form)
    plan = _saved_plan(request.user)
    plan.sphere = form.cleaned_data["sphere"]
    plan.save(update_fields=["sphere", "updated_at"])
    messages.success(request, "Your contact sphere is saved.")
    return redirect(f"{_plan_url()}#sphere")


def _plan_url() -> str:
    return reverse("plan:plan")


@login_required
@require_POST
def goal_add(request: HttpRequest) -> HttpResponse:
    form = GoalForm(request.POST, owner=request.user, prefix="new")
    if not form.is_valid():
        return _render_plan(request, status=400, new_goal_form=form)
    last = BusinessGoal.objects.for_user(request.user).order_by("-position").first()
    BusinessGoal.objects.create(
        owner=request.user,
        text=form.cleaned_data["text"],
        position=(last.position + 1) if last else 1,
    )
    messages.success(request, "Goal added: now name who could help with it.")
    return redirect(f"{_plan_url()}#goals")


@login_required
@require_POST
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    goal = _get_goal(request, pk)
    form = GoalForm(request.POST, owner=request.user, goal=goal, prefix=f"goal{goal.pk}")
    if not form.is_valid():
        return _render_plan(request, status=400, goal_form=form, goal_form_for=goal.pk)
    goal.text = form.cleaned_data["text"]
    goal.save(update_fields=["text"])
    messages.success(request, "Goal saved.")
    return redirect(f"{_plan_url()}#goal-{goal.pk}")


@login_required
@require_POST
def goal_delete(request: HttpRequest, pk: int) -> HttpResponse:
    goal = _get_goal(request, pk)
    goal.delete()
    messages.success(request, "Goal removed.")
    return redirect(f"{_plan_url()}#goals")


@login_required
@require_POST
def helper_add(request: HttpRequest, pk: int) -> HttpResponse:
    goal = _get_goal(request, pk)
    form = HelperForm(request.POST, owner=request.user, goal=goal, prefix=f"helper{goal.pk}")
    if not form.is_valid():
        return _render_plan(request, status=400, helper_form=form, helper_form_for=goal.pk)
    GoalHelper.objects.create(
        owner=request.user,
        goal=goal,
        contact=form.cleaned_data["contact"],
        placeholder=form.cleaned_data["placeholder"],
    )
    messages.success(request, "Helper added.")
    return redirect(f"{_plan_url()}#goal-{goal.pk}")


@login_required
@require_POST
def helper_delete(request: HttpRequest, pk: int) -> HttpResponse:
    helper = _get_helper(request, pk)
    goal_pk = helper.goal_id
    helper.delete()
    messages.success(request, "Helper removed.")
    return redirect(f"{_plan_url()}#goal-{goal_pk}")


@login_required
@require_POST
def gap_step(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("key", "")[:200]
    gap, created = plan_gaps.make_followup(request.user, key)
    if gap is None or gap.followup is None:
        raise Http404("No such gap in your plan.")
    followup = gap.followup
    if created:
        messages.success(
            request, f"Follow-up added: “{followup.title}”, due {followup.due_on:%-d %B}."
        )
    else:
        messages.info(request, f"Already on your follow-ups: “{followup.title}”.")
    return redirect(f"{_plan_url()}#gaps")


# --- Event prep and capture ------------------------------------------------------------


@login_required
@require_GET
def event_prep(request: HttpRequest) -> HttpResponse:
    user = request.user
    plan = plan_gaps.load_plan(user)
    goals = _goals(user)
    known = plan_gaps.sphere_known(user, plan.sphere)
    sphere = [
        {"profession": p, "missing": not known.get(p.lower(), (None, False))[1]}
        for p in plan.sphere
    ]
    wanted = [
        {"goal": goal, "placeholders": [h.placeholder for h in goal.helpers.all() if h.placeholder]}
        for goal in goals
    ]
    context = {
        "plan": plan,
        "sphere": sphere,
        "wanted": [w for w in wanted if w["placeholders"]],
        "goals_without_helpers": [g for g in goals if not list(g.helpers.all())],
    }
    return render(request, "plan/event_prep.html", context)


def _new_token() -> str:
    return secrets.token_urlsafe(16)


def _occurred_at(day) -> datetime:
    now = timezone.now()
    when = timezone.make_aware(datetime.combine(day, time(12)))
    return min(when, now)


@login_required
@require_http_methods(["GET", "POST"])
def event_capture(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        event_form = EventForm(initial={"token": _new_token(), "date": timezone.localdate()})
        rows = PersonRowFormSet(prefix="people")
        return render(request, "plan/event_capture.html", {"form": event_form, "rows": rows})

    event_form = EventForm(request.POST)
    rows = PersonRowFormSet(request.POST, prefix="people")
    valid = event_form.is_valid() & rows.is_valid()
    people = [row.cleaned_data for row in rows if row.is_valid() and not row.is_blank]
    if valid and not people:
        event_form.add_error(None, "Add at least one person you met.")
        valid = False
    if not valid:
        context = {"form": event_form, "rows": rows}
        return render(request, "plan/event_capture.html", context, status=400)

    # A one-time token per form: the same form posted twice (a double click, the back
    # button) is saved once. _capture also refuses an identical capture under a lock.
    token = event_form.cleaned_data["token"]
    used = request.session.get(USED_TOKENS, [])
    if token in used:
        messages.info(request, "These people were already added.")
        return redirect("followups:list")
    event = event_form.cleaned_data["event"]
    day = event_form.cleaned_data["date"]
    contacts = _capture(request.user, event, day, people)
    request.session[USED_TOKENS] = [*used[-19:], token]
    if contacts is None:
        messages.info(request, "These people were already added.")
    else:
        names = ", ".join(c.name for c in contacts)
        messages.success(
            request,
            f"Added {len(contacts)} from {event}: {names}. Each has a follow-up due in 2 days.",
        )
    return redirect("followups:list")


@transaction.atomic
def _capture(user, event: str, day, people: list[dict]) -> list[Contact] | None:
    """Create the people met at ``event``, one event meeting with all of them, their GAINS
    facts and a 48-hour follow-up each. None when this very capture was already saved."""
    # Serialise a user's captures, then refuse an identical one (a double submit racing
    # past the session token): same event, same day, same names.
    plan = _saved_plan(user)
    NetworkingPlan.objects.select_for_update().filter(pk=plan.pk).first()
    names = sorted(p["name"] for p in people)
    earlier = (
        Meeting.objects.for_user(user)
        .filter(kind=MeetingKind.EVENT, place=event, occurred_at__date=day)
        .prefetch_related("attendees")
    )
    for meeting in earlier[:20]:
        if sorted(c.name for c in meeting.attendees.all()) == names:
            return None

    met_how = f"Met at {event} on {day:%-d %B %Y}"[:240]
    contacts = [
        Contact.objects.create(
            owner=user, name=p["name"], profession=p["profession"], met_how=met_how
        )
        for p in people
    ]
    facts = [
        FactInput(kind=p["fact_kind"], text=p["fact_text"], about=contact)
        for p, contact in zip(people, contacts, strict=True)
        if p["fact_text"]
    ]
    meeting = log_meeting(
        owner=user,
        occurred_at=_occurred_at(day),
        kind=MeetingKind.EVENT,
        attendees=contacts,
        place=event,
        facts=facts,
    )
    due = timezone.localdate() + timedelta(days=2)
    for contact in contacts:
        FollowUp.objects.create(
            owner=user, contact=contact, meeting=meeting, title=FOLLOW_UP_TITLE, due_on=due
        )
    return contacts


urlpatterns = [
    path("", plan_page, name="plan"),
    path("client/", plan_client, name="plan_client"),
    path("sphere/", plan_sphere, name="plan_sphere"),
    path("goals/", goal_add, name="goal_add"),
    path("goals/<int:pk>/", goal_edit, name="goal_edit"),
    path("goals/<int:pk>/delete/", goal_delete, name="goal_delete"),
    path("goals/<int:pk>/helpers/", helper_add, name="helper_add"),
    path("helpers/<int:pk>/delete/", helper_delete, name="helper_delete"),
    path("gaps/step/", gap_step, name="gap_step"),
    path("event/", event_prep, name="event_prep"),
    path("event/capture/", event_capture, name="event_capture"),
]
