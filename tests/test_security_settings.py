"""Production settings pass Django's deployment check, and proxy headers are believed only
when a trusted proxy is declared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

ROOT = Path(__file__).resolve().parent.parent


def _run_check(**env) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SITE_", "SECURE_"))
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="referralcrm.settings",
        SECRET_KEY="x" * 20 + "-production-grade-secret-key-for-the-check-" + "y" * 20,
        DEBUG="0",
        ALLOWED_HOSTS="crm.example.com",
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_for_an_https_site():
    result = _run_check(SITE_URL="https://crm.example.com", TRUSTED_PROXY="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_names_what_is_missing_when_https_is_turned_off():
    result = _run_check(SITE_URL="https://crm.example.com", SECURE_SSL_REDIRECT="0")
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr  # SECURE_SSL_REDIRECT


def test_a_client_cannot_claim_https_without_a_trusted_proxy(settings):
    assert not getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https")
    assert request.is_secure() is False


@pytest.mark.django_db
def test_pages_send_the_security_headers(client):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/accounts/login/", "/accounts/signup/", "/healthz", "/api/v1/docs/", "/nowhere/"],
)
def test_every_kind_of_page_carries_a_strict_content_security_policy(client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_signed_in_pages_carry_it_too(alice_client):
    for path in ("/dashboard/", "/contacts/", "/referrals/", "/followups/", "/import/"):
        response = alice_client.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy, path


@pytest.mark.django_db
def test_the_api_docs_inline_style_is_allowed_by_its_nonce_only(client):
    response = client.get("/api/v1/docs/")
    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<style nonce="{nonce}">' in response.content.decode()
