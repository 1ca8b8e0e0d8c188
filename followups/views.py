from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from contacts.models import Contact, MeetingKind
from referralcrm.http import parse_id, safe_next

from . import calendar, digest, rows, tokens
from .forms import DigestPreferenceForm, FollowUpForm, SnoozeForm
from .models import DigestPreference, FollowUp, Status, new_calendar_token

LIST_LIMIT = 50
SNOOZES = {"day": 1, "week": 7, "month": 30}


def _get_followup(request: HttpRequest, pk: int) -> FollowUp:
    return get_object_or_404(FollowUp.objects.for_user(request.user), pk=pk)


def _changed(request: HttpRequest, followup: FollowUp, message: str) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(rows.render([followup], get_token(request)))
        response["HX-Trigger"] = "followupChanged"
        return response
    messages.success(request, message)
    return redirect(safe_next(request, "followups:list"))


@login_required
def followup_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    mine = FollowUp.objects.for_user(request.user)
    rows_of = mine.select_related("contact").only(*rows.FIELDS)
    # The ten last done first, then their contacts: joined before the LIMIT, PostgreSQL
    # read every contact and every done follow-up (80 ms with 10,000 contacts).
    last_done = mine.filter(status=Status.DONE).order_by("-completed_at").values("pk")[:10]
    context = {
        "overdue": list(rows_of.overdue(today)[:LIST_LIMIT]),
        "today_items": list(rows_of.due_today(today)[:LIST_LIMIT]),
        "upcoming": list(rows_of.upcoming(today)[:LIST_LIMIT]),
        "done": list(rows_of.filter(pk__in=last_done).order_by("-completed_at")),
        "limit": LIST_LIMIT,
        "form": FollowUpForm(owner=request.user),
    }
    return render(request, "followups/followup_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def followup_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    followup = _get_followup(request, pk) if pk else None
    initial = {}
    if not followup and (cid := parse_id(request.GET.get("contact"))):
        initial["contact"] = get_object_or_404(Contact.objects.for_user(request.user), pk=cid)
    form = FollowUpForm(
        request.POST or None, instance=followup, owner=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Follow-up saved: {saved.title}, due {saved.due_on:%a %-d %b}.")
        return redirect(safe_next(request, "followups:list"))
    return render(request, "followups/followup_form.html", {"form": form, "followup": followup})


@login_required
@require_POST
def mark_done(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _get_followup(request, pk)
    followup.mark_done()
    return _changed(request, followup, f"Done: {followup.title}.")


def _snoozed(followup: FollowUp, day) -> str:
    if followup.snooze_until(day):
        return f"Snoozed to {followup.due_on:%a %-d %b}."
    return f"Already done: {followup.title} stays done."


@login_required
@require_http_methods(["GET", "POST"])
def snooze(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _get_followup(request, pk)
    if request.method == "POST" and (days := SNOOZES.get(request.POST.get("by", ""))):
        day = max(followup.due_on, timezone.localdate()) + timedelta(days=days)
        return _changed(request, followup, _snoozed(followup, day))
    form = SnoozeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _changed(request, followup, _snoozed(followup, form.cleaned_data["until"]))
    return render(request, "followups/snooze.html", {"followup": followup, "form": form})


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    followup = _get_followup(request, pk)
    followup.delete()
    messages.success(request, "Follow-up deleted.")
    return redirect("followups:list")


# --- Digest settings, calendar feed ---------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def digest_settings(request: HttpRequest) -> HttpResponse:
    pref = digest.preference_for(request.user)
    form = DigestPreferenceForm(request.POST or None, instance=pref)
    if request.method == "POST":
        if request.POST.get("regenerate_calendar"):
            pref.calendar_token = new_calendar_token()
            pref.save(update_fields=["calendar_token"])
            messages.success(request, "New calendar link made; the old one no longer works.")
            return redirect("followups:settings")
        if form.is_valid():
            pref = form.save(commit=False)
            pref.bounced_at, pref.bounce_reason = None, ""  # saving says: try the address again
            pref.save()
            digest.schedule(pref)
            messages.success(request, "Digest settings saved.")
            return redirect("followups:settings")
    calendar_url = request.build_absolute_uri(
        reverse("followups:calendar", args=[pref.calendar_token])
    )
    return render(
        request,
        "followups/settings.html",
        {"form": form, "pref": pref, "calendar_url": calendar_url},
    )


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    pref = DigestPreference.objects.select_related("user").filter(calendar_token=token).first()
    if pref is None or not pref.user.is_active:
        raise Http404("Unknown calendar")
    body = calendar.feed(pref.user, request.get_host())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="referral-crm-follow-ups.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- One-click links from the digest (no login; POST to act) ---------------------------


def _describe(action: tokens.Action, user: User):
    if action.action in {"done", "snooze"}:
        target = (
            FollowUp.objects.for_user(user)
            .select_related("contact")
            .filter(pk=action.target)
            .first()
        )
    else:
        target = Contact.objects.for_user(user).filter(pk=action.target).first()
    return target


@require_http_methods(["GET", "POST"])
def act(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation page, so link scanners in mail systems change nothing."""
    try:
        action = tokens.read(token)
    except tokens.BadToken as exc:
        return render(request, "followups/act.html", {"error": str(exc)}, status=400)
    user = User.objects.filter(pk=action.user_id, is_active=True).first()
    target = _describe(action, user) if user else None
    if action.action == "unsubscribe" or target is None:
        return render(
            request, "followups/act.html", {"error": "This link is not valid."}, status=400
        )
    context = {"action": action, "target": target, "token": token}
    if request.method == "GET":
        return render(request, "followups/act.html", context)
    try:
        # Not logged in: dates ("snooze a week") are the user's own, not the server's.
        with transaction.atomic(), timezone.override(user.tzinfo):
            tokens.consume(action)
            done = _perform(action, target)
    except tokens.BadToken as exc:
        return render(request, "followups/act.html", {"error": str(exc)}, status=400)
    return render(request, "followups/act.html", {**context, "done": done})


def _perform(action: tokens.Action, target) -> str:
    from contacts.meetings import log_meeting

    if action.action == "done":
        target.mark_done()
        return f"Marked done: {target.title}."
    if action.action == "snooze":
        if not target.snooze_until(max(target.due_on, timezone.localdate()) + timedelta(days=7)):
            return f"Already done: {target.title} stays done."
        return f"Snoozed to {target.due_on:%A %-d %B}."
    log_meeting(
        owner=target.owner,
        occurred_at=timezone.now(),
        kind=MeetingKind.MESSAGE,
        attendees=[target],
        notes="Reached out (from the daily digest).",
    )
    return f"Logged that you reached out to {target.name}."


@csrf_exempt  # RFC 8058 one-click unsubscribe: the mail client POSTs without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        action = tokens.read(token, max_age=60 * 24 * 3600)
    except tokens.BadToken as exc:
        return render(request, "followups/unsubscribe.html", {"error": str(exc)}, status=400)
    if action.action != "unsubscribe":
        return render(
            request, "followups/unsubscribe.html", {"error": "This link is not valid."}, status=400
        )
    if request.method == "GET":
        return render(request, "followups/unsubscribe.html", {"token": token})
    DigestPreference.objects.filter(user_id=action.user_id).update(
        enabled=False, next_digest_at=None
    )
    return render(request, "followups/unsubscribe.html", {"done": True})
