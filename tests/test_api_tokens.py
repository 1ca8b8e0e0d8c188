"""Personal access tokens: the settings page that makes and revokes them, and the API's
authentication, scope and rate-limit rules end to end (against ``/api/v1/tags/``)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.auth import LAST_USED_GRANULARITY
from api.models import ApiToken, TokenScope, hash_token
from api.token_views import MAX_USABLE_TOKENS, NEW_TOKEN_SESSION_KEY
from contacts.models import Tag

PAGE = "/settings/api-tokens/"
TAGS = "/api/v1/tags/"


def bearer(plaintext: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def make_token(user, *, scope=TokenScope.READ, name="Script", **extra) -> tuple[ApiToken, str]:
    return ApiToken.issue(user, name=name, scope=scope, **extra)


def create(client, **data):
    form = {"name": "iPhone shortcut", "scope": "read", "expiry": "90", "expires_on": ""}
    form.update(data)
    return client.post(PAGE, form)


# --- The settings page -----------------------------------------------------


def test_page_is_named_and_mounted_under_settings():
    assert reverse("apisettings:tokens") == PAGE
    assert reverse("apisettings:token_revoke", args=[7]) == "/settings/api-tokens/7/revoke/"


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_anonymous_cannot_revoke(client, alice):
    token, _ = make_token(alice)
    response = client.post(reverse("apisettings:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    token.refresh_from_db()
    assert token.revoked_at is None


def test_empty_state_explains_tokens(alice_client):
    response = alice_client.get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "No working tokens yet" in text
    assert "Authorization: Bearer" in text
    assert 'href="/api/v1/docs/"' in text
    assert "http://testserver/api/v1/contacts/" in text
    assert "120 requests a minute" in text
    assert response["Cache-Control"].startswith("max-age=0")
    assert "no-store" in response["Cache-Control"]


def test_form_defaults_to_read_only(alice_client):
    text = alice_client.get(PAGE).content.decode()
    assert '<input type="radio" name="scope" value="read" id="id_scope_0" required checked>' in text
    assert '<input type="radio" name="scope" value="write" id="id_scope_1" required>' in text
    assert '<label for="id_name">Name:</label>' in text
    assert '<label for="id_expires_on">Expiry date:</label>' in text


def test_token_is_shown_once_then_never_again(alice_client, alice):
    response = create(alice_client, name="n8n flow")
    assert response.status_code == 302
    assert response["Location"] == PAGE
    token = ApiToken.objects.get(owner=alice)
    assert token.name == "n8n flow"
    assert token.scope == TokenScope.READ

    first = alice_client.get(PAGE).content.decode()
    plaintext = first.split('id="new-token-value" type="text" readonly value="')[1].split('"')[0]
    assert plaintext.startswith("rcrm_") and len(plaintext) > 40
    assert "Copy it now: it won't be shown again." in first
    assert "data-select-on-focus" in first
    assert token.key_hash == hash_token(plaintext)
    assert alice_client.session.get(NEW_TOKEN_SESSION_KEY) is None

    second = alice_client.get(PAGE).content.decode()
    assert plaintext not in second
    assert "Your new token" not in second
    assert f"{token.prefix}…" in second
    # The token shown is the one that works.
    assert alice_client.get(TAGS, **bearer(plaintext)).status_code == 200


def test_token_is_stored_hashed(alice_client, alice):
    create(alice_client)
    plaintext = alice_client.get(PAGE).content.decode().split('readonly value="')[1].split('"')[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_apitoken")
        rows = cursor.fetchall()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert plaintext not in stored
    assert plaintext[len("rcrm_") + 6 :] not in stored  # only the short prefix is kept
    assert hash_token(plaintext) in stored


def test_write_scope_and_expiry_in_days(alice_client, alice):
    before = timezone.now()
    create(alice_client, name="Zapier", scope="write", expiry="30")
    token = ApiToken.objects.get(owner=alice)
    assert token.scope == TokenScope.WRITE
    assert before + timedelta(days=30) <= token.expires_at <= timezone.now() + timedelta(days=30)


def test_never_expiring_token(alice_client, alice):
    create(alice_client, expiry="never")
    assert ApiToken.objects.get(owner=alice).expires_at is None


def test_expiry_on_a_date_lasts_through_that_day_in_the_users_time_zone(alice_client, alice):
    day = timezone.localdate() + timedelta(days=10)
    create(alice_client, expiry="date", expires_on=day.isoformat())
    expires = ApiToken.objects.get(owner=alice).expires_at
    local = timezone.localtime(expires, alice.tzinfo)
    assert local.date() == day + timedelta(days=1)
    assert (local.hour, local.minute) == (0, 0)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 81}, "name", "at most 80 characters"),
        ({"scope": "admin"}, "scope", "Select a valid choice."),
        ({"expiry": "7"}, "expiry", "Select a valid choice."),
        ({"expiry": "date", "expires_on": ""}, "expires_on", "Pick the day the token stops"),
        ({"expiry": "date", "expires_on": "2001-01-01"}, "expires_on", "Pick today or a later"),
        ({"expiry": "date", "expires_on": "2999-01-01"}, "expires_on", "within the next ten"),
        ({"expiry": "date", "expires_on": "not-a-date"}, "expires_on", "Enter a valid date."),
    ],
)
def test_bad_input_re_renders_with_errors_and_input_intact(
    alice_client, alice, data, field, message
):
    form = {"name": "Ledger script", **data}
    response = create(alice_client, **form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert message in " ".join(response.context["form"].errors[field])
    if field != "name":
        assert 'value="Ledger script"' in response.content.decode()
    assert not ApiToken.objects.filter(owner=alice).exists()
    assert NEW_TOKEN_SESSION_KEY not in alice_client.session


def test_number_of_working_tokens_is_bounded(alice_client, alice):
    for n in range(MAX_USABLE_TOKENS):
        make_token(alice, name=f"t{n}")
    response = create(alice_client)
    assert response.status_code == 400
    assert "revoke one you no longer use" in response.content.decode()
    assert ApiToken.objects.filter(owner=alice).count() == MAX_USABLE_TOKENS
    # Revoked ones do not count.
    ApiToken.objects.filter(owner=alice).first().revoke()
    assert create(alice_client).status_code == 302


def test_list_shows_each_tokens_details(alice_client, alice):
    now = timezone.now()
    used, _ = make_token(alice, name="Phone shortcut", scope=TokenScope.WRITE)
    ApiToken.objects.filter(pk=used.pk).update(last_used_at=now - timedelta(minutes=3))
    make_token(alice, name="Old script", expires_at=now - timedelta(days=1))
    revoked, _ = make_token(alice, name="Leaked token")
    revoked.revoke()
    text = alice_client.get(PAGE).content.decode()
    assert "Phone shortcut" in text and f"{used.prefix}…" in text
    assert "Read and write" in text and "Read only" in text
    assert "3\xa0minutes ago" in text
    assert "never" in text
    assert ">active<" in text and ">expired<" in text and ">revoked<" in text
    assert "Revoked and expired (2)" in text
    assert "No working tokens yet" not in text
    assert 'data-confirm="Revoke “Phone shortcut”?' in text


def test_page_never_shows_another_users_tokens(alice_client, charlie):
    make_token(charlie, name="MARKER-charlie-token")
    make_token(charlie, name="MARKER-charlie-revoked")[0].revoke()
    text = alice_client.get(PAGE).content.decode()
    assert "MARKER-charlie" not in text
    assert "No working tokens yet" in text


def test_revoke_is_idempotent(alice_client, alice):
    token, plaintext = make_token(alice)
    url = reverse("apisettings:token_revoke", args=[token.pk])
    response = alice_client.post(url)
    assert response.status_code == 302 and response["Location"] == PAGE
    token.refresh_from_db()
    first = token.revoked_at
    assert first is not None
    assert alice_client.get(TAGS, **bearer(plaintext)).status_code == 401

    response = alice_client.post(url, follow=True)
    assert response.status_code == 200
    assert "was already revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at == first


def test_revoke_needs_post(alice_client, alice):
    token, _ = make_token(alice)
    response = alice_client.get(reverse("apisettings:token_revoke", args=[token.pk]))
    assert response.status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_another_users_token_is_404(alice_client, charlie):
    token, plaintext = make_token(charlie, name="MARKER-charlie")
    response = alice_client.post(reverse("apisettings:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    assert "MARKER-charlie" not in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Client().get(TAGS, **bearer(plaintext)).status_code == 200


def test_revoking_an_unknown_token_is_404(alice_client):
    assert alice_client.post(reverse("apisettings:token_revoke", args=[999999])).status_code == 404


@pytest.mark.parametrize("extra", [5, 40])
def test_page_query_count_does_not_grow_with_tokens(
    alice_client, alice, extra, django_assert_max_num_queries
):
    for n in range(extra):
        token, _ = make_token(alice, name=f"t{n}")
        if n % 2:
            token.revoke()
    with django_assert_max_num_queries(4):  # session, user, usable, inactive
        assert alice_client.get(PAGE).status_code == 200


# --- Authentication --------------------------------------------------------


def test_no_credentials_is_401_with_bearer_challenge(db):
    response = Client().get(TAGS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer two parts",
        "Basic YWxpY2U6cHc=",
        "Token abc",
        "bearer \u00e9t\u00e9",
    ],
)
def test_malformed_header_is_401(alice, header):
    make_token(alice)
    response = Client().get(TAGS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(alice):
    _, plaintext = make_token(alice)
    response = Client().get(TAGS, **bearer(plaintext + "x"))
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_revoked_token_is_401(alice):
    token, plaintext = make_token(alice)
    token.revoke()
    response = Client().get(TAGS, **bearer(plaintext))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_expired_token_is_401(alice):
    _, plaintext = make_token(alice, expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get(TAGS, **bearer(plaintext))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_token_of_a_disabled_account_is_401(alice):
    _, plaintext = make_token(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert Client().get(TAGS, **bearer(plaintext)).status_code == 401


def test_keyword_is_case_insensitive(alice):
    _, plaintext = make_token(alice)
    assert Client().get(TAGS, HTTP_AUTHORIZATION=f"bearer {plaintext}").status_code == 200


def test_read_token_reads_but_cannot_write(alice):
    Tag.objects.create(owner=alice, name="golf")
    _, plaintext = make_token(alice, scope=TokenScope.READ)
    client = Client()
    response = client.get(TAGS, **bearer(plaintext))
    assert response.status_code == 200
    assert [t["name"] for t in response.json()["results"]] == ["golf"]

    response = client.post(
        TAGS, {"name": "tennis"}, content_type="application/json", **bearer(plaintext)
    )
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert not Tag.objects.filter(name="tennis").exists()


def test_write_token_writes_as_its_owner(alice):
    _, plaintext = make_token(alice, scope=TokenScope.WRITE)
    response = Client().post(
        TAGS, {"name": "tennis"}, content_type="application/json", **bearer(plaintext)
    )
    assert response.status_code == 201
    assert response.json()["name"] == "tennis"
    assert Tag.objects.get(name="tennis").owner == alice


def test_token_sees_only_its_owners_data(alice, charlie):
    Tag.objects.create(owner=charlie, name="MARKER-charlie-tag")
    other = Tag.objects.create(owner=charlie, name="MARKER-charlie-other")
    _, plaintext = make_token(alice, scope=TokenScope.WRITE)
    client = Client()
    assert "MARKER-charlie" not in client.get(TAGS, **bearer(plaintext)).content.decode()
    response = client.get(f"{TAGS}{other.pk}/", **bearer(plaintext))
    assert response.status_code == 404
    assert "MARKER-charlie" not in response.content.decode()
    response = client.delete(f"{TAGS}{other.pk}/", **bearer(plaintext))
    assert response.status_code == 404
    assert Tag.objects.filter(pk=other.pk).exists()


def test_last_used_is_recorded_at_most_once_a_minute(alice):
    token, plaintext = make_token(alice)
    assert token.last_used_at is None
    client = Client()
    before = timezone.now()
    client.get(TAGS, **bearer(plaintext))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and first >= before

    # Used again within the minute: not written again.
    client.get(TAGS, **bearer(plaintext))
    token.refresh_from_db()
    assert token.last_used_at == first

    # Last written more than a minute ago: written again.
    stale = timezone.now() - LAST_USED_GRANULARITY - timedelta(seconds=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    client.get(TAGS, **bearer(plaintext))
    token.refresh_from_db()
    assert token.last_used_at > stale + LAST_USED_GRANULARITY


def test_recent_use_costs_no_write(alice, django_assert_num_queries):
    _, plaintext = make_token(alice)
    client = Client()
    client.get(TAGS, **bearer(plaintext))  # records last_used_at
    with django_assert_num_queries(2) as captured:  # the token, the page of tags
        client.get(TAGS, **bearer(plaintext))
    assert not any("UPDATE" in q["sql"] for q in captured.captured_queries)


def test_failed_requests_do_not_mark_the_token_used(alice):
    token, plaintext = make_token(alice)
    token.revoke()
    Client().get(TAGS, **bearer(plaintext))
    token.refresh_from_db()
    assert token.last_used_at is None


# --- Session authentication ------------------------------------------------


def test_session_reads_work_and_writes_need_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(TAGS).status_code == 200

    response = client.post(TAGS, {"name": "golf"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Tag.objects.filter(name="golf").exists()

    client.get(PAGE)  # a page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        TAGS, {"name": "golf"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 201
    assert Tag.objects.get(name="golf").owner == alice


def test_bearer_token_needs_no_csrf(alice):
    _, plaintext = make_token(alice, scope=TokenScope.WRITE)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        TAGS, {"name": "golf"}, content_type="application/json", **bearer(plaintext)
    )
    assert response.status_code == 201


# --- Rate limit ------------------------------------------------------------


def test_fourth_request_in_a_minute_is_429_with_retry_after(alice, settings):
    settings.API_RATE_LIMIT = "3/min"
    _, plaintext = make_token(alice)
    client = Client()
    for _ in range(3):
        assert client.get(TAGS, **bearer(plaintext)).status_code == 200
    response = client.get(TAGS, **bearer(plaintext))
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert "throttled" in response.json()["detail"].lower()


def test_rate_limit_counts_each_token_separately(alice, charlie, settings):
    settings.API_RATE_LIMIT = "3/min"
    _, first = make_token(alice, name="first")
    _, second = make_token(alice, name="second")
    _, charlies = make_token(charlie)
    client = Client()
    for _ in range(3):
        assert client.get(TAGS, **bearer(first)).status_code == 200
    assert client.get(TAGS, **bearer(first)).status_code == 429
    for _ in range(3):
        assert client.get(TAGS, **bearer(second)).status_code == 200
    assert client.get(TAGS, **bearer(second)).status_code == 429
    assert client.get(TAGS, **bearer(charlies)).status_code == 200


def test_rate_limit_applies_to_writes_too(alice, settings):
    settings.API_RATE_LIMIT = "3/min"
    _, plaintext = make_token(alice, scope=TokenScope.WRITE)
    client = Client()
    codes = [
        client.post(
            TAGS, {"name": f"tag{n}"}, content_type="application/json", **bearer(plaintext)
        ).status_code
        for n in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    assert Tag.objects.filter(owner=alice).count() == 3


# --- The create_api_token command ------------------------------------------


def run_command(*args) -> str:
    out = StringIO()
    call_command("create_api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_command_prints_a_working_read_token(alice):
    plaintext = run_command("--user", alice.email)
    token = ApiToken.objects.get(owner=alice)
    assert token.key_hash == hash_token(plaintext)
    assert token.scope == TokenScope.READ
    assert token.expires_at is None
    client = Client()
    assert client.get(TAGS, **bearer(plaintext)).status_code == 200
    response = client.post(
        TAGS, {"name": "x"}, content_type="application/json", **bearer(plaintext)
    )
    assert response.status_code == 403


def test_command_makes_a_write_token_that_expires(alice):
    before = timezone.now()
    plaintext = run_command(
        "--user", alice.email, "--scope", "write", "--days", "7", "--name", "CI"
    )
    token = ApiToken.objects.get(owner=alice)
    assert token.name == "CI"
    assert token.scope == TokenScope.WRITE
    assert before + timedelta(days=7) <= token.expires_at <= timezone.now() + timedelta(days=7)
    response = Client().post(
        TAGS, {"name": "x"}, content_type="application/json", **bearer(plaintext)
    )
    assert response.status_code == 201


def test_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match=r"No user with the e-mail nobody@example\.com"):
        run_command("--user", "nobody@example.com")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("days", ["0", "-1", "4000"])
def test_command_refuses_days_out_of_range(alice, days):
    with pytest.raises(CommandError, match="--days"):
        run_command("--user", alice.email, "--days", days)
    assert not ApiToken.objects.exists()


def test_command_refuses_an_unknown_scope(alice):
    with pytest.raises(CommandError):
        run_command("--user", alice.email, "--scope", "admin")
