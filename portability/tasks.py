"""Celery tasks of the portability app: thin wrappers over ``importer`` (exports in
``export_tasks``)."""

from __future__ import annotations

from celery import shared_task

from . import (
    export_tasks,  # noqa: F401 - registers the export tasks with Celery
    importer,
)
from .models import ImportBatch, ImportStatus


@shared_task(name="portability.prepare_import", ignore_result=True)
def prepare_import(batch_id: str) -> str:
    batch = ImportBatch.objects.select_related("owner").filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.PARSING:
        return "skipped"
    return importer.prepare(batch).status


@shared_task(name="portability.run_import", ignore_result=True)
def run_import(batch_id: str) -> str:
    return importer.run(batch_id).status
