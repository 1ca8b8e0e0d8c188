from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page
from django.db import transaction
from django.db.models import Case, Count, F, When, Window
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from referralcrm.http import parse_id, safe_next
from referralcrm.links import url_maker
from referralcrm.paging import CountedPaginator

from . import cards, counters, occasions, panels, picker, quicklog, search, timeline
from .forms import ContactFilterForm, ContactForm, GainsFactForm, MeetingEditForm, MeetingForm
from .meetings import delete_meeting, log_meeting, refresh_touches
from .models import (
    Contact,
    GainsFact,
    GainsKind,
    Meeting,
    MeetingKind,
    SearchRank,
    Stage,
)

PAGE_SIZE = 25
TYPEAHEAD_SIZE = 8


# --- Ownership helpers: the only way views fetch user data by id -------------


def _get_contact(request: HttpRequest, pk: int) -> Contact:
    return get_object_or_404(Contact.objects.for_user(request.user), pk=pk)


def _get_meeting(request: HttpRequest, pk: int) -> Meeting:
    return get_object_or_404(Meeting.objects.for_user(request.user), pk=pk)


def _get_fact(request: HttpRequest, contact: Contact, pk: int) -> GainsFact:
    return get_object_or_404(GainsFact.objects.for_user(request.user), pk=pk, contact=contact)


# --- Contact list -------------------------------------------------------------

SORT_ORDER = {
    "name": ["name", "pk"],
    "-last_touched": [F("last_touched_at").desc(nulls_last=True), "pk"],
    "last_touched": [F("last_touched_at").asc(nulls_first=True), "pk"],
    "overdue": [F("touch_due_at").asc(nulls_last=True), "pk"],
    # Closest relationships first: connection, acquaintance, contact.
    "stage": [
        Case(
            When(stage=Stage.CONNECTION, then=0),
            When(stage=Stage.ACQUAINTANCE, then=1),
            default=2,
        ),
        "name",
        "pk",
    ],
    # Relationship strength (plan.strength keeps it current), through contact_strength_idx.
    "-strength": ["-strength", "name", "pk"],
}


def _for_cards(contacts):
    """The list's contacts, with only what their cards show (``cards.render`` reads their
    tags' names for the page in one query)."""
    return contacts.only(*cards.FIELDS)


def _list_page(request: HttpRequest, contacts, sort: str, known_count: int | None = None):
    """A page of ``contacts`` in the sort picked, else in the order they come in. The total
    is ``known_count`` (from the counters) when given, else counted up to COUNT_CAP."""
    if sort in SORT_ORDER:
        contacts = contacts.order_by(*SORT_ORDER[sort])
    contacts = _for_cards(contacts)
    paginator = CountedPaginator(contacts, PAGE_SIZE, known_count=known_count)
    return paginator.get_page(request.GET.get("page"))


MAX_PAGE_NUMBER = 100_000  # a bound for the offset; past the end is the last page anyway


def _page_number(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("page") or 1), 1), MAX_PAGE_NUMBER)
    except ValueError:
        return 1


def _page_by_ids(request: HttpRequest, contacts, q: str, ids_at, count) -> Page:
    """A page of search results read by id: ``ids_at(offset)`` gives one page's ids in order
    and how many match in all, ``count()`` how many match (asked only past the last page,
    which then shows the last one, as ``get_page`` does). The page's contacts are then read
    from ``contacts`` by id with their reasons for ``q``: the sort carried ids only, and
    reasons are worked out for the page's rows only."""
    number = _page_number(request)
    ids, total = ids_at((number - 1) * PAGE_SIZE)
    if not ids and number > 1:
        number = max(math.ceil(count() / PAGE_SIZE), 1)
        ids, total = ids_at((number - 1) * PAGE_SIZE)
    rows = _for_cards(search.with_reasons(contacts.filter(pk__in=ids), q))
    by_id = {contact.pk: contact for contact in rows}
    paginator = CountedPaginator(contacts.none(), PAGE_SIZE, known_count=total)
    return Page([by_id[pk] for pk in ids if pk in by_id], number, paginator)


def _search_page(request: HttpRequest, contacts, q: str, found, sort: str) -> Page:
    """A page of a search with a filter or another sort picked (``found``, in its order).
    One query reads the page's ids with the count as a window over the matches (ranking or
    sorting reads every match anyway; a separate count found them all a second time), then
    ``_page_by_ids`` reads its contacts. In one query with the rows, PostgreSQL worked the
    reason out for every row the offset skipped (10 ms for page 40 of 'an', 3.7 ms now), and
    sorting 1,308 whole rows made the first page 5.5 to 6.2 ms (3.2 to 3.4 ms now)."""
    if sort in SORT_ORDER:
        found = found.order_by(*SORT_ORDER[sort])
    counted = found.annotate(matches=Window(Count("*"))).values_list("pk", "matches")

    def ids_at(offset: int) -> tuple[list[int], int]:
        page = list(counted[offset : offset + PAGE_SIZE])
        return [pk for pk, _ in page], (page[0][1] if page else 0)

    return _page_by_ids(request, contacts, q, ids_at, found.order_by().values("pk").count)


