"""Possible duplicates (``/contacts/duplicates/``) and merging two contacts into one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts import search
from contacts.models import Contact, TriState
from referralcrm.http import parse_id

from .. import merge as merging
from .. import pairs
from ..models import MergeRecord

SHOWN = 50  # candidate pairs on a page of the duplicates page
MAX_PAGE = 1000  # pages are read with OFFSET: deep ones cost their depth
PICK_ROWS = 20  # search results when picking the contact to merge with


def _get_contact(request: HttpRequest, pk: int) -> Contact:
    return get_object_or_404(Contact.objects.for_user(request.user), pk=pk)


# --- Duplicates ------------------------------------------------------------------


@login_required
@require_GET
def duplicates(request: HttpRequest) -> HttpResponse:
    page = min(parse_id(request.GET.get("page")) or 1, MAX_PAGE)
    found = merging.find_duplicates(request.user, limit=SHOWN + 1, offset=(page - 1) * SHOWN)
    candidates = merging.with_contacts(request.user, found[:SHOWN])
    context = {
        "pairs": pairs.render(candidates, get_token(request)) if candidates else "",
        "page": page,
        "more": len(found) > SHOWN,
        # Only the empty first page says how many contacts were looked at.
        "total_contacts": (
            Contact.objects.for_user(request.user).count() if not found and page == 1 else None
        ),
    }
    return render(request, "portability/duplicates.html", context)


@login_required
@require_POST
def dismiss(request: HttpRequest) -> HttpResponse:
    a_pk, b_pk = parse_id(request.POST.get("a")), parse_id(request.POST.get("b"))
    if a_pk is None or b_pk is None or a_pk == b_pk:
        raise Http404
    a, b = _get_contact(request, a_pk), _get_contact(request, b_pk)
    merging.dismiss(request.user, a, b)
    if request.htmx:  # the pair's row is swapped for nothing
        return HttpResponse("")
    messages.success(request, f"{a.name} and {b.name} won't be offered as duplicates again.")
    return redirect("portability:duplicates")


# --- Merge -------------------------------------------------------------------------


REMOVED_WHY = {
    "removed:birthday": "(the one you don't keep: a contact has one birthday)",
    "removed:referrals.introduction": (
        "of the two to each other (after the merge it would introduce them to themselves)"
    ),
}


def _shown(key: str, value, contact: Contact) -> str:
    """A field's value as the merge screen shows it."""
    if value in (None, ""):
        return "(none)" if key != "cadence_days" else "no cadence"
    if key == "cadence_days":
        return f"{value} day{'s' if value != 1 else ''}"
    if key == "stage":
        return contact.get_stage_display()
    if key in ("is_expert", "is_passionate", "honours_referrals"):
        return TriState(value).label
    if key == "linked_user":
        member = contact.linked_user
        return f"linked to {member.display_name or 'a fellow member'}'s shared profile"
    if key == "birthday":
        return value.day_display
    return str(value)


def _choices(survivor: Contact, other: Contact) -> tuple[list[dict], dict]:
    """One row per differing field (with the default choice), and the raw values."""
    values = merging.field_values(survivor, other)
    defaults = merging.decide(values, None)
    rows = [
        {
            "key": key,
            "label": merging.FIELD_LABELS[key],
            "survivor": _shown(key, values[key][0], survivor),
            "other": _shown(key, values[key][1], other),
            "default": choice,
            "fixed": key in ("linked_user", "birthday") and None in values[key],
        }
        for key, choice in defaults.items()
    ]
    return rows, values


def _already_merged(request: HttpRequest, survivor: Contact, other_pk: int) -> bool:
    return (
        MergeRecord.objects.for_user(request.user)
        .filter(survivor=survivor, merged_contact_id=other_pk)
        .exists()
    )


@login_required
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    if pk == other_pk:
        raise Http404
    survivor = _get_contact(request, pk)
    other = Contact.objects.for_user(request.user).filter(pk=other_pk).first()
    if other is None:
        # A second click on "Merge" (or the back button): the first one did it.
        if _already_merged(request, survivor, other_pk):
            messages.info(request, "Those two contacts are already merged.")
            return redirect(survivor)
        raise Http404
    if request.method == "POST":
        take = {
            key: request.POST[f"take_{key}"]
            for key in merging.TAKE_KEYS
            if request.POST.get(f"take_{key}") in (merging.SURVIVOR, merging.OTHER)
        }
        try:
            record = merging.merge(request.user, survivor, other, take=take)
        except merging.AlreadyMerged:
            messages.info(request, "Those two contacts are already merged.")
            return redirect("portability:duplicates")
        messages.success(
            request,
            f"{record.merged_name} is merged into {record.survivor.name} "
            f"({merging.describe(record.moved)}).",
        )
        return redirect(record.survivor)
    rows, _ = _choices(survivor, other)
    counts = merging.moving_counts(survivor, other)
    moving = [merging.noun(k, n) for k, n in counts.items() if not k.startswith("removed:")]
    removed = [
        f"{merging.noun(k.split(':', 1)[1], n)} {REMOVED_WHY.get(k, '')}".strip()
        for k, n in counts.items()
        if k.startswith("removed:")
    ]
    context = {
        "survivor": survivor,
        "other": other,
        "rows": rows,
        "moving": moving,
        "removed": removed,
        "emails": merging.united_emails(survivor, other),
        "phones": merging.united_phones(survivor, other, request.user.phone_region),
        "tags": sorted({t.name for t in (*survivor.tags.all(), *other.tags.all())}, key=str.lower),
        "notes_joined": bool(survivor.notes.strip() and other.notes.strip()),
    }
    return render(request, "portability/merge.html", context)


@login_required
@require_GET
def merge_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the contact to merge into this one: ``?other=<id>`` goes straight to the merge
    screen, ``?q=`` searches the user's contacts."""
    contact = _get_contact(request, pk)
    other_pk = parse_id(request.GET.get("other"))
    if other_pk is not None and other_pk != contact.pk:
        other = _get_contact(request, other_pk)
        return redirect(reverse("portability:merge", args=[contact.pk, other.pk]))
    q = request.GET.get("q", "").strip()[:100]
    results = []
    if q:
        results = list(
            search.keyed_matching(
                Contact.objects.for_user(request.user), q, request.user.pk, archived=None
            )
            .exclude(pk=contact.pk)
            .order_by("name", "pk")
            .only("pk", "name", "company", "is_archived")[:PICK_ROWS]
        )
    return render(
        request, "portability/merge.html", {"picking": contact, "q": q, "results": results}
    )


urlpatterns = [
    path("contacts/duplicates/", duplicates, name="duplicates"),
    path("contacts/duplicates/dismiss/", dismiss, name="dismiss_duplicate"),
    path("contacts/<int:pk>/merge/", merge_pick, name="merge_pick"),
    path("contacts/<int:pk>/merge/<int:other_pk>/", merge, name="merge"),
]
