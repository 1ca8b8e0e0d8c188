"""The OpenAPI document is the contract: it validates, and schemathesis fuzzes every operation
against it in-process (bounded examples, derandomised): no 5xx, and every response — status,
content type, body — matches what the schema says."""

from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import ApiToken
from contacts.meetings import log_meeting
from contacts.models import Contact, GainsFact, Tag
from followups.models import FollowUp
from referrals.models import Introduction, Referral, Spend

pytestmark = pytest.mark.django_db

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_openapi_document_validates_and_names_the_bearer_scheme(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate_schema(document)  # drf-spectacular's OpenAPI 3 meta-schema; raises if invalid
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert document["paths"], "no operations documented"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "401" in operation["responses"], (method, path)


@pytest.fixture
def api_schema(db):
    # In-process WSGI calls share the test's transaction, as Django's test client does:
    # the handler must not close the connection at the end of each request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


def test_schema_generation_has_no_warnings(tmp_path):
    # Warnings mean a guessed type or an ambiguous name: the contract must be explicit.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "openapi.yaml")
    )


@pytest.fixture
def seeded(db, django_user_model, settings):
    """A user with one of everything, so detail paths and actions reach real rows."""
    settings.API_RATE_LIMIT = "100000/min"
    user = django_user_model.objects.create_user("fuzz@example.com", "fuzz-password-1")
    contact = Contact.objects.create(owner=user, name="Fuzzy Friend", emails=["f@x.example"])
    other = Contact.objects.create(owner=user, name="Other Friend")
    fact = GainsFact.objects.create(owner=user, contact=contact, kind="goal", text="More clients")
    tag = Tag.objects.create(owner=user, name="fuzzing")
    meeting = log_meeting(
        owner=user, occurred_at=timezone.now(), kind="coffee", attendees=[contact]
    )
    followup = FollowUp.objects.create(
        owner=user, contact=contact, title="Call", due_on=timezone.localdate()
    )
    referral = Referral.objects.create(
        owner=user, direction="given", partner=contact, prospect_name="Pat"
    )
    intro = Introduction.objects.create(owner=user, contact_a=contact, contact_b=other)
    spend = Spend.objects.create(owner=user, contact=contact, amount=Decimal("12.50"))
    _, plaintext = ApiToken.issue(user, name="fuzz", scope="write")
    ids = {
        "contacts": contact.pk,
        "gains-facts": fact.pk,
        "tags": tag.pk,
        "meetings": meeting.pk,
        "followups": followup.pk,
        "referrals": referral.pk,
        "introductions": intro.pk,
        "spends": spend.pk,
    }
    return plaintext, ids


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, seeded):
    token, ids = seeded
    resource = case.path.split("/")[3]
    # Half of the examples (derandomised) aim at a real row instead of a random id.
    aim = len(repr(case.body)) % 2 == 0
    if aim and "id" in (case.path_parameters or {}) and resource in ids:
        case.path_parameters["id"] = ids[resource]
    # Each example in a savepoint that is rolled back: it must neither poison nor change
    # the data the next example sees (a DELETE would otherwise remove the seeded row).
    with transaction.atomic():
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
        transaction.set_rollback(True)
