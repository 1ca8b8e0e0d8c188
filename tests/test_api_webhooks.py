"""Signed webhooks: signing, delivery to a real local receiver, retries, auto-disable,
SSRF refusals, isolation, and one event per change."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from api import webhooks
from api.models import DeliveryStatus, Event, WebhookDelivery, WebhookEndpoint
from contacts.meetings import log_meeting
from contacts.models import Contact, MeetingKind
from followups.models import FollowUp
from referrals.models import Direction, Referral, Status
from tests.conftest import make_user
from tests.test_contact_pages import contact_data, local_input

ALL_EVENTS = list(Event.values)


# --- A real HTTP receiver on loopback ------------------------------------------------------


class Receiver:
    """A threaded ``http.server`` that records each request and answers with the next
    scripted status (200 once the script runs out)."""

    def __init__(self, codes=()):
        self.codes = list(codes)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    code = receiver.codes.pop(0) if receiver.codes else 200
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "code": code,
                        }
                    )
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/crm?src=test"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def endpoint_for(user, url, events=None, **extra) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(owner=user, url=url, events=events or ALL_EVENTS, **extra)


def send_all_pending() -> list[str]:
    """Run every pending delivery once, in-process, through the real delivery function."""
    ids = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)
    return [webhooks.attempt(pk)[0] for pk in ids]


def deliveries(endpoint, event=None):
    qs = WebhookDelivery.objects.filter(endpoint=endpoint)
    return list(qs.filter(event=event) if event else qs)


# --- Signing ---------------------------------------------------------------------------


def test_signature_verifies_the_documented_way():
    secret = "whsec_test"
    body = b'{"id":"e1","type":"ping"}'
    header = webhooks.sign(secret, body)

    assert webhooks.verify_signature(secret, header, body)
    # Independently, as the README tells a receiver to: HMAC-SHA256 over "<t>.<body>".
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - time.time()) < 5

    assert not webhooks.verify_signature(secret, header, body + b" ")
    assert not webhooks.verify_signature("whsec_other", header, body)
    old = webhooks.sign(secret, body, timestamp=int(time.time()) - 301)
    assert not webhooks.verify_signature(secret, old, body)
    assert not webhooks.verify_signature(secret, "garbage", body)


def test_meeting_logged_on_the_page_reaches_the_receiver_signed(
    alice_client, alice, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(alice, receiver.url, [Event.MEETING_LOGGED])
    susan = Contact.objects.create(owner=alice, name="Susan Planner")

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("contacts:meeting_log"),
            {
                "attendees": [susan.pk],
                "kind": MeetingKind.COFFEE,
                "occurred_at": local_input(timezone.now() - timedelta(hours=1)),
                "place": "Corner cafe",
                "fact_0_kind": "goal",
                "fact_0_text": "Wants a studio",
            },
        )
    assert response.status_code == 302
    [delivery] = deliveries(endpoint)
    assert send_all_pending() == ["delivered"]

    [request] = receiver.requests
    assert request["path"] == "/hooks/crm?src=test"
    headers = request["headers"]
    assert headers["Referral-CRM-Event"] == "meeting.logged"
    assert headers["Referral-CRM-Delivery"] == str(delivery.event_id)
    assert headers["Content-Type"] == "application/json"
    assert webhooks.verify_signature(
        endpoint.secret, headers["Referral-CRM-Signature"], request["body"]
    )
    payload = json.loads(request["body"])
    assert payload["id"] == str(delivery.event_id)
    assert payload["type"] == "meeting.logged"
    assert payload["data"]["attendees"] == [{"id": susan.pk, "name": "Susan Planner"}]
    assert payload["data"]["meeting"]["place"] == "Corner cafe"
    assert payload["data"]["gains_facts"] == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.response_code == 200
    assert delivery.attempts == 1
    assert delivery.delivered_at is not None


# --- Retries ---------------------------------------------------------------------------


def _fan_out(user, event=Event.CONTACT_CREATED, data=None) -> list[int]:
    import uuid

    return webhooks.fan_out(
        user.pk, event, data or {"x": 1}, str(uuid.uuid4()), timezone.now(), enqueue=list
    )


def _due_now(pk: int) -> None:
    WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=timezone.now())


def test_receiver_failing_twice_then_succeeding_gets_it_once_per_event_id(alice, receiver):
    receiver.codes = [500, 503]
    endpoint = endpoint_for(alice, receiver.url)
    [pk] = _fan_out(alice)

    assert webhooks.attempt(pk) == ("retry", webhooks.BACKOFF[0])
    # The retry is not due yet: a duplicate task that comes early sends nothing.
    assert webhooks.attempt(pk) == ("skipped", 0)
    _due_now(pk)
    assert webhooks.attempt(pk) == ("retry", webhooks.BACKOFF[1])
    _due_now(pk)
    assert webhooks.attempt(pk) == ("delivered", 0)
    _due_now(pk)
    assert webhooks.attempt(pk) == ("skipped", 0)  # delivered is never sent again

    assert [r["code"] for r in receiver.requests] == [500, 503, 200]
    ids = {r["headers"]["Referral-CRM-Delivery"] for r in receiver.requests}
    assert len(ids) == 1
    delivered = [r for r in receiver.requests if r["code"] == 200]
    assert len(delivered) == 1
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert str(delivery.event_id) in ids
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_delivery_is_given_up_after_max_attempts(alice, receiver):
    receiver.codes = [500] * 20
    endpoint = endpoint_for(alice, receiver.url)
    [pk] = _fan_out(alice)
    outcomes = []
    for _ in range(webhooks.MAX_ATTEMPTS + 1):
        _due_now(pk)
        outcomes.append(webhooks.attempt(pk)[0])
    assert outcomes == ["retry"] * (webhooks.MAX_ATTEMPTS - 1) + ["failed", "skipped"]
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert (delivery.status, delivery.response_code, delivery.error) == ("failed", 500, "HTTP 500")
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


def test_a_redirect_is_not_followed_and_counts_as_a_failure(alice, receiver):
    receiver.codes = [302]
    endpoint_for(alice, receiver.url)
    [pk] = _fan_out(alice)
    assert webhooks.attempt(pk)[0] == "retry"
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_retried(alice, receiver):
    url = receiver.url
    receiver.close()
    endpoint_for(alice, url)
    [pk] = _fan_out(alice)
    assert webhooks.attempt(pk)[0] == "retry"
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert delivery.response_code is None
    assert "Connection" in delivery.error or "refused" in delivery.error.lower()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_retries_with_backoff_and_delivers_once(receiver, monkeypatch):
    from celery.contrib.testing.worker import start_worker

    from referralcrm.celery import app

    monkeypatch.setattr(webhooks, "BACKOFF", (1, 1, 1, 1, 1))
    receiver.codes = [500]
    alice = make_user("alice@example.com", display_name="Alice Owner")
    endpoint = endpoint_for(alice, receiver.url, [Event.CONTACT_CREATED])

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            Contact.objects.create(owner=alice, name="Worker Wendy")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if WebhookDelivery.objects.filter(
                endpoint=endpoint, status=DeliveryStatus.DELIVERED
            ).exists():
                break
            time.sleep(0.1)

    [delivery] = deliveries(endpoint)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert [r["code"] for r in receiver.requests] == [500, 200]
    assert {r["headers"]["Referral-CRM-Delivery"] for r in receiver.requests} == {
        str(delivery.event_id)
    }
    assert json.loads(receiver.requests[1]["body"])["data"]["contact"]["name"] == "Worker Wendy"


# --- Auto-disable ------------------------------------------------------------------------


def test_endpoint_is_disabled_after_repeated_failures_with_a_notice(
    alice_client, alice, receiver, monkeypatch
):
    monkeypatch.setattr(webhooks, "DISABLE_AFTER", 3)
    receiver.codes = [500] * 100
    endpoint = endpoint_for(alice, receiver.url)
    for _ in range(3):
        [pk] = _fan_out(alice)
        for _ in range(webhooks.MAX_ATTEMPTS):
            _due_now(pk)
            webhooks.attempt(pk)

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at is not None
    assert "3 deliveries in a row failed" in endpoint.disabled_reason
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    assert endpoint.url in mail.outbox[0].body

    # Nothing more is created or sent while it is disabled.
    assert _fan_out(alice) == []
    page = alice_client.get(reverse("apisettings:webhooks")).content.decode()
    assert "Disabled:" in page and "3 deliveries in a row failed" in page

    # A pending retry of a disabled endpoint gives up without sending.
    sent = len(receiver.requests)
    stuck = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="7d3c9b5e-0000-4000-8000-000000000001", event="ping", payload={}
    )
    assert webhooks.attempt(stuck.pk)[0] == "failed"
    assert len(receiver.requests) == sent

    response = alice_client.post(reverse("apisettings:webhook_enable", args=[endpoint.pk]))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (
        endpoint.is_active and endpoint.consecutive_failures == 0 and not endpoint.disabled_reason
    )
    assert len(_fan_out(alice)) == 1


def test_a_success_resets_the_failure_count(alice, receiver):
    receiver.codes = []
    endpoint = endpoint_for(alice, receiver.url, consecutive_failures=7)
    [pk] = _fan_out(alice)
    assert webhooks.attempt(pk)[0] == "delivered"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


# --- SSRF ------------------------------------------------------------------------------


REFUSED = [
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[fe80::1]/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://localhost/hook",
    "https://localhost:8443/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused_on_the_form(alice_client, alice, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = alice_client.post(
        reverse("apisettings:webhooks"), {"url": url, "events": [Event.MEETING_LOGGED]}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "That address is on a private network; webhooks must reach a public HTTPS server" in page
    assert f'value="{url}"' in page  # input kept
    assert not WebhookEndpoint.objects.exists()
    with pytest.raises(webhooks.UnsafeURL):
        webhooks.check_url(url)


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://example.com/hook", "must use an https:// address"),
        ("ftp://example.com/hook", "must use an https:// address"),
        ("https://user:pw@example.com/hook", "Leave user names and passwords out"),
        ("https://no-such-host.invalid/hook", "could not be found"),
    ],
)
def test_other_bad_urls_are_refused(alice_client, alice, settings, url, message):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = alice_client.post(
        reverse("apisettings:webhooks"), {"url": url, "events": [Event.MEETING_LOGGED]}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_public_addresses_pass_the_address_check():
    for address in ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"]:
        assert webhooks.is_public_address(ipaddress.ip_address(address))
    for address in ["100.64.0.1", "::ffff:10.0.0.1", "fd00::1", "2002:7f00:1::1", "::"]:
        assert not webhooks.is_public_address(ipaddress.ip_address(address))


def test_the_address_is_checked_again_at_delivery_time(alice, receiver, settings):
    endpoint_for(alice, receiver.url)  # allowed at registration (tests only)
    [pk] = _fan_out(alice)
    settings.WEBHOOK_ALLOW_PRIVATE = False  # "DNS changed": now it is refused
    assert webhooks.attempt(pk)[0] == "retry"
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert "must use an https:// address" in delivery.error


def test_a_loopback_https_endpoint_is_refused_at_delivery(alice, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint_for(alice, "https://localhost:9/hook")
    [pk] = _fan_out(alice)
    assert webhooks.attempt(pk)[0] == "retry"
    assert webhooks.PRIVATE_MESSAGE in WebhookDelivery.objects.get(pk=pk).error


# --- Pages -------------------------------------------------------------------------------


def test_add_endpoint_then_see_its_secret_and_log(alice_client, alice, receiver):
    response = alice_client.post(
        reverse("apisettings:webhooks"),
        {
            "url": receiver.url,
            "events": [Event.MEETING_LOGGED, Event.SLIP_RECEIVED],
            "description": "Zapier",
        },
    )
    endpoint = WebhookEndpoint.objects.get(owner=alice)
    assert response.status_code == 302
    assert response.url == reverse("apisettings:webhook", args=[endpoint.pk])
    assert endpoint.events == [Event.MEETING_LOGGED, Event.SLIP_RECEIVED]
    assert endpoint.secret.startswith("whsec_")

    page = alice_client.get(response.url).content.decode()
    assert endpoint.secret in page
    assert "Reveal secret" in page

    old = endpoint.secret
    alice_client.post(reverse("apisettings:webhook_rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old


def test_form_needs_an_event_and_keeps_input(alice_client, alice, receiver):
    response = alice_client.post(
        reverse("apisettings:webhooks"), {"url": receiver.url, "description": "Kept text"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Pick at least one event." in page
    assert "Kept text" in page


def test_send_test_event_is_delivered_and_logged(
    alice_client, alice, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(alice, receiver.url, [Event.MEETING_LOGGED])
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("apisettings:webhook_test", args=[endpoint.pk]))
    assert response.status_code == 302
    assert send_all_pending() == ["delivered"]
    assert receiver.requests[0]["headers"]["Referral-CRM-Event"] == "ping"
    page = alice_client.get(reverse("apisettings:webhook", args=[endpoint.pk])).content.decode()
    assert "ping" in page and "Delivered" in page and "200" in page


def test_changes_need_post(alice_client, alice, receiver):
    endpoint = endpoint_for(alice, receiver.url)
    for name in ["webhook_rotate", "webhook_enable", "webhook_test", "webhook_delete"]:
        assert (
            alice_client.get(reverse(f"apisettings:{name}", args=[endpoint.pk])).status_code == 405
        )


def test_delete_endpoint(alice_client, alice, receiver):
    endpoint = endpoint_for(alice, receiver.url)
    response = alice_client.post(reverse("apisettings:webhook_delete", args=[endpoint.pk]))
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_delivery_log_paginates(alice_client, alice, receiver):
    endpoint = endpoint_for(alice, receiver.url)
    for _ in range(30):
        _fan_out(alice)
    url = reverse("apisettings:webhook", args=[endpoint.pk])
    first = alice_client.get(url).content.decode()
    assert "Page 1 of 2" in first
    assert alice_client.get(url + "?page=2").status_code == 200


def test_list_page_query_count_does_not_grow(
    alice_client, alice, receiver, django_assert_max_num_queries
):
    def grow(endpoints: int, events: int):
        for _ in range(endpoints):
            endpoint_for(alice, receiver.url)
        for _ in range(events):
            _fan_out(alice)

    grow(1, 2)
    with django_assert_max_num_queries(8) as small:
        alice_client.get(reverse("apisettings:webhooks"))
    grow(6, 10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = alice_client.get(reverse("apisettings:webhooks"))
    assert response.content.decode().count("webhook-item") == 7


# --- Isolation ---------------------------------------------------------------------------


def test_other_users_endpoints_are_404(charlie_client, alice, receiver):
    endpoint = endpoint_for(alice, receiver.url, description="ALICE-MARKER-HOOK")
    assert charlie_client.get(reverse("apisettings:webhook", args=[endpoint.pk])).status_code == 404
    for name in ["webhook_rotate", "webhook_enable", "webhook_test", "webhook_delete"]:
        response = charlie_client.post(reverse(f"apisettings:{name}", args=[endpoint.pk]))
        assert response.status_code == 404
    page = charlie_client.get(reverse("apisettings:webhooks")).content.decode()
    assert "ALICE-MARKER-HOOK" not in page and endpoint.secret not in page
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_alices_events_never_go_to_charlies_endpoints(
    alice, charlie, receiver, django_capture_on_commit_callbacks
):
    charlies = endpoint_for(charlie, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        susan = Contact.objects.create(owner=alice, name="ALICE-MARKER Susan")
        log_meeting(owner=alice, occurred_at=timezone.now(), kind="coffee", attendees=[susan])
    assert deliveries(charlies) == []


def test_no_endpoint_costs_one_query_at_commit(
    alice, django_capture_on_commit_callbacks, django_assert_num_queries
):
    susan = Contact.objects.create(owner=alice, name="Susan")
    with django_capture_on_commit_callbacks() as callbacks:
        log_meeting(owner=alice, occurred_at=timezone.now(), kind="coffee", attendees=[susan])
    assert len(callbacks) == 1
    with django_assert_num_queries(1):
        callbacks[0]()


# --- One event per change ----------------------------------------------------------------


def test_contact_created_and_updated_once_per_change(
    alice_client, alice, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(alice, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("contacts:create"), contact_data())
    contact = Contact.objects.get(owner=alice)
    [created] = deliveries(endpoint)
    assert created.event == Event.CONTACT_CREATED
    assert created.payload["data"]["contact"] == {
        "id": contact.pk,
        "name": "Susan Planner",
        "company": "Acme Wealth",
        "profession": "Financial planner",
        "stage": "acquaintance",
        "cadence_days": 14,
    }
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(
            reverse("contacts:edit", args=[contact.pk]), contact_data(company="New Co")
        )
    [updated] = deliveries(endpoint, Event.CONTACT_UPDATED)
    assert updated.payload["data"]["contact"]["company"] == "New Co"
    assert len(deliveries(endpoint)) == 2

    # A logged meeting moves the contact's last touch: that is not "contact changed".
    with django_capture_on_commit_callbacks(execute=True):
        log_meeting(owner=alice, occurred_at=timezone.now(), kind="coffee", attendees=[contact])
    assert len(deliveries(endpoint, Event.CONTACT_UPDATED)) == 1
    assert len(deliveries(endpoint, Event.MEETING_LOGGED)) == 1


def test_unsubscribed_events_are_not_sent(alice, receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(alice, receiver.url, [Event.MEETING_LOGGED])
    with django_capture_on_commit_callbacks(execute=True):
        Contact.objects.create(owner=alice, name="Susan")
    assert deliveries(endpoint) == []


def test_rolled_back_changes_send_nothing(alice, receiver, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(alice, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                Contact.objects.create(owner=alice, name="Ghost")
                raise RuntimeError
        except RuntimeError:
            pass
    assert deliveries(endpoint) == []


def test_referral_status_change_once_with_previous(
    alice_client, alice, receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(alice, receiver.url, [Event.REFERRAL_STATUS_CHANGED])
    susan = Contact.objects.create(owner=alice, name="Susan")
    referral = Referral.objects.create(
        owner=alice, partner=susan, direction=Direction.GIVEN, prospect_name="Pat Prospect"
    )
    with django_capture_on_commit_callbacks(execute=True):
        referral.move_to(Status.CONTACTED)
    [delivery] = deliveries(endpoint)
    data = delivery.payload["data"]
    assert data["status"] == "contacted" and data["previous_status"] == "passed"
    assert data["referral"]["partner"] == {"id": susan.pk, "name": "Susan"}
    assert data["referral"]["prospect_name"] == "Pat Prospect"


def test_slip_received_goes_to_the_receiver_only(
    alice, bob, receiver, django_capture_on_commit_callbacks
):
    from groups import slips
    from tests.groups_fixtures import build_group

    chapter = build_group(members=[alice, bob])
    alices = endpoint_for(alice, receiver.url)
    bobs = endpoint_for(bob, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        slip = slips.give(
            giver=chapter.m["alice"],
            receiver=chapter.m["bob"],
            by=alice,
            prospect_name="Pat Prospect",
            need="A new kitchen",
            note="ALICE-PRIVATE-NOTE",
        )
    # (A giver's ledger may gain a contact for the receiver: contact.created, their own.)
    assert deliveries(alices, Event.SLIP_RECEIVED) == []
    [received] = deliveries(bobs, Event.SLIP_RECEIVED)
    assert received.event == Event.SLIP_RECEIVED
    data = received.payload["data"]
    assert data["slip"]["id"] == slip.pk
    assert data["slip"]["from"]["name"] == "Alice Owner"
    assert data["slip"]["group"]["name"] == chapter.group.name
    assert data["referral"] == Referral.objects.get(owner=bob, slip=slip).pk
    assert "ALICE-PRIVATE-NOTE" not in json.dumps(received.payload)

    # Moving the slip on changes both ledger rows: each owner hears of their own row.
    with django_capture_on_commit_callbacks(execute=True):
        slips.advance(slip, bob)
    [alice_change] = deliveries(alices, Event.REFERRAL_STATUS_CHANGED)
    [bob_change] = deliveries(bobs, Event.REFERRAL_STATUS_CHANGED)
    assert alice_change.payload["data"]["referral"]["id"] == Referral.objects.get(owner=alice).pk
    assert bob_change.payload["data"]["referral"]["id"] == Referral.objects.get(owner=bob).pk
    assert alice_change.payload["data"]["previous_status"] == "passed"
    assert "ALICE-PRIVATE-NOTE" not in json.dumps(bob_change.payload)


def test_followup_due_is_emitted_once_by_the_sweep(alice, receiver):
    endpoint = endpoint_for(alice, receiver.url, [Event.FOLLOWUP_DUE])
    susan = Contact.objects.create(owner=alice, name="Susan")
    today = timezone.now().astimezone(alice.tzinfo).date()
    due = FollowUp.objects.create(owner=alice, contact=susan, title="Send thanks", due_on=today)
    FollowUp.objects.create(
        owner=alice, contact=susan, title="Later", due_on=today + timedelta(days=3)
    )
    queued: list[int] = []
    assert webhooks.sweep(enqueue=queued.extend)["followups_due"] == 1
    assert webhooks.sweep(enqueue=queued.extend)["followups_due"] == 0
    [delivery] = deliveries(endpoint)
    assert delivery.payload["data"]["followup"]["id"] == due.pk
    assert delivery.payload["data"]["contact"]["name"] == "Susan"
    assert queued == [delivery.pk]

    # Snoozed to a later day, it is a new event when that day comes.
    due.snooze_until(today)  # same day: same event id, nothing new
    assert webhooks.emit_followups_due(enqueue=queued.extend) == 0


def test_sweep_requeues_lost_deliveries(alice, receiver):
    endpoint_for(alice, receiver.url)
    [pk] = _fan_out(alice)
    assert webhooks.requeue_lost(enqueue=list) == 0
    WebhookDelivery.objects.filter(pk=pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )
    queued: list[int] = []
    assert webhooks.requeue_lost(enqueue=queued.extend) == 1
    assert queued == [pk]
