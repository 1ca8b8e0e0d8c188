"""Import pages: upload → preview (each row's outcome, choices) → confirm → done.

Small files are read and imported in the request; larger ones by Celery tasks, with a
progress bar that polls ``import_progress`` over htmx (and a plain refresh link without JS).
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from referralcrm.uploads import limited_upload, megabytes, upload_too_large

from .. import importer, parsers
from ..models import ImportBatch, ImportFormat, ImportRow, ImportStatus
from ..records import FileRejected

PAGE_SIZE = 100
FORMAT_CHOICES = [("auto", "Detect from the file"), *ImportFormat.choices]
SHOW_CHOICES = [
    ("all", "All rows"),
    (importer.NEW, "New"),
    (importer.MATCH, "Matches"),
    (importer.UNCHANGED, "Already there"),
    (importer.DUPLICATE, "Duplicates in the file"),
    (importer.ERROR, "Errors"),
]
ACCEPT = ".vcf,.vcard,.csv,.txt,.json,text/vcard,text/csv,application/json"


def _batches(request):
    return ImportBatch.objects.for_user(request.user)


def _family(fmt: str) -> str:
    return fmt if fmt in (ImportFormat.VCARD, ImportFormat.ARCHIVE) else "csv"


def _upload_context(request, data=None, **extra) -> dict:
    data = request.POST if data is None else data
    return {
        "formats": FORMAT_CHOICES,
        "format": data.get("format", "auto"),
        "phone_region": data.get("phone_region") or request.user.phone_region,
        "max_size": megabytes(settings.IMPORT_MAX_BYTES),
        "max_rows": settings.IMPORT_MAX_ROWS,
        "accept": ACCEPT,
        "recent": _batches(request).defer("data")[:5],
        **extra,
    }


def _refuse_too_large(request: HttpRequest) -> HttpResponse:
    # Refused from the declared length alone: nothing is read or stored.
    return render(
        request,
        "portability/import_upload.html",
        # The form is not read (that would read the file): the page starts afresh.
        _upload_context(request, data={}, error=_too_large_message(request)),
        status=413,
    )


@login_required
@limited_upload(lambda: settings.IMPORT_MAX_BYTES, _refuse_too_large)
def upload(request: HttpRequest) -> HttpResponse:
    return _upload(request)


def _too_large_message(request) -> str:
    return (
        f"The file is larger than {megabytes(settings.IMPORT_MAX_BYTES)}, the most an import "
        "can take. Export fewer contacts at a time (one label or group), or remove photos."
    )


@require_http_methods(["GET", "POST"])
def _upload(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "portability/import_upload.html", _upload_context(request))

    def refuse(message: str, status: int = 400) -> HttpResponse:
        context = _upload_context(request, error=message)
        return render(request, "portability/import_upload.html", context, status=status)

    upload_file = request.FILES.get("file")
    if upload_too_large(request):
        return refuse(_too_large_message(request), status=413)
    if upload_file is None:
        return refuse("Choose a file to upload: a vCard (.vcf), a CSV or a Referral CRM archive.")
    fmt = request.POST.get("format", "auto")
    if fmt not in dict(FORMAT_CHOICES):
        return refuse("Pick a format from the list, or let us detect it.")
    region = (request.POST.get("phone_region") or "").strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        return refuse("Use a two-letter country code for phone numbers, such as US, GB or DE.")
    if upload_file.size > settings.IMPORT_MAX_BYTES:
        return refuse(_too_large_message(request), status=413)
    data = upload_file.read()
    try:
        detected = parsers.detect_format(data[:65536], upload_file.name or "")
    except FileRejected as exc:
        return refuse(str(exc))
    if fmt == "auto":
        fmt = detected
    elif _family(fmt) != _family(detected):
        labels = dict(ImportFormat.choices)
        return refuse(
            f"This file looks like {labels[detected]}, not {labels[fmt]}. "
            "Choose “Detect from the file” or the right format."
        )
    estimate = importer.estimate_rows(data, fmt)
    if estimate > settings.IMPORT_MAX_ROWS + 10 and fmt != ImportFormat.ARCHIVE:
        return refuse(
            f"The file holds about {estimate:,} contacts; an import takes at most "
            f"{settings.IMPORT_MAX_ROWS:,}. Split it into smaller files."
        )
    batch = ImportBatch.objects.create(
        owner=request.user,
        filename=(upload_file.name or "")[:255],
        format=fmt,
        phone_region=region,
        data=data,
        total=estimate,
    )
    if estimate > settings.IMPORT_BACKGROUND_ROWS:
        from ..tasks import prepare_import

        transaction.on_commit(lambda: prepare_import.delay(str(batch.pk)))
        return redirect("portability:import_batch", pk=batch.pk)
    batch.owner = request.user
    importer.prepare(batch)
    if batch.status == ImportStatus.FAILED:
        return refuse(batch.error)
    return redirect("portability:import_batch", pk=batch.pk)


@login_required
@require_GET
def batch_page(request: HttpRequest, pk) -> HttpResponse:
    batch = get_object_or_404(_batches(request), pk=pk)
    context = {"batch": batch, "progress": _progress(batch)}
    if batch.status == ImportStatus.PREVIEW:
        context.update(_preview_context(request, batch))
    return render(request, "portability/import_batch.html", context)


def _progress(batch: ImportBatch) -> dict:
    if batch.status in (ImportStatus.PARSING, ImportStatus.IMPORTING):
        done = importer.read_progress(batch) or 0
    else:
        done = batch.processed
    total = max(batch.total, 1)
    return {"done": min(done, batch.total), "total": batch.total, "percent": 100 * done // total}


def _preview_context(request, batch: ImportBatch) -> dict:
    show = request.GET.get("show", "all")
    if show not in dict(SHOW_CHOICES):
        show = "all"
    rows = ImportRow.objects.filter(batch=batch).order_by("position")
    if show != "all":
        rows = rows.filter(outcome=show)
    summary = batch.summary
    counts = {key: summary.get(key, 0) for key, _ in SHOW_CHOICES}
    counts["all"] = sum(counts.values())
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = counts[show]  # known from the summary: no COUNT(*) per view
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "page_rows": [row.as_dict() for row in page.object_list],
        "show": show,
        "tabs": [(key, label, counts[key]) for key, label in SHOW_CHOICES],
        "summary": summary,
        "labels": importer.OUTCOME_LABELS,
    }
    if batch.format == ImportFormat.CSV and batch.columns:
        context["mapping"] = [
            (str(i), column, batch.column_map.get(str(i), ""))
            for i, column in enumerate(batch.columns)
        ]
        context["mappable"] = parsers.MAPPABLE_FIELDS
    return context


@login_required
@require_GET
def progress(request: HttpRequest, pk) -> HttpResponse:
    """The progress bar alone, polled by htmx; reloads the page when the step is over."""
    batch = get_object_or_404(_batches(request).defer("data"), pk=pk)
    if batch.status not in (ImportStatus.PARSING, ImportStatus.IMPORTING):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("portability:import_batch", args=[batch.pk])
        return response
    return render(
        request,
        "portability/import_batch.html#progress",
        {"batch": batch, "progress": _progress(batch)},
    )


def _apply_choices(request, batch: ImportBatch) -> None:
    """Save the import/keep-both choices of the rows that were on the posted page."""
    shown = _positions(request.POST.getlist("shown"))
    if not shown:
        return
    chosen = _positions(request.POST.getlist("import"))
    keep_both = _positions(request.POST.getlist("keep_both"))
    rows = ImportRow.objects.filter(
        batch=batch, position__in=shown, outcome__in=[importer.NEW, importer.MATCH]
    )
    rows.filter(position__in=chosen).update(selected=True)
    rows.exclude(position__in=chosen).update(selected=False)
    rows.filter(outcome=importer.MATCH, position__in=keep_both).update(keep_both=True)
    rows.exclude(position__in=keep_both).update(keep_both=False)
    importer.recount(batch)


def _positions(values: list[str]) -> set[int]:
    return {int(v) for v in values[: PAGE_SIZE * 2] if v.isascii() and v.isdecimal() and len(v) < 9}


@login_required
@require_POST
def choices(request: HttpRequest, pk) -> HttpResponse:
    with transaction.atomic():
        batch = get_object_or_404(_batches(request).select_for_update(), pk=pk)
        if batch.status != ImportStatus.PREVIEW:
            return redirect("portability:import_batch", pk=batch.pk)
        _apply_choices(request, batch)
        batch.save(update_fields=["summary"])
    if request.htmx:
        return render(request, "portability/import_batch.html#confirm", {"batch": batch})
    messages.success(request, "Choices saved.")
    url = reverse("portability:import_batch", args=[batch.pk])
    query = request.POST.get("query", "")
    return redirect(f"{url}?{query}" if query else url)


@login_required
@require_POST
def mapping(request: HttpRequest, pk) -> HttpResponse:
    """Other CSV: map columns to contact fields, then read the file again."""
    batch = get_object_or_404(_batches(request), pk=pk)
    if batch.status != ImportStatus.PREVIEW or batch.format != ImportFormat.CSV:
        return redirect("portability:import_batch", pk=batch.pk)
    allowed = {name for name, _ in parsers.MAPPABLE_FIELDS}
    new_map = {}
    for i in range(len(batch.columns)):
        field = request.POST.get(f"column_{i}", "")
        if field in allowed and field:
            new_map[str(i)] = field
    batch.column_map = new_map
    batch.status = ImportStatus.PARSING
    batch.save(update_fields=["column_map", "status"])
    if batch.total > settings.IMPORT_BACKGROUND_ROWS:
        from ..tasks import prepare_import

        transaction.on_commit(lambda: prepare_import.delay(str(batch.pk)))
    else:
        importer.prepare(batch)
    return redirect("portability:import_batch", pk=batch.pk)


@login_required
@require_POST
def confirm(request: HttpRequest, pk) -> HttpResponse:
    with transaction.atomic():
        batch = get_object_or_404(_batches(request).select_for_update(), pk=pk)
        if batch.status != ImportStatus.PREVIEW:
            # A second click or another tab: the first confirm already did the work.
            messages.info(request, "This import was already confirmed.")
            return redirect("portability:import_batch", pk=batch.pk)
        if request.POST.getlist("shown"):
            _apply_choices(request, batch)
            batch.save(update_fields=["summary"])
        claimed = importer.confirm(batch)
    if not claimed:
        return redirect("portability:import_batch", pk=batch.pk)
    if batch.total > settings.IMPORT_BACKGROUND_ROWS:
        from ..tasks import run_import

        transaction.on_commit(lambda: run_import.delay(str(batch.pk)))
        return redirect("portability:import_batch", pk=batch.pk)
    batch = importer.run(batch.pk)
    if batch.status == ImportStatus.DONE:
        result = batch.summary.get("result", {})
        messages.success(request, _done_message(result))
    return redirect("portability:import_batch", pk=batch.pk)


def _done_message(result: dict) -> str:
    if "contacts" in result and "created" not in result:
        return f"Archive restored: {result.get('contacts', 0)} contacts and everything with them."
    return (
        f"Imported: {result.get('created', 0)} new contact{'s' if result.get('created') != 1 else ''}, "
        f"{result.get('merged', 0)} updated."
    )


@login_required
@require_POST
def cancel(request: HttpRequest, pk) -> HttpResponse:
    updated = (
        _batches(request)
        .filter(pk=pk, status__in=[ImportStatus.PREVIEW, ImportStatus.PARSING])
        .update(status=ImportStatus.CANCELLED, data=None, finished_at=timezone.now())
    )
    ImportRow.objects.filter(batch__in=_batches(request).filter(pk=pk, status="cancelled")).delete()
    if not updated:
        get_object_or_404(_batches(request), pk=pk)
        messages.info(request, "This import can no longer be cancelled.")
        return redirect("portability:import_batch", pk=pk)
    messages.success(request, "Import cancelled; nothing was imported.")
    return redirect("portability:import")


urlpatterns = [
    path("import/", upload, name="import"),
    path("import/<uuid:pk>/", batch_page, name="import_batch"),
    path("import/<uuid:pk>/progress/", progress, name="import_progress"),
    path("import/<uuid:pk>/choices/", choices, name="import_choices"),
    path("import/<uuid:pk>/mapping/", mapping, name="import_mapping"),
    path("import/<uuid:pk>/confirm/", confirm, name="import_confirm"),
    path("import/<uuid:pk>/cancel/", cancel, name="import_cancel"),
]
