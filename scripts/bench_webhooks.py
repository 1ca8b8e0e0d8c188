"""Webhook fan-out: 1,000 events delivered to a local receiver, through the real code.

``bench_webhooks()`` is called by scripts/bench.py (Django set up, the bench database); run
alone it sets Django up from the environment (DJANGO_SETTINGS_MODULE, DATABASE_URL: a
migrated database). It makes a user with one endpoint on a threaded ``http.server`` on
127.0.0.1, creates 1,000 events with ``webhooks.fan_out`` (what runs after each commit),
sends each with ``webhooks.attempt`` (what the Celery task runs: claim, sign, POST, record)
from a pool of threads standing in for workers, and deletes what it made.
Returns (seconds from the first event to the last delivery, deliveries delivered).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "1000"))
WORKERS = int(os.environ.get("BENCH_WEBHOOK_WORKERS", "16"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    received = 0
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with _Handler.lock:
            _Handler.received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def bench_webhooks(events: int = EVENTS, workers: int = WORKERS) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import override_settings
    from django.utils import timezone

    from accounts.models import User
    from api import webhooks
    from api.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    user = User.objects.create_user(email=f"bench-webhooks-{uuid.uuid4().hex[:8]}@example.com")
    endpoint = WebhookEndpoint.objects.create(owner=user, url=url, events=[Event.CONTACT_CREATED])

    def send(pk: int) -> str:
        try:
            return webhooks.attempt(pk)[0]
        finally:
            connection.close()  # each pool thread has its own connection

    try:
        # The receiver is on loopback, which only the test suite may call.
        with override_settings(WEBHOOK_ALLOW_PRIVATE=True):
            started = time.perf_counter()
            ids: list[int] = []
            for n in range(events):
                webhooks.fan_out(
                    user.pk,
                    Event.CONTACT_CREATED,
                    {"contact": {"id": n, "name": f"Bench contact {n}"}},
                    str(uuid.uuid4()),
                    timezone.now(),
                    enqueue=ids.extend,
                )
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(send, ids))
            seconds = time.perf_counter() - started
        delivered = WebhookDelivery.objects.filter(
            endpoint=endpoint, status=DeliveryStatus.DELIVERED
        ).count()
        assert outcomes.count("delivered") == delivered == events, (outcomes[:5], delivered)
        assert _Handler.received >= events
        return seconds, delivered
    finally:
        server.shutdown()
        server.server_close()
        user.delete()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "referralcrm.settings")
    import django

    django.setup()
    seconds, delivered = bench_webhooks()
    print(f"webhook fan-out: {delivered} events delivered in {seconds:.2f} s")
