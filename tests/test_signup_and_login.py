import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def _confirmation_link(message) -> str:
    match = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", message.body)
    assert match, message.body
    return match.group(1)


def test_signup_verify_login_logout_journey(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "Nina@Example.com",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email__iexact="nina@example.com")

    # Not verified yet: the dashboard is out of reach.
    assert client.get(reverse("dashboard")).status_code == 302

    assert len(mail.outbox) == 1
    link = _confirmation_link(mail.outbox[0])
    # GET only shows a confirmation page, so a mail scanner cannot verify the address.
    page = client.get(link)
    assert page.status_code == 200
    assert not user.emailaddress_set.get().verified
    response = client.post(link)
    assert response.status_code == 302
    assert user.emailaddress_set.get().verified

    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("dashboard")).status_code == 302

    response = client.post(
        reverse("account_login"), {"login": "nina@example.com", "password": "a-long-pass-phrase"}
    )
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert dashboard.context["user"] == user


def test_signup_errors_keep_the_email_typed(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "keep.me@example.com", "password1": "short", "password2": "different"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="keep.me@example.com"' in html
    assert "errorlist" in html
    assert not User.objects.filter(email="keep.me@example.com").exists()


def test_wrong_password_is_refused_with_a_message(client, alice):
    response = client.post(reverse("account_login"), {"login": alice.email, "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_login_is_rate_limited(client, alice):
    pages = [
        client.post(reverse("account_login"), {"login": alice.email, "password": "nope"})
        for _ in range(12)
    ]
    assert "Too many failed login attempts" in pages[-1].content.decode()
    assert "Too many failed login attempts" not in pages[0].content.decode()


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_password_reset_sends_a_link(client, alice):
    response = client.post(reverse("account_reset_password"), {"email": alice.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_profile_saves_and_rejects_bad_currency(alice_client, alice):
    url = reverse("profile")
    data = {
        "display_name": "Alice A.",
        "business_name": "Alice Plans",
        "profession": "Planner",
        "time_zone": "Europe/Paris",
        "default_currency": "E1R",
        "phone_region": "fr",
        "goals": "Twenty new clients",
    }
    response = alice_client.post(url, data)
    assert response.status_code == 200
    assert "three-letter currency code" in response.content.decode()
    assert "Twenty new clients" in response.content.decode()
    data["default_currency"] = "eur"
    assert alice_client.post(url, data).status_code == 302
    alice.refresh_from_db()
    assert (alice.default_currency, alice.time_zone, alice.goals, alice.phone_region) == (
        "EUR",
        "Europe/Paris",
        "Twenty new clients",
        "FR",
    )
