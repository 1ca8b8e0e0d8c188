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
