"""Celery tasks that build large exports into private files, and sweep the expired ones.

Thin tasks over ``build(job_id)`` and ``delete_expired()``, which the tests call directly.
Files live under ``settings.EXPORT_ROOT/<owner id>/<job id>.<ext>``, outside the static
and media roots: only ``portability.views.exports.download`` serves them, to their owner.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .exports import EXTENSIONS, chunks
from .models import ExportJob, ExportStatus

log = logging.getLogger(__name__)

# Far beyond CELERY_TASK_TIME_LIMIT: a job still unfinished after this was lost.
STUCK_AFTER = timedelta(hours=1)


def export_path(job: ExportJob) -> Path:
    return Path(settings.EXPORT_ROOT) / str(job.owner_id) / f"{job.pk}.{EXTENSIONS[job.format]}"


def file_of(job: ExportJob) -> Path | None:
    """The absolute path of a job's file, if it is set and inside EXPORT_ROOT."""
    if not job.path:
        return None
    root = Path(settings.EXPORT_ROOT).resolve()
    path = (root / job.path).resolve()
    return path if path.is_relative_to(root) else None


def build(job_id) -> str:
    """Claim a queued job, write its file, mark it ready (or failed). Returns the status.

    The claim is a compare-and-set (queued → running), so a task delivered twice builds
    the file once.
    """
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING
    )
    job = ExportJob.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or not claimed:
        return job.status if job else "missing"
    path = export_path(job)
    partial = path.with_suffix(path.suffix + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "w", encoding="utf-8", newline="") as out:
            for chunk in chunks(job.format, job.owner):
                out.write(chunk)
        os.replace(partial, path)
    except Exception as exc:
        log.exception("Export %s failed", job_id)
        partial.unlink(missing_ok=True)
        job.status = ExportStatus.FAILED
        job.error = f"The export could not be built ({type(exc).__name__}). Please try again."
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        return job.status
    now = timezone.now()
    job.path = str(path.relative_to(Path(settings.EXPORT_ROOT)))
    job.size = path.stat().st_size
    job.status = ExportStatus.READY
    job.finished_at = now
    job.expires_at = now + timedelta(hours=settings.EXPORT_LINK_HOURS)
    job.save(update_fields=["path", "size", "status", "finished_at", "expires_at"])
    return job.status


def delete_file(job: ExportJob) -> None:
    path = file_of(job)
    if path is not None:
        path.unlink(missing_ok=True)


def delete_expired(now=None) -> int:
    """Delete the files of expired exports (the jobs stay, shown as expired), and mark
    jobs stuck unfinished for longer than ``STUCK_AFTER`` (a lost task) as failed."""
    now = now or timezone.now()
    ExportJob.objects.filter(
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING], created_at__lt=now - STUCK_AFTER
    ).update(
        status=ExportStatus.FAILED,
        error="The export was interrupted. Please try again.",
        finished_at=now,
    )
    expired = ExportJob.objects.filter(expires_at__lte=now).exclude(path="")
    count = 0
    for job in expired.iterator():
        delete_file(job)
        count += ExportJob.objects.filter(pk=job.pk).update(path="", size=0)
    return count


@shared_task(name="portability.build_export")
def build_export(job_id: str) -> str:
    return build(job_id)


@shared_task(name="portability.delete_expired_exports")
def delete_expired_exports() -> int:
    return delete_expired()
