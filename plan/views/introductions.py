"""``/plan/introductions/``: suggested introductions, accepted ("Introduce them": an
Introduction and a drafted e-mail to both) or dismissed ("Not a fit", remembered)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from contacts.models import Contact
from referrals.models import Introduction, IntroMethod

from .. import precompute
from ..models import SuggestionDismissal
from ..suggestions import suggest

PAGE_SIZE = 20


def _pair(request: HttpRequest, a: int, b: int) -> tuple[Contact, Contact]:
    """Two different active contacts of the user (404 for anyone else's)."""
    if a == b:
        raise Http404("Two different people are needed.")
    mine = Contact.objects.for_user(request.user).active()
    return get_object_or_404(mine, pk=a), get_object_or_404(mine, pk=b)


def _existing(user, a: Contact, b: Contact) -> Introduction | None:
    return (
        Introduction.objects.for_user(user)
        .filter(Q(contact_a=a, contact_b=b) | Q(contact_a=b, contact_b=a))
        .order_by("pk")
        .first()
    )


@login_required
@require_GET
def introduction_suggestions(request: HttpRequest) -> HttpResponse:
    """The stored suggestions (plan.precompute); while the first refresh of a big network
    runs, "finding suggestions" polls this view for the list alone (``?poll=1``)."""
    suggestions, ready = precompute.current(request.user, PAGE_SIZE)
    context = {"suggestions": suggestions, "ready": ready, "limit": PAGE_SIZE}
    if request.htmx and request.GET.get("poll"):
        return render(request, "plan/introductions.html#list", context)
    return render(request, "plan/introductions.html", context)


@login_required
@require_POST
def introduce(request: HttpRequest, a: int, b: int) -> HttpResponse:
    first, second = _pair(request, a, b)
    with transaction.atomic():
        # Both rows locked in id order: two clicks (or tabs) at once make one introduction.
        list(
            Contact.objects.select_for_update()
            .filter(pk__in=[first.pk, second.pk])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # Introduced now or before: off the suggestions at once, whatever the refresh says.
        precompute.forget(request.user, first.pk, second.pk)
        intro = _existing(request.user, first, second)
        if intro is not None:
            messages.info(request, f"{first.name} and {second.name} were already introduced.")
            return redirect("plan:introduction_email", intro.pk)
        found = suggest(request.user, limit=1, only=(first.pk, second.pk))
        if found:
            s = found[0]
            helper, other = s.b, s.a
            reason_a, reason_b = s.intro_reasons()
        else:
            helper, other, reason_a, reason_b = first, second, "", ""
        intro = Introduction.objects.create(
            owner=request.user,
            contact_a=helper,
            contact_b=other,
            reason_a=reason_a,
            reason_b=reason_b,
            method=IntroMethod.EMAIL,
        )
    messages.success(request, f"Introduction saved: {helper.name} ↔ {other.name}.")
    return redirect("plan:introduction_email", intro.pk)


@login_required
@require_POST
def dismiss(request: HttpRequest, a: int, b: int) -> HttpResponse:
    first, second = _pair(request, a, b)
    low, high = sorted((first.pk, second.pk))
    try:
        with transaction.atomic():
            SuggestionDismissal.objects.get_or_create(
                owner=request.user, contact_low_id=low, contact_high_id=high
            )
    except IntegrityError:  # dismissed at the same moment in another tab
        pass
    precompute.forget(request.user, low, high)
    if request.htmx:
        return HttpResponse("")  # the row is swapped out
    messages.success(request, f"Not a fit: {first.name} and {second.name} won't be suggested.")
    return redirect("plan:introductions")


def draft_email(intro: Introduction, sender: str) -> dict:
    """Subject, body and a ``mailto:`` link to both people of ``intro``."""
    a, b = intro.contact_a, intro.contact_b

    def who(c: Contact) -> str:
        about = " at ".join(x for x in (c.profession, c.company) if x)
        return f"{c.name} ({about})" if about else c.name

    def first(c: Contact) -> str:
        return (c.name.split() or [c.name])[0]

    subject = f"Introduction: {a.name}, meet {b.name}"
    lines = [
        f"Hi {first(a)} and {first(b)},",
        "",
        "I'd like to introduce you to each other.",
        "",
        f"{first(a)}, meet {who(b)}."
        + (f" {intro.reason_b.rstrip('.')}." if intro.reason_b else ""),
        f"{first(b)}, meet {who(a)}."
        + (f" {intro.reason_a.rstrip('.')}." if intro.reason_a else ""),
        "",
        "I think you will have plenty to talk about. I'll leave it to you to set up a coffee.",
        "",
        "Best,",
        sender,
    ]
    body = "\n".join(lines)
    to = [e for e in (a.emails[:1] + b.emails[:1]) if e]
    href = (
        "mailto:"
        + ",".join(quote(e, safe="@") for e in to)
        + f"?subject={quote(subject)}&body={quote(body)}"
    )
    missing = [c for c in (a, b) if not c.emails]
    return {"subject": subject, "body": body, "href": href, "to": to, "missing": missing}


@login_required
def introduction_email(request: HttpRequest, pk: int) -> HttpResponse:
    intro = get_object_or_404(
        Introduction.objects.for_user(request.user).select_related("contact_a", "contact_b"),
        pk=pk,
    )
    sender = getattr(request.user, "display_name", "") or request.user.email
    return render(
        request,
        "plan/introductions_email.html",
        {"intro": intro, "draft": draft_email(intro, sender)},
    )


urlpatterns = [
    path("introductions/", introduction_suggestions, name="introductions"),
    path("introductions/<int:a>/<int:b>/introduce/", introduce, name="introduce"),
    path("introductions/<int:a>/<int:b>/dismiss/", dismiss, name="dismiss_suggestion"),
    path("introductions/<int:pk>/email/", introduction_email, name="introduction_email"),
]