def _best_match_page(request: HttpRequest, contacts, q: str, archived: bool) -> Page | None:
    """A page of the best-match search, ranked over the narrow copy of the search documents
    (``search.ranked_ids``): every match's rank is read from it and only the page's own
    contacts are loaded, with their reasons. None where there is no copy (not PostgreSQL):
    the caller ranks the contacts themselves."""
    if not search.query_words(q) or not search.on_postgresql(contacts):
        return None
    owner = request.user.pk

    def ids_at(offset: int) -> tuple[list[int], int]:
        return search.ranked_ids(contacts, owner, archived, q, PAGE_SIZE, offset)

    def count() -> int:
        return search.count_matches(contacts, owner, archived, q)

    return _page_by_ids(request, contacts, q, ids_at, count)


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    form = ContactFilterForm(request.GET or None)
    form.is_valid()  # an invalid value (say ?sort=bogus) drops only itself
    filters = getattr(form, "cleaned_data", {})
    archived = bool(filters.get("archived"))
    contacts = Contact.objects.for_user(request.user).filter(is_archived=archived)
    if stage := filters.get("stage"):
        contacts = contacts.filter(stage=stage)
    if tag := filters.get("tag"):
        contacts = contacts.filter(tags__name__iexact=tag)
    if filters.get("stalled"):
        contacts = contacts.stalled()
    # Unpicked ("Best match"), the sort is by relevance when searching, else by name.
    q, sort, near = filters.get("q", ""), filters.get("sort") or "", False
    if q:
        page = None
        if not sort and not any(filters.get(k) for k in ("stage", "tag", "stalled")):
            page = _best_match_page(request, contacts, q, archived)
        if page is None:
            found = search.ranked(
                contacts,
                q,
                owner_id=request.user.pk,
                archived=archived,
                stage=stage or None,
                tag=tag or None,
            )
            page = _search_page(request, contacts, q, found, sort)
        if not page.paginator.count:  # nobody has these words: a typo? names spelled alike
            page, near = _list_page(request, search.near(contacts, q), sort), True
        for contact in page.object_list:
            contact.reason = search.reason(getattr(contact, "search_reason", None), q)
    elif filters.get("tag") or filters.get("stalled"):
        page = _list_page(request, contacts, sort or "name")
    else:  # only the stage and the archive flag filter: the counters know the total
        known = counters.contact_count(request.user, archived=archived, stage=filters.get("stage"))
        page = _list_page(request, contacts, sort or "name", known)
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "cards": cards.render(page.object_list),
        "querystring": querystring.urlencode(),
        "filtering": any(filters.get(k) for k in ("q", "stage", "tag", "stalled", "archived")),
        "sort": sort,
        "q": q,
        "near": near,
    }
    if request.htmx and request.htmx.target == "contact-results":
        return render(request, "contacts/contact_list.html#results", context)
    context["tags"] = counters.tags_in_use(request.user)
    return render(request, "contacts/contact_list.html", context)


# --- Create, edit, archive, delete --------------------------------------------


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        contact = form.save()
        messages.success(request, f"{contact.name} is in your network.")
        return redirect(contact)
    return render(request, "contacts/contact_form.html", {"form": form})


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    form = ContactForm(request.POST or None, instance=contact, owner=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved.")
        return redirect(contact)
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact})


