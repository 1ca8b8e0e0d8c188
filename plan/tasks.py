"""Celery tasks of the plan app: thin, each calls one function of ``plan.precompute``."""

from __future__ import annotations

from celery import shared_task

from . import precompute


@shared_task(name="plan.refresh_suggestions", ignore_result=True)
def refresh_suggestions(owner_id: int) -> bool:
    """One user's suggestions and sphere coverage, after a change (debounced)."""
    return precompute.refresh(owner_id)


@shared_task(name="plan.sweep_suggestions", ignore_result=True)
def sweep_suggestions() -> int:
    """Every few minutes (CELERY_BEAT_SCHEDULE): refreshes whose task was lost."""
    return precompute.sweep()


@shared_task(name="plan.refresh_all_suggestions", ignore_result=True)
def refresh_all_suggestions() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): scores include recency, which decays by itself."""
    return precompute.refresh_everyone()
