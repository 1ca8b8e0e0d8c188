"""Secret URLs stay out of the logs, and a new password retires the calendar feed URL."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from followups.models import DigestPreference
from referralcrm.logfilters import RedactingGunicornLogger, RedactSecretsFilter, redact
from tests.conftest import PASSWORD

SECRETS = [
    "/followups/calendar/Zk3-secret_token.ics",
    "/followups/act/abc.def:ghi/",
    "/followups/unsubscribe/u-secret/",
    "/groups/join/invite-secret/",
    "/accounts/password/reset/key/1-set-password/",
    "/accounts/confirm-email/confirm-secret/",
]


@pytest.mark.parametrize("path", SECRETS)
def test_each_secret_path_is_redacted(path):
    cleaned = redact(f'GET {path}?x=1 HTTP/1.1" 200')
    assert "secret" not in cleaned and "abc.def" not in cleaned
    assert "[redacted]" in cleaned


def test_ordinary_paths_are_left_alone():
    assert redact("GET /contacts/42/ HTTP/1.1") == "GET /contacts/42/ HTTP/1.1"


def test_the_log_filter_rewrites_djangos_request_records():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (SECRETS[0],), None
    )
    assert RedactSecretsFilter().filter(record) is True
    assert record.getMessage() == "Not Found: /followups/calendar/[redacted]"


def test_the_console_handler_of_the_settings_carries_the_filter(settings):
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["redact_secrets"]
    handler = next(h for h in logging.getLogger("django.request").parent.handlers)
    assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters)


def test_gunicorns_access_log_atoms_are_redacted():
    class Config:
        errorlog = "-"
        loglevel = "info"
        accesslog = None
        syslog = False
        capture_output = False
        logconfig = None
        logconfig_dict = {}
        logconfig_json = None
        access_log_format = '%(h)s "%(r)s" %(s)s'
        disable_redirect_access_to_syslog = False
        user = 0
        group = 0

        def __getattr__(self, name):
            return None

    class Response:
        status = "200 OK"
        response_length = 10
        sent = 10
        headers = ()

    class Request:
        headers = ()

    path = SECRETS[0]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    from datetime import timedelta

    atoms = RedactingGunicornLogger(Config()).atoms(
        Response(), Request(), environ, timedelta(seconds=0.01)
    )
    assert "Zk3" not in atoms["r"] and "Zk3" not in atoms["U"]
    assert "[redacted]" in atoms["r"]


@pytest.mark.django_db
def test_changing_the_password_retires_the_calendar_feed_url(alice_client, alice):
    old = DigestPreference.objects.get(user=alice).calendar_token
    assert alice_client.get(reverse("followups:calendar", args=[old])).status_code == 200
    response = alice_client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "a-new-Passw0rd!x", "password2": "a-new-Passw0rd!x"},
    )
    assert response.status_code == 302
    new = DigestPreference.objects.get(user=alice).calendar_token
    assert new != old
    assert alice_client.get(reverse("followups:calendar", args=[old])).status_code == 404
