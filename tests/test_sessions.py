"""Sessions end when idle or old; a new password ends the other sessions; changing e-mail
addresses asks for the password again."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _age_session(client, **seconds_ago) -> None:
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


def test_an_idle_session_ends(alice_client, settings):
    settings.SESSION_IDLE_TIMEOUT = 3600
    assert alice_client.get(reverse("dashboard")).status_code == 200
    _age_session(alice_client, _seen_at=3601)
    response = alice_client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert alice_client.get(reverse("dashboard")).status_code == 302  # signed out for good


def test_an_active_session_ends_at_the_absolute_limit(alice_client, settings):
    settings.SESSION_ABSOLUTE_TIMEOUT = 24 * 3600
    assert alice_client.get(reverse("dashboard")).status_code == 200
    _age_session(alice_client, _started_at=24 * 3600 + 1, _seen_at=10)
    assert alice_client.get(reverse("dashboard")).status_code == 302


def test_a_recent_session_lives_on(alice_client, settings):
    settings.SESSION_IDLE_TIMEOUT = 3600
    alice_client.get(reverse("dashboard"))
    _age_session(alice_client, _seen_at=3000)
    assert alice_client.get(reverse("dashboard")).status_code == 200


def test_a_new_password_ends_the_other_sessions(alice):
    phone, laptop = Client(), Client()
    for client in (phone, laptop):
        assert (
            client.post(
                reverse("account_login"), {"login": alice.email, "password": PASSWORD}
            ).status_code
            == 302
        )
    laptop.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "a-new-Passw0rd!x", "password2": "a-new-Passw0rd!x"},
    )
    assert laptop.get(reverse("dashboard")).status_code == 200
    assert phone.get(reverse("dashboard")).status_code == 302


def test_changing_email_addresses_asks_for_the_password_again(alice_client, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0
    response = alice_client.post(
        reverse("account_email"), {"action_add": "", "email": "new@example.com"}
    )
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
