import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _current_code(secret: str) -> str:
    import time

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _login(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def _enrol_totp(client, user) -> str:
    _login(client, user)
    # Changing security settings asks for the password again.
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 302
    assert page.url.startswith(reverse("account_reauthenticate"))
    client.post(page.url, {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    response = client.post(reverse("mfa_activate_totp"), {"code": _current_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return secret


def test_enrol_totp_then_login_needs_the_code(client, alice):
    secret = _enrol_totp(client, alice)
    client.post(reverse("account_logout"))

    response = _login(client, alice)
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    # Password alone does not open the dashboard.
    assert client.get(reverse("dashboard")).status_code == 302

    bad = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert bad.status_code == 200
    code = _current_code(secret)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200

    # The same code cannot be replayed for a second login.
    client.post(reverse("account_logout"))
    _login(client, alice)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
    assert client.get(reverse("dashboard")).status_code == 302


def test_recovery_code_logs_in_once(client, alice):
    _enrol_totp(client, alice)
    codes_page = client.get(reverse("mfa_view_recovery_codes"))
    assert codes_page.status_code == 200
    codes = codes_page.context["unused_codes"]
    assert len(codes) >= 5
    client.post(reverse("account_logout"))

    _login(client, alice)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("account_logout"))

    _login(client, alice)
    reused = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert reused.status_code == 200
    assert client.get(reverse("dashboard")).status_code == 302
