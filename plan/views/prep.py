"""``/plan/prep/<contact>/``: the one-to-one prep brief (from the contact page, a follow-up
or a meeting); ``/plan/steps/…``: the one-click actions of "This week's small steps"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from contacts.models import Contact, Meeting
from followups.models import FollowUp
from referralcrm.http import parse_id, safe_next
from referrals.models import Referral

from .. import prep as prep_brief
from .. import steps

# The dashboard's live widgets refresh on this event (templates/dashboard.html).
REFRESH_EVENT = "followupChanged"


def _get_contact(request: HttpRequest, pk: int) -> Contact:
    return get_object_or_404(Contact.objects.for_user(request.user), pk=pk)


def _owned_id(request: HttpRequest, name: str) -> int | None:
    """The ``?name=<id>`` parameter: None when absent, 404 when not an id."""
    if name not in request.GET:
        return None
    pk = parse_id(request.GET[name])
    if pk is None:
        raise Http404(f"No such {name}.")
    return pk


# --- The prep brief ----------------------------------------------------------------------


@login_required
@require_GET
def prep(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _get_contact(request, contact_id)
    followup = meeting = None
    followup_id = _owned_id(request, "followup")
    if followup_id is not None:
        followup = get_object_or_404(
            FollowUp.objects.for_user(request.user).filter(contact=contact), pk=followup_id
        )
    meeting_id = _owned_id(request, "meeting")
    if meeting_id is not None:
        meeting = get_object_or_404(
            Meeting.objects.for_user(request.user).filter(attendees=contact), pk=meeting_id
        )
    brief = prep_brief.build_brief(request.user, contact)
    return render(
        request,
        "plan/prep.html",
        {"brief": brief, "contact": contact, "followup": followup, "meeting": meeting},
    )


# --- This week's small steps -------------------------------------------------------------


def _done(request: HttpRequest, message: str, level=messages.SUCCESS) -> HttpResponse:
    """htmx: no content, and the dashboard's live widgets refresh; else back with a message."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = REFRESH_EVENT
        return response
    messages.add_message(request, level, message)
    return redirect(safe_next(request))


@login_required
@require_GET
def step_introduction(request: HttpRequest) -> HttpResponse:
    """The introduction step, loaded by the dashboard widget after the page."""
    if not request.htmx:
        return redirect("plan:introductions")
    step = steps.introduction_step(request.user)
    return render(request, "plan/widgets/small_steps.html#introduction", {"step": step})


@login_required
@require_POST
def step_call(request: HttpRequest, contact_id: int) -> HttpResponse:
    """One click: a follow-up "Call <name>" due today (once), and the step is done for the week."""
    contact = _get_contact(request, contact_id)
    title = f"Call {contact.name}"[:200]
    with transaction.atomic():
        # Serialise on the contact row: two clicks at once make one follow-up.
        Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk").first()
        existing = (
            FollowUp.objects.for_user(request.user)
            .pending()
            .filter(contact=contact, title=title)
            .first()
        )
        if existing is None:
            FollowUp.objects.create(
                owner=request.user, contact=contact, title=title, due_on=timezone.localdate()
            )
    steps.dismiss(request.user, f"call:{contact.pk}")
    if existing is not None:
        return _done(request, f"“{title}” is already on your follow-ups.", messages.INFO)
    return _done(request, f"Follow-up added for today: “{title}”.")


@login_required
@require_POST
def step_thanks(request: HttpRequest, referral_id: int) -> HttpResponse:
    """One click: the thank-you for a referral that closed won is marked sent (once)."""
    with transaction.atomic():
        referral = get_object_or_404(
            Referral.objects.for_user(request.user)
            .select_for_update(of=("self",))
            .select_related("partner"),
            pk=referral_id,
        )
        due = referral.thanks_due
        if due:
            referral.mark_thanks_sent()
    if not due:
        return _done(request, "That thank-you was already sent.", messages.INFO)
    return _done(request, f"Thank-you to {referral.partner_label} marked as sent.")


@login_required
@require_POST
def step_dismiss(request: HttpRequest) -> HttpResponse:
    """ "Not this week": the step (one of the user's own) is hidden until Sunday."""
    key = request.POST.get("key", "")
    parsed = steps.parse_key(key)
    if parsed is None:
        raise Http404("No such step.")
    kind, ids = parsed
    if kind == "thanks":
        get_object_or_404(Referral.objects.for_user(request.user), pk=ids[0])
    else:
        found = Contact.objects.for_user(request.user).filter(pk__in=ids).count()
        if found != len(ids):
            raise Http404("No such contact.")
    steps.dismiss(request.user, key)
    return _done(request, "Hidden until next week.")


urlpatterns = [
    path("prep/<int:contact_id>/", prep, name="prep"),
    path("steps/introduction/", step_introduction, name="step_introduction"),
    path("steps/call/<int:contact_id>/", step_call, name="step_call"),
    path("steps/thanks/<int:referral_id>/", step_thanks, name="step_thanks"),
    path("steps/dismiss/", step_dismiss, name="step_dismiss"),
]
