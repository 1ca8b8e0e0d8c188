from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from contacts.models import Contact
from referralcrm.http import parse_id, safe_next
from referralcrm.paging import CountedPaginator
from referralcrm.uploads import limited_upload, upload_too_large

from . import reciprocity, rollups, rows, sharing, spend_import
from .forms import CloseForm, IntroductionForm, LedgerFilterForm, ReferralForm, SpendForm
from .models import OPEN_STATUSES, Direction, Introduction, Referral, Spend, Status
from .money import CURRENCY_CHOICES, format_totals

PAGE_SIZE = 25
IMPORT_SESSION_KEY = "spend_import"


# --- Ownership helpers -----------------------------------------------------------


def _get_referral(request: HttpRequest, pk: int) -> Referral:
    return get_object_or_404(Referral.objects.for_user(request.user), pk=pk)


def _shared(request: HttpRequest, referral: Referral) -> HttpResponse | None:
    """A slip's ledger row changes only on the slip (both sides at once, audited)."""
    if not referral.is_shared:
        return None
    if request.method == "POST":
        messages.info(
            request, "This referral is a slip shared with a fellow member: change it here."
        )
    return redirect(referral.get_absolute_url())


def _get_intro(request: HttpRequest, pk: int) -> Introduction:
    return get_object_or_404(Introduction.objects.for_user(request.user), pk=pk)


def _get_spend(request: HttpRequest, pk: int) -> Spend:
    return get_object_or_404(Spend.objects.for_user(request.user), pk=pk)


def _get_contact(request: HttpRequest, pk) -> Contact | None:
    if (pk := parse_id(pk)) is None:
        return None
    return get_object_or_404(Contact.objects.for_user(request.user), pk=pk)


def _page(request: HttpRequest, rows, count: int):
    """A page of ``rows`` whose total is known already (from a counter): no COUNT(*)."""
    paginator = CountedPaginator(rows, PAGE_SIZE, known_count=count)
    return paginator.get_page(request.GET.get("page"))


# --- Ledger -------------------------------------------------------------------------


def _period_start(period: str, today: date) -> tuple[date | None, date | None]:
    if period == "month":
        return today.replace(day=1), None
    if period == "30d":
        return today - timedelta(days=30), None
    if period == "quarter":
        return today - timedelta(days=91), None
    if period == "year":
        return today.replace(month=1, day=1), None
    if period == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    return None, None


def _totals(referrals, closed=None) -> dict:
    """Counts each way and closed-won value per currency: two aggregate queries.

    ``closed`` (default: the same referrals) is where the closed value is summed from."""
    counts = referrals.aggregate(
        given=Count("pk", filter=Q(direction=Direction.GIVEN)),
        received=Count("pk", filter=Q(direction=Direction.RECEIVED)),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        won=Count("pk", filter=Q(status=Status.WON)),
    )
    rows = (
        (referrals if closed is None else closed)
        .filter(status=Status.WON, value__isnull=False)
        .values("direction", "currency")
        .annotate(total=Sum("value"))
        .order_by("currency")
    )
    by_dir = {Direction.GIVEN: [], Direction.RECEIVED: []}
    for row in rows:
        by_dir[row["direction"]].append((row["currency"], row["total"]))
    counts["given_value"] = format_totals(by_dir[Direction.GIVEN])
    counts["received_value"] = format_totals(by_dir[Direction.RECEIVED])
    return counts


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    form = LedgerFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    referrals = Referral.objects.for_user(request.user)
    if direction := filters.get("direction"):
        referrals = referrals.filter(direction=direction)
    if status := filters.get("status"):
        referrals = referrals.open() if status == "open" else referrals.filter(status=status)
    partner = _get_contact(request, filters.get("partner"))
    if partner:
        referrals = referrals.filter(partner=partner)
    start, end = _period_start(filters.get("period") or "", timezone.localdate())
    if start:
        referrals = referrals.filter(referred_on__gte=start)
    if end:
        referrals = referrals.filter(referred_on__lte=end)
    if rollups.enabled() and not partner:
        totals = rollups.ledger_totals(
            request.user,
            direction=direction,
            statuses=(OPEN_STATUSES if status == "open" else [status]) if status else (),
            start=start,
            end=end,
        )
    else:  # one partner's referrals (by the partner index), or no triggers (SQLite)
        totals = _totals(referrals)
    page = _page(
        request,
        referrals.select_related("partner").order_by("-referred_on", "-pk"),
        totals["given"] + totals["received"],  # every referral is one or the other
    )
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "partner": partner,
        "totals": totals,
        "querystring": querystring.urlencode(),
        "filtering": any(filters.get(k) for k in ("direction", "status", "partner", "period")),
    }
    if request.htmx and request.htmx.target == "ledger-results":
        return render(request, "referrals/ledger.html#results", context)
    return render(request, "referrals/ledger.html", context)


