"""The Celery application: tasks are autodiscovered from each app's ``tasks.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referralcrm.settings")

app = Celery("referralcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="referralcrm.heartbeat")
def heartbeat() -> str:
    """Record that beat scheduled and a worker ran a task; /healthz reads it."""
    from referralcrm.health import record_heartbeat

    return record_heartbeat()