@login_required
@require_POST
def contact_archive(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    if contact.is_archived:
        contact.unarchive()
        messages.success(request, f"{contact.name} is back in your network.")
    else:
        contact.archive()
        messages.success(
            request, f"{contact.name} is archived: hidden from lists, nothing is lost."
        )
    return redirect(contact)


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    if request.method == "POST":
        name = contact.name
        with transaction.atomic():
            # Meetings with nobody else in them would be left with no attendee at all.
            # (annotate before filtering, so the count covers every attendee)
            Meeting.objects.for_user(request.user).annotate(n=Count("attendees")).filter(
                n=1, attendees=contact
            ).delete()
            contact.delete()
        messages.success(request, f"{name} and their GAINS profile are deleted.")
        return redirect("contacts:list")
    return render(
        request,
        "contacts/contact_confirm_delete.html",
        {
            "contact": contact,
            "meetings": contact.meetings.count(),
            "goes_with": _deleted_with(contact),
            # Referrals stay in the ledger with the name (Referral.partner's on_delete).
            "referrals_kept": contact.referrals.count(),
        },
    )


def _deleted_with(contact: Contact) -> list[str]:
    """Everything that goes with the contact ("4 referrals", "1 spend"), found the way the
    delete itself finds it (Django's collector), so no app's rows go unmentioned."""
    from django.contrib.admin.utils import NestedObjects

    collector = NestedObjects(using="default")
    collector.collect([contact])
    shown = []
    for model, objects in sorted(
        collector.model_objs.items(), key=lambda item: item[0]._meta.verbose_name
    ):
        # The contact; m2m link rows; the search's copy of the contact's document.
        if model is Contact or model._meta.auto_created or model is SearchRank:
            continue
        n = len(objects)
        name = model._meta.verbose_name if n == 1 else model._meta.verbose_name_plural
        shown.append(f"{n} {name}")
    return shown


# --- Contact page and GAINS -----------------------------------------------------


def _section(contact: Contact, kind: str, facts: list[GainsFact], form=None, edit_url=None):
    """One GAINS section's context: its facts each with its ``edit_url`` (``edit_url``: a
    ``url_maker`` of the route, one ``reverse()`` for the page) and the section's add URL."""
    edit_url = edit_url or url_maker("contacts:gains_edit", 2)
    for fact in facts:
        fact.edit_url = edit_url(contact.pk, fact.pk)
    return {
        "kind": kind,
        "label": GainsKind(kind).label,
        "facts": facts,
        "contact": contact,
        "form": form,
        "add_url": reverse("contacts:gains_add", args=[contact.pk, kind]),
    }


def _gains_sections(contact: Contact, facts: list[GainsFact]) -> list[dict]:
    by_kind: dict[str, list[GainsFact]] = {k: [] for k in GainsKind.values}
    for fact in facts:
        by_kind[fact.kind].append(fact)
    edit_url = url_maker("contacts:gains_edit", 2)
    return [_section(contact, kind, by_kind[kind], edit_url=edit_url) for kind in by_kind]


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    facts = list(contact.gains_facts.all())
    context = {
        "contact": contact,
        "tag_names": cards.tag_names([contact]).get(contact.pk, []),
        "sections": _gains_sections(contact, facts),
        "entries": timeline.entries_for(contact),
        "panels": panels.panels_for(request, contact),
        "quicklog_form": None
        if contact.is_archived
        else MeetingForm(owner=request.user, initial={"attendees": [contact]}),
        "preset_contact": contact,
        "quicklog_extensions": quicklog.extensions(),
        **occasions.section_context(contact, contact.occasions.all()),
    }
    return render(request, "contacts/contact_detail.html", context)


@login_required
@require_GET
def contact_panel(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One lazy panel of the contact page, which htmx swaps in for its placeholder."""
    if name not in panels.lazy_names():
        raise Http404
    contact = _get_contact(request, pk)
    panel = panels.lazy_panel(request, contact, name)
    if panel is None:
        return HttpResponse("")  # nothing to show: the placeholder goes
    return render(request, "contacts/panel.html", {"panel": panel})


def _render_section(request, contact: Contact, kind: str, form=None, status=200):
    section = _section(contact, kind, list(contact.gains_facts.filter(kind=kind)), form)
    return render(
        request, "contacts/contact_detail.html#gains-section", {"section": section}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def gains_add(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    contact = _get_contact(request, pk)
    if kind not in GainsKind.values:
        return HttpResponse(status=404)
    if request.method == "GET":  # "Cancel" of an inline edit: the section as it is
        return _render_section(request, contact, kind)
    data = request.POST.copy()
    data["kind"] = kind
    form = GainsFactForm(data)
    if not form.is_valid():
        if request.htmx:
            return _render_section(request, contact, kind, form, status=422)
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect(contact)
    fact = form.save(commit=False)
    fact.owner, fact.contact = request.user, contact
    fact.save()
    if request.htmx:
        return _render_section(request, contact, kind)
    return redirect(f"{contact.get_absolute_url()}#gains-{kind}")


@login_required
@require_http_methods(["GET", "POST"])
def gains_edit(request: HttpRequest, pk: int, fact_pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    fact = _get_fact(request, contact, fact_pk)
    form = GainsFactForm(request.POST or None, instance=fact)
    if request.method == "POST":
        data = request.POST.copy()
        data["kind"] = fact.kind
        form = GainsFactForm(data, instance=fact)
        if form.is_valid():
            form.save()
            if request.htmx:
                return _render_section(request, contact, fact.kind)
            return redirect(contact)
    context = {"form": form, "fact": fact, "contact": contact}
    if request.htmx:
        response = render(request, "contacts/gains_fact_edit.html#fact-form", context)
        if request.method == "POST":  # invalid: put the form back where it was, errors shown
            response.status_code = 422
            response["HX-Retarget"] = f"#fact-{fact.pk}"
            response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "contacts/gains_fact_edit.html", context)


@login_required
@require_POST
def gains_delete(request: HttpRequest, pk: int, fact_pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    fact = _get_fact(request, contact, fact_pk)
    kind = fact.kind
    fact.delete()
    if request.htmx:
        return _render_section(request, contact, kind)
    return redirect(contact)


# --- Typeahead for picking attendees -------------------------------------------


PICKER_FIELDS = {"attendees", "partner", "prospect_contact", "contact_a", "contact_b", "contact"}


def _picker_field(request: HttpRequest) -> str:
    field = request.GET.get("field", "attendees")
    return field if field in PICKER_FIELDS else "attendees"


@login_required
def typeahead(request: HttpRequest) -> HttpResponse:
    q = " ".join(request.GET.get("q", "").split())[:120]
    results = []
    if q:
        base = Contact.objects.for_user(request.user).active()
        results = search.suggestions(base, q, TYPEAHEAD_SIZE)
    exact = any(c.name.lower() == q.lower() for c in results)
    extras = picker.extra_suggestions(request.user, q, TYPEAHEAD_SIZE) if q else []
    context = {
        "results": results,
        "extras": extras,
        "q": q,
        "offer_new": bool(q) and not exact and request.GET.get("new") == "1",
        "field": _picker_field(request),
        "multiple": request.GET.get("multiple") == "1",
    }
    return render(request, "contacts/picker.html#suggestions", context)


@login_required
def pick(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.for_user(request.user).active(), pk=pk)
    context = {"contact": contact, "field": _picker_field(request)}
    return render(request, "contacts/picker.html#chip", context)


@login_required
def pick_new(request: HttpRequest) -> HttpResponse:
    name = " ".join(request.GET.get("name", "").split())[:120]
    if not name:
        return HttpResponse(status=400)
    context = {"name": name, "field": _picker_field(request)}
    return render(request, "contacts/picker.html#new-chip", context)


# --- Meetings -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def meeting_log(request: HttpRequest) -> HttpResponse:
    initial = {}
    contact_id = parse_id(request.GET.get("contact"))
    preset = None
    if contact_id:
        preset = get_object_or_404(Contact.objects.for_user(request.user).active(), pk=contact_id)
        initial["attendees"] = [preset]
    form = MeetingForm(request.POST or None, owner=request.user, initial=initial)
    extensions = quicklog.extensions()
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            attendees = list(form.cleaned_data["attendees"])
            attendees += [
                Contact.objects.create(owner=request.user, name=name)
                for name in form.cleaned_data["new_attendees"]
            ]
            meeting = log_meeting(
                owner=request.user,
                occurred_at=form.cleaned_data["occurred_at"],
                kind=form.cleaned_data["kind"],
                attendees=attendees,
                place=form.cleaned_data["place"],
                notes=form.cleaned_data["notes"],
                facts=form.cleaned_data["facts"],
            )
            for extension in extensions:
                extension.handle(meeting, request.POST, request.user)
        names = ", ".join(c.name for c in attendees)
        summary = f"Logged {meeting.get_kind_display().lower()} with {names}."
        if request.htmx:
            fresh = MeetingForm(owner=request.user, initial=initial)
            response = render(
                request,
                "contacts/quicklog.html#form",
                {
                    "form": fresh,
                    "extensions": extensions,
                    "logged": meeting,
                    "summary": summary,
                    "preset_contact": preset,
                },
            )
            response["HX-Trigger"] = "meetingLogged"
            return response
        messages.success(request, summary)
        if len(attendees) == 1:
            return redirect(attendees[0])
        return redirect("dashboard")
    status = 422 if request.method == "POST" and request.htmx else 200
    context = {"form": form, "extensions": extensions, "preset_contact": preset}
    if request.htmx:
        return render(request, "contacts/quicklog.html#form", context, status=status)
    return render(request, "contacts/quicklog.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    form = MeetingEditForm(request.POST or None, instance=meeting)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            refresh_touches(list(meeting.attendees.all()))
        messages.success(request, "Meeting saved.")
        return redirect(safe_next(request))
    return render(
        request,
        "contacts/meeting_form.html",
        {"form": form, "meeting": meeting, "next": request.GET.get("next", "")},
    )


@login_required
@require_POST
def meeting_delete(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _get_meeting(request, pk)
    delete_meeting(meeting)
    messages.success(request, "Meeting deleted.")
    return redirect(safe_next(request))


@login_required
@require_POST
def contact_touch(request: HttpRequest, pk: int) -> HttpResponse:
    """ "I reached out": log a message-type touch now (one click from the stalled list)."""
    contact = _get_contact(request, pk)
    log_meeting(
        owner=request.user,
        occurred_at=timezone.now(),
        kind=MeetingKind.MESSAGE,
        attendees=[contact],
        notes="Reached out.",
    )
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "meetingLogged"
        return response
    messages.success(request, f"Logged that you reached out to {contact.name}.")
    return redirect(safe_next(request))
