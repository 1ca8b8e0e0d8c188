"""Staff who are not superusers: the admin's raw-id boxes never name other users' rows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from contacts.models import Contact
from referrals.models import Referral

pytestmark = pytest.mark.django_db

MARKER = "Qwyjibo-Private-Contact"


@pytest.fixture
def staff_bob(bob):
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    bob.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["referrals", "contacts"])
    )
    return bob


def test_a_raw_id_of_another_users_contact_is_refused_and_not_named(client, alice, staff_bob):
    secret = Contact.objects.create(owner=alice, name=MARKER)
    own = Contact.objects.create(owner=staff_bob, name="Bob's Partner")
    referral = Referral.objects.create(
        owner=staff_bob, direction="given", partner=own, prospect_name="Pat"
    )
    client.force_login(staff_bob)
    url = reverse("admin:referrals_referral_change", args=[referral.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Bob&#x27;s Partner" in page.content.decode() or "Bob's Partner" in page.content.decode()

    response = client.post(
        url,
        {
            "direction": "given",
            "partner": secret.pk,
            "prospect_name": "Pat",
            "referred_on": "2026-11-01",
            "temperature": "warm",
            "status": "passed",
            "currency": "USD",
            "history-TOTAL_FORMS": "0",
            "history-INITIAL_FORMS": "0",
            "history-MIN_NUM_FORMS": "0",
            "history-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert MARKER not in response.content.decode()
    referral.refresh_from_db()
    assert referral.partner == own


def test_staff_without_two_factor_are_sent_to_set_it_up_when_required(client, staff_bob, settings):
    settings.REQUIRE_MFA_FOR_STAFF = True
    client.force_login(staff_bob)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert follow.status_code == 302
    assert reverse("mfa_activate_totp") in follow["Location"]


def test_staff_with_two_factor_get_in_when_required(client, staff_bob, settings):
    from tests.groups_fixtures import with_totp

    settings.REQUIRE_MFA_FOR_STAFF = True
    with_totp(staff_bob)
    client.force_login(staff_bob)
    assert client.get(reverse("admin:index")).status_code == 200
