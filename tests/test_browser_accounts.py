"""Sign up, verify the e-mail, log in and enrol two-factor, in real Chromium."""

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-pass-phrase-42"


def _code(secret: str, step: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def test_sign_up_verify_log_in_and_enrol_two_factor(page, live_server):
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("nina@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#main").get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")

    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[0].body).group(1)
    page.goto(link)
    page.locator("#main").get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("heading", name=re.compile("Hello")).is_visible()
    assert User.objects.get(email="nina@example.com").emailaddress_set.get().verified

    # Enrol TOTP: allauth asks for the password again first.
    page.goto("/accounts/2fa/totp/activate/")
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#main").get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(_code(secret))
    page.locator("#main").get_by_role("button", name="Activate").click()
    page.wait_for_url(re.compile(r".*/accounts/2fa/.*"))
    assert User.objects.get(email="nina@example.com").authenticator_set.exists()

    # Log out, log in again: the code is asked for, and a fresh one lets us in.
    page.goto("/dashboard/")
    page.get_by_text("Me", exact=True).click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#main").get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(_code(secret, 1))
    page.locator("#main").get_by_role("button", name="Sign In").click()
    if "/2fa/authenticate/" in page.url:  # the next code is not valid yet: use the current one
        page.get_by_label("Code").fill(_code(secret))
        page.locator("#main").get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")
    assert page.get_by_role("heading", name=re.compile("Hello")).is_visible()