# --- Referrals ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def referral_create(request: HttpRequest) -> HttpResponse:
    initial = {"direction": request.GET.get("direction") or Direction.RECEIVED}
    if partner := _get_contact(request, request.GET.get("partner")):
        initial["partner"] = partner
    form = ReferralForm(request.POST or None, owner=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            shared = sharing.share(request.user, form.cleaned_data)
            referral = shared or form.save()
        if shared:
            messages.success(
                request,
                f"{referral.partner.name} is a fellow group member: the referral is a slip "
                "in both your ledgers.",
            )
        else:
            messages.success(request, f"Referral logged: {referral}.")
        return redirect(referral)
    return render(request, "referrals/referral_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def referral_edit(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    if shared := _shared(request, referral):
        return shared
    form = ReferralForm(request.POST or None, instance=referral, owner=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Referral saved.")
        return redirect(referral)
    return render(request, "referrals/referral_form.html", {"form": form, "referral": referral})


@login_required
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_object_or_404(
        Referral.objects.for_user(request.user).select_related("partner", "prospect_contact"), pk=pk
    )
    if shared := _shared(request, referral):
        return shared
    context = {
        "referral": referral,
        "history": list(referral.history.all()),
        "close_form": CloseForm(referral=referral),
    }
    return render(request, "referrals/referral_detail.html", context)


def _row_or_redirect(request: HttpRequest, referral: Referral) -> HttpResponse:
    if request.htmx:
        # referrals/rows.py, as the ledger and the dashboard draw it
        response = HttpResponse(rows.render([referral], get_token(request)))
        response["HX-Trigger"] = "referralChanged"
        return response
    if request.POST.get("next"):
        return redirect(safe_next(request))
    return redirect(referral)


@login_required
@require_POST
def referral_advance(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an open referral one step forward: passed → contacted → meeting held."""
    referral = _get_referral(request, pk)
    if shared := _shared(request, referral):
        return shared
    if referral.next_status:
        referral.move_to(referral.next_status)
        messages.success(request, f"Moved to “{referral.get_status_display()}”.")
    else:
        messages.error(request, "This referral has no next step: close it instead.")
    return _row_or_redirect(request, referral)


@login_required
@require_http_methods(["GET", "POST"])
def referral_close(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    if shared := _shared(request, referral):
        return shared
    form = CloseForm(request.POST or None, referral=referral)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        referral.move_to(data["status"], on=data["closed_on"], value=data.get("value"))
        messages.success(request, f"Closed: {referral.get_status_display().lower()}.")
        return redirect(referral)
    return render(request, "referrals/referral_close.html", {"referral": referral, "form": form})


@login_required
@require_POST
def referral_thanks(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    if shared := _shared(request, referral):
        return shared
    if request.POST.get("which") == "received":
        referral.mark_thanks_received()
        messages.success(request, "Noted: they thanked you.")
    else:
        referral.mark_thanks_sent()
        messages.success(request, "Thank-you sent. Givers gain.")
    return _row_or_redirect(request, referral)


@login_required
@require_http_methods(["GET", "POST"])
def referral_delete(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_referral(request, pk)
    if shared := _shared(request, referral):
        return shared
    if request.method == "POST":
        referral.delete()
        messages.success(request, "Referral deleted.")
        return redirect("referrals:ledger")
    return render(
        request, "referrals/confirm_delete.html", {"object": referral, "what": "referral"}
    )


# --- Introductions ---------------------------------------------------------------------


@login_required
def intro_list(request: HttpRequest) -> HttpResponse:
    intros = Introduction.objects.for_user(request.user).select_related("contact_a", "contact_b")
    count = rollups.introduction_count(request.user) if rollups.enabled() else intros.count()
    page = _page(request, intros, count)
    return render(request, "referrals/intro_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def intro_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    intro = _get_intro(request, pk) if pk else None
    initial = {}
    if not intro and (contact := _get_contact(request, request.GET.get("contact"))):
        initial["contact_a"] = contact
    form = IntroductionForm(
        request.POST or None, instance=intro, owner=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        intro = form.save()
        messages.success(request, f"Introduction saved: {intro}.")
        return redirect("referrals:intros")
    return render(request, "referrals/intro_form.html", {"form": form, "intro": intro})


@login_required
@require_POST
def intro_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _get_intro(request, pk).delete()
    messages.success(request, "Introduction deleted.")
    return redirect("referrals:intros")


# --- Spends -------------------------------------------------------------------------------


@login_required
def spend_list(request: HttpRequest) -> HttpResponse:
    spends = Spend.objects.for_user(request.user).select_related("contact")
    if rollups.enabled():
        count, totals = rollups.spend_totals(request.user)
    else:
        rows = spends.values("currency").annotate(total=Sum("amount")).order_by("currency")
        count, totals = spends.count(), [(r["currency"], r["total"]) for r in rows]
    page = _page(request, spends, count)
    return render(
        request, "referrals/spend_list.html", {"page": page, "total": format_totals(totals)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def spend_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if contact := _get_contact(request, request.GET.get("contact")):
        initial["contact"] = contact
    form = SpendForm(request.POST or None, owner=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        spend = form.save()
        messages.success(request, f"Recorded {spend.amount_display} with {spend.contact.name}.")
        return redirect("referrals:spends")
    return render(request, "referrals/spend_form.html", {"form": form})


@login_required
@require_POST
def spend_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _get_spend(request, pk).delete()
    messages.success(request, "Spend deleted.")
    return redirect("referrals:spends")


def _spend_import_context(request: HttpRequest, data=None) -> dict:
    data = request.POST if data is None else data
    return {
        "date_formats": spend_import.DATE_FORMATS,
        "currencies": CURRENCY_CHOICES,
        "currency": data.get("currency") or request.user.default_currency,
        "date_format": data.get("date_format") or "iso",
        "max_mb": spend_import.MAX_BYTES // 1024 // 1024,
    }


def _spend_file_too_large(request: HttpRequest) -> HttpResponse:
    # The form is not read (that would read the file): the page starts afresh.
    context = _spend_import_context(request, data={})
    context["error"] = (
        f"The file is larger than {context['max_mb']} MB; export a shorter period and try again."
    )
    return render(request, "referrals/spend_import.html", context, status=413)


@login_required
@limited_upload(lambda: spend_import.MAX_BYTES, _spend_file_too_large)
@require_http_methods(["GET", "POST"])
def spend_import_upload(request: HttpRequest) -> HttpResponse:
    context = _spend_import_context(request)
    if request.method == "GET":
        return render(request, "referrals/spend_import.html", context)
    if context["currency"] not in dict(CURRENCY_CHOICES):
        context["error"] = "Pick a currency from the list."
        context["currency"] = request.user.default_currency
        return render(request, "referrals/spend_import.html", context, status=400)
    upload = request.FILES.get("file")
    if upload_too_large(request):
        return _spend_file_too_large(request)
    if upload is None:
        context["error"] = "Choose a CSV file to upload."
        return render(request, "referrals/spend_import.html", context, status=400)
    try:
        parsed = spend_import.parse(upload, context["date_format"])
    except spend_import.ImportError_ as exc:
        context["error"] = str(exc)
        return render(request, "referrals/spend_import.html", context, status=400)
    token = secrets.token_urlsafe(8)
    request.session[IMPORT_SESSION_KEY] = {
        "token": token,
        "currency": context["currency"],
        "parsed": parsed.to_session(),
    }
    return _render_preview(request, parsed, token, context["currency"])


def _render_preview(request, parsed, token, currency, mapping=None, error="", status=200):
    matches = spend_import.suggest_matches(request.user, parsed.payees)
    payees = [
        {
            "index": i,
            "name": payee,
            "candidates": matches[payee],
            "selected": (mapping or {}).get(payee, matches[payee][0] if matches[payee] else None),
            "rows": sum(1 for r in parsed.rows if r.payee == payee),
        }
        for i, payee in enumerate(parsed.payees)
    ]
    context = {
        "parsed": parsed,
        "payees": payees,
        "token": token,
        "currency": currency,
        "error": error,
    }
    return render(request, "referrals/spend_import_preview.html", context, status=status)


@login_required
@require_POST
def spend_import_confirm(request: HttpRequest) -> HttpResponse:
    stored = request.session.get(IMPORT_SESSION_KEY)
    if not stored or stored["token"] != request.POST.get("token"):
        messages.error(request, "That import has expired; upload the file again.")
        return redirect("referrals:spend_import")
    parsed = spend_import.Parsed.from_session(stored["parsed"])
    wanted = {payee: request.POST.get(f"payee_{i}", "") for i, payee in enumerate(parsed.payees)}
    chosen = {payee: parse_id(v) for payee, v in wanted.items()}
    contacts = (
        Contact.objects.for_user(request.user).active().in_bulk([i for i in chosen.values() if i])
    )
    mapping = {payee: contacts.get(i) if i else None for payee, i in chosen.items()}
    refused = any(v and chosen[p] is None for p, v in wanted.items())
    if refused or any(i and i not in contacts for i in chosen.values()):
        return _render_preview(
            request,
            parsed,
            stored["token"],
            stored["currency"],
            mapping,
            error="One of the chosen contacts is not yours; nothing was saved.",
            status=400,
        )
    if parsed.error_rows:
        return _render_preview(
            request,
            parsed,
            stored["token"],
            stored["currency"],
            mapping,
            error="Fix the rows with errors in the file and upload it again; nothing was saved.",
            status=400,
        )
    if not any(mapping.values()):
        return _render_preview(
            request,
            parsed,
            stored["token"],
            stored["currency"],
            mapping,
            error="Match at least one payee to a contact.",
            status=400,
        )
    # Confirming twice (a double click, two tabs) saves once: the first claims the token.
    once = f"spend-import-saved:{request.user.pk}:{stored['token']}"
    if not cache.add(once, True, 24 * 3600):
        messages.info(request, "This import was already saved.")
        return redirect("referrals:spends")
    try:
        count = spend_import.save(request.user, parsed, mapping, stored["currency"])
    except Exception:
        cache.delete(once)
        raise
    request.session.pop(IMPORT_SESSION_KEY, None)
    skipped = len(parsed.rows) - count
    messages.success(
        request,
        f"Imported {count} spend{'s' if count != 1 else ''}"
        + (
            f"; skipped {skipped} row{'s' if skipped != 1 else ''} with no contact."
            if skipped
            else "."
        ),
    )
    return redirect("referrals:spends")


# --- Reciprocity -------------------------------------------------------------------------


@login_required
def who_to_ask(request: HttpRequest) -> HttpResponse:
    rows = list(reciprocity.who_to_ask(request.user, limit=25))
    return render(request, "referrals/who_to_ask.html", {"rows": rows})
