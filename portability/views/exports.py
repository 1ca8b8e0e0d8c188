"""Export (``/export/``): vCard, CSV or the complete archive, streamed or built in the background.

The form posts (with its CSRF token) rather than being a GET link: a download changes
nothing, but a large export creates a job and starts a task, and link prefetchers or a
crawler should never start either. Small accounts get the file in the response itself
(``StreamingHttpResponse``); larger ones get an ``ExportJob`` whose status the page polls
with htmx until the private download link is ready.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contacts import counters
from contacts.models import Contact, Meeting

from .. import export_tasks
from ..exports import CONTENT_TYPES, chunks, filename
from ..models import ExportFormat, ExportJob, ExportStatus

# Up to this many contacts (and, for the archive, meetings) the file streams straight
# back; above it, a Celery task builds it and the page offers a link when it is ready.
DIRECT_MAX_CONTACTS = 2_000
DIRECT_MAX_MEETINGS = 20_000
RECENT_JOBS = 10


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label="What to export",
        choices=ExportFormat.choices,
        initial=ExportFormat.VCARD,
        widget=forms.RadioSelect,
    )


def _get_job(request: HttpRequest, pk) -> ExportJob:
    return get_object_or_404(ExportJob.objects.for_user(request.user), pk=pk)


def needs_background(user, fmt: str) -> bool:
    contacts = Contact.objects.for_user(user)
    if contacts[DIRECT_MAX_CONTACTS : DIRECT_MAX_CONTACTS + 1].exists():
        return True
    if fmt == ExportFormat.JSON:
        meetings = Meeting.objects.for_user(user)
        return meetings[DIRECT_MAX_MEETINGS : DIRECT_MAX_MEETINGS + 1].exists()
    return False


def _stream(user, fmt: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (chunk.encode("utf-8") for chunk in chunks(fmt, user)), content_type=CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(fmt)}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fmt = form.cleaned_data["format"]
        if not needs_background(request.user, fmt):
            return _stream(request.user, fmt)
        pending = ExportJob.objects.for_user(request.user).filter(
            format=fmt, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
        )
        if not pending.exists():  # a double click builds one file
            job = ExportJob.objects.create(owner=request.user, format=fmt)
            transaction.on_commit(lambda: export_tasks.build_export.delay(str(job.pk)))
        messages.info(
            request,
            "Your network is large, so the file is being built in the background. "
            "It will be ready to download on this page in a minute or two.",
        )
        return redirect("portability:export")
    jobs = list(ExportJob.objects.for_user(request.user)[:RECENT_JOBS])
    return render(
        request,
        "portability/export.html",
        {
            "form": form,
            "jobs": jobs,
            # active and archived, from the per-owner tally kept on write
            "contact_count": counters.contact_count(request.user, archived=None),
            "direct_max": DIRECT_MAX_CONTACTS,
            "link_hours": settings.EXPORT_LINK_HOURS,
        },
    )


@login_required
@require_GET
def job_status(request: HttpRequest, pk) -> HttpResponse:
    """One job's row (the htmx poll target); it stops polling once ready or failed."""
    job = _get_job(request, pk)
    return render(request, "portability/export.html#job", {"job": job})


@login_required
@require_GET
def download(request: HttpRequest, pk) -> HttpResponse:
    job = _get_job(request, pk)
    if job.is_expired:
        export_tasks.delete_file(job)
        if job.path:
            ExportJob.objects.filter(pk=job.pk).update(path="", size=0)
        return render(request, "portability/export_expired.html", {"job": job}, status=410)
    path = export_tasks.file_of(job) if job.status == ExportStatus.READY else None
    if path is None or not path.exists():
        messages.warning(request, "That export is not ready to download.")
        return redirect("portability:export")
    made_on = timezone.localdate(job.created_at)
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=filename(job.format, made_on),
        content_type=CONTENT_TYPES[job.format],
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("export/", export, name="export"),
    path("export/<uuid:pk>/", job_status, name="export_status"),
    path("export/<uuid:pk>/download/", download, name="export_download"),
]
