"""The digest's one-click links, the unsubscribe link and the digest settings page.

The links are read from the text part of a digest really sent over SMTP.
"""

from __future__ import annotations

import html as htmllib
import re
import time
from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Meeting, MeetingKind
from followups import digest, tokens
from followups.models import DigestLog, DigestPreference, FollowUp, Status, UsedToken
from tests import smtp_server
from tests.conftest import make_user
from tests.smtp_server import body

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")  # alice's time zone (tests/conftest.py)


# --- Helpers ----------------------------------------------------------------------------


def links_in(text: str) -> dict[str, dict[str, str]]:
    """{item line: {link label: path}} from the digest text, e.g.
    links["Send Susan the proposal"]["Mark done"]."""
    links: dict[str, dict[str, str]] = {}
    item = ""
    for line in text.splitlines():
        if line.startswith("* "):
            item = re.sub(r" \(.*$|:.*$", "", line[2:])
            continue
        if match := re.match(r"\s+(Mark done|Snooze a week|I reached out): (\S+)$", line):
            links.setdefault(item, {})[match[1]] = path_of(match[2])
    if match := re.search(r"Unsubscribe in one click: (\S+)", text):
        links["footer"] = {"Unsubscribe": path_of(match[1])}
    return links


def path_of(url: str) -> str:
    assert url.startswith(django_settings.SITE_URL + "/"), url
    return url.removeprefix(django_settings.SITE_URL)


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def page_text(response) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def csrf_token_of(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def confirm(path: str):
    """What a person does: open the link, then press the button on the page (with the
    page's CSRF token; no login)."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200
    return browser.post(path, {"csrfmiddlewaretoken": csrf_token_of(page)})


class SignedLongAgo(signing.TimestampSigner):
    """Signs as Django's signer did ``days`` ago: the link in an old digest."""

    def __init__(self, *, days: float, **kwargs):
        self.days = days
        super().__init__(**kwargs)

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time() - self.days * 24 * 3600))


def aged(token: str, days: float) -> str:
    payload = signing.loads(token, salt=tokens.SALT)
    return SignedLongAgo(days=days, salt=tokens.SALT).sign_object(payload, compress=True)


def snapshot(followup: FollowUp) -> tuple:
    followup.refresh_from_db()
    return (followup.status, followup.due_on, followup.completed_at)


@pytest.fixture
def alices(alice, settings):
    """Alice's digest, sent: a follow-up due today and a contact gone cold."""
    today = timezone.now().astimezone(LONDON).date()
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    followup = FollowUp.objects.create(
        owner=alice, contact=susan, title="Send Susan the proposal", due_on=today
    )
    raj = Contact.objects.create(owner=alice, name="Raj Realtor", company="Raj Homes")
    Contact.objects.filter(pk=raj.pk).update(touch_due_at=timezone.now() - timedelta(days=5))
    now = timezone.now()
    DigestPreference.objects.filter(user=alice).update(next_digest_at=now)
    with smtp_server.running(settings) as smtp:
        for log_id in digest.sweep(now=now):
            digest.send_log(log_id, now=now)
        [message] = smtp.wait_for(1)
    links = links_in(body(message, "plain"))
    return SimpleNamespace(
        today=today,
        susan=susan,
        raj=raj,
        followup=followup,
        done=links["Send Susan the proposal"]["Mark done"],
        snooze=links["Send Susan the proposal"]["Snooze a week"],
        reached_out=links["Raj Realtor"]["I reached out"],
        unsubscribe=links["footer"]["Unsubscribe"],
    )


# --- One-click links: GET confirms, POST acts ---------------------------------------------


@pytest.mark.parametrize(
    ("link", "question", "button"),
    [
        ("done", "Mark this done?", "Mark done"),
        ("snooze", "Snooze a week?", "Snooze a week"),
        ("reached_out", "Log that you reached out?", "Yes, I reached out"),
    ],
)
def test_opening_a_link_shows_a_confirmation_and_changes_nothing(
    client, alices, link, question, button
):
    before = snapshot(alices.followup)

    for _ in range(2):  # a mail scanner may fetch it more than once
        response = client.get(getattr(alices, link))
        assert response.status_code == 200
        text = page_text(response)
        assert question in text
        assert button in text
        assert '<form method="post">' in response.content.decode()

    assert snapshot(alices.followup) == before
    assert not Meeting.objects.exists()
    assert not UsedToken.objects.exists()


def test_done_link_marks_the_follow_up_done_without_login(alices):
    response = confirm(alices.done)

    assert response.status_code == 200
    assert "Marked done: Send Susan the proposal." in page_text(response)
    alices.followup.refresh_from_db()
    assert alices.followup.status == Status.DONE
    assert alices.followup.completed_at is not None


def test_snooze_link_moves_the_follow_up_a_week(alices):
    response = confirm(alices.snooze)

    assert response.status_code == 200
    alices.followup.refresh_from_db()
    assert alices.followup.status == Status.SNOOZED
    assert alices.followup.due_on == alices.today + timedelta(days=7)
    assert f"Snoozed to {alices.followup.due_on:%A} {alices.followup.due_on.day}" in page_text(
        response
    )


def test_snooze_link_of_an_old_digest_leaves_a_done_follow_up_done(alices):
    alices.followup.mark_done()
    response = confirm(alices.snooze)

    assert response.status_code == 200
    assert "Already done: Send Susan the proposal stays done." in page_text(response)
    alices.followup.refresh_from_db()
    assert alices.followup.status == Status.DONE
    assert alices.followup.due_on == alices.today


def test_reached_out_link_logs_a_meeting_and_the_contact_is_no_longer_cold(alices):
    response = confirm(alices.reached_out)

    assert response.status_code == 200
    assert "Logged that you reached out to Raj Realtor." in page_text(response)
    [meeting] = Meeting.objects.all()
    assert meeting.owner == alices.susan.owner
    assert meeting.kind == MeetingKind.MESSAGE
    assert list(meeting.attendees.all()) == [alices.raj]
    alices.raj.refresh_from_db()
    assert alices.raj.last_touched_at is not None
    assert not alices.raj.is_stalled


@pytest.mark.parametrize("link", ["done", "snooze", "reached_out"])
def test_a_link_works_once(client, alices, link):
    assert confirm(getattr(alices, link)).status_code == 200
    after_first = (snapshot(alices.followup), Meeting.objects.count())

    again = client.post(getattr(alices, link))

    assert again.status_code == 400
    assert "This link was already used." in page_text(again)
    assert (snapshot(alices.followup), Meeting.objects.count()) == after_first


def test_tampered_link_is_refused(client, alice, alices):
    other = FollowUp.objects.create(
        owner=alice, contact=alices.susan, title="Another one", due_on=alices.today
    )
    token = token_of(alices.done)
    payload, stamp, signature = token.split(":")
    forged_payload = signing.dumps(
        {**signing.loads(token, salt=tokens.SALT), "t": other.pk}, salt=tokens.SALT, compress=True
    ).split(":")[0]
    forged = [
        f"{forged_payload}:{stamp}:{signature}",  # another follow-up, the old signature
        f"{payload}:{stamp}:{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        f"{payload}:{stamp}",
        "not-a-token",
    ]

    for bad in forged:
        for method in (client.get, client.post):
            response = method(reverse("followups:act", args=[bad]))
            assert response.status_code == 400, bad
            assert "This link is not valid." in page_text(response)

    assert snapshot(alices.followup)[0] == Status.OPEN
    assert snapshot(other)[0] == Status.OPEN
    assert not UsedToken.objects.exists()


def test_expired_link_is_refused(client, alices):
    old = aged(token_of(alices.done), days=8)
    path = reverse("followups:act", args=[old])

    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 400
        assert "This link has expired." in page_text(response)
    assert snapshot(alices.followup)[0] == Status.OPEN
    # Six days old still works: the digest is daily, links live a week.
    assert (
        confirm(reverse("followups:act", args=[aged(token_of(alices.done), days=6)])).status_code
        == 200
    )
    assert snapshot(alices.followup)[0] == Status.DONE


def test_tokens_read_honours_max_age(alices):
    token = aged(token_of(alices.done), days=2)

    assert tokens.read(token).action == "done"
    with pytest.raises(tokens.BadToken, match="expired"):
        tokens.read(token, max_age=24 * 3600)


def test_link_of_a_deactivated_user_does_nothing(client, alice, alices):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = client.post(alices.done)

    assert response.status_code == 400
    assert snapshot(alices.followup)[0] == Status.OPEN


def test_link_for_a_deleted_follow_up_is_refused(client, alices):
    alices.followup.delete()

    response = client.get(alices.done)

    assert response.status_code == 400
    assert "This link is not valid." in page_text(response)


def test_unsubscribe_token_is_not_an_action_link_and_vice_versa(client, alices):
    as_action = reverse("followups:act", args=[token_of(alices.unsubscribe)])
    as_unsubscribe = reverse("followups:unsubscribe", args=[token_of(alices.done)])

    assert client.post(as_action).status_code == 400
    assert client.post(as_unsubscribe).status_code == 400
    assert DigestPreference.objects.get(user=alices.susan.owner).enabled


def test_snooze_link_counts_the_week_from_the_users_own_today(client):
    now = timezone.now()
    # A zone whose date differs from UTC's right now (ahead after 10:00 UTC, else behind).
    zone = "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"
    user = make_user("faraway@example.com", time_zone=zone)
    local_today = now.astimezone(ZoneInfo(zone)).date()
    assert local_today != now.date()
    friend = Contact.objects.create(owner=user, name="Far Friend")
    followup = FollowUp.objects.create(
        owner=user, contact=friend, title="Overdue", due_on=local_today - timedelta(days=3)
    )
    path = reverse("followups:act", args=[tokens.make(user.pk, "snooze", followup.pk)])

    assert confirm(path).status_code == 200

    followup.refresh_from_db()
    assert followup.due_on == local_today + timedelta(days=7)


# --- Unsubscribe ------------------------------------------------------------------------------


def test_unsubscribe_link_get_shows_a_confirmation_and_changes_nothing(client, alice, alices):
    before = DigestPreference.objects.get(user=alice)

    response = client.get(alices.unsubscribe)

    assert response.status_code == 200
    assert "Stop the daily digest?" in page_text(response)
    after = DigestPreference.objects.get(user=alice)
    assert (after.enabled, after.next_digest_at) == (True, before.next_digest_at)


def test_one_click_unsubscribe_post_without_csrf_turns_the_digest_off(settings, alice, alices):
    mail_client = Client(enforce_csrf_checks=True)  # RFC 8058: no session, no CSRF token

    response = mail_client.post(
        alices.unsubscribe,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "You're unsubscribed" in page_text(response)
    pref = DigestPreference.objects.get(user=alice)
    assert (pref.enabled, pref.next_digest_at) == (False, None)

    # Alice has things due tomorrow and the day after, and still gets nothing.
    FollowUp.objects.create(
        owner=alice, contact=alices.susan, title="Still due", due_on=alices.today
    )
    logs_before = DigestLog.objects.count()
    with smtp_server.running(settings) as smtp:
        for days in (1, 2):
            for log_id in digest.sweep(now=timezone.now() + timedelta(days=days)):
                digest.send_log(log_id)
        assert smtp.messages == []
    assert DigestLog.objects.count() == logs_before


def test_unsubscribe_link_lives_longer_than_action_links(client, alice, alices):
    old = reverse("followups:unsubscribe", args=[aged(token_of(alices.unsubscribe), days=30)])
    too_old = reverse("followups:unsubscribe", args=[aged(token_of(alices.unsubscribe), days=61)])

    assert client.post(too_old).status_code == 400
    assert DigestPreference.objects.get(user=alice).enabled
    assert client.post(old).status_code == 200
    assert not DigestPreference.objects.get(user=alice).enabled


# --- The settings page ------------------------------------------------------------------------


def test_settings_page_shows_the_digest_and_calendar_settings(alice_client):
    response = alice_client.get(reverse("followups:settings"))

    assert response.status_code == 200
    text = page_text(response)
    assert "Daily digest" in text
    assert "Europe/London" in text
    assert "Next digest:" in text
    assert "/followups/calendar/" in response.content.decode()


def test_settings_page_saves_hour_and_weekdays_and_reschedules(alice_client, alice):
    response = alice_client.post(
        reverse("followups:settings"), {"enabled": "on", "hour": "9", "weekdays": ["0", "2"]}
    )

    assert response.status_code == 302
    pref = DigestPreference.objects.get(user=alice)
    assert (pref.enabled, pref.hour, pref.weekdays) == (True, 9, [0, 2])
    local = pref.next_digest_at.astimezone(LONDON)
    assert (local.hour, local.minute, local.weekday() in (0, 2)) == (9, 0, True)
    assert pref.next_digest_at > timezone.now()
    assert pref.next_digest_at - timezone.now() <= timedelta(days=7)


def test_settings_page_needs_a_weekday_when_the_digest_is_on(alice_client, alice):
    before = DigestPreference.objects.get(user=alice)

    response = alice_client.post(reverse("followups:settings"), {"enabled": "on", "hour": "9"})

    assert response.status_code == 200
    assert "Pick at least one day, or turn the digest off." in page_text(response)
    after = DigestPreference.objects.get(user=alice)
    assert (after.hour, after.weekdays, after.next_digest_at) == (
        before.hour,
        before.weekdays,
        before.next_digest_at,
    )


def test_settings_page_rejects_an_hour_out_of_range(alice_client, alice):
    response = alice_client.post(
        reverse("followups:settings"), {"enabled": "on", "hour": "24", "weekdays": ["0"]}
    )

    assert response.status_code == 200
    assert "Select a valid choice." in page_text(response)
    assert DigestPreference.objects.get(user=alice).hour == 7


def test_settings_page_turns_the_digest_off_and_on(alice_client, alice):
    url = reverse("followups:settings")

    alice_client.post(url, {"hour": "7", "weekdays": ["0", "1"]})
    pref = DigestPreference.objects.get(user=alice)
    assert (pref.enabled, pref.next_digest_at) == (False, None)

    alice_client.post(url, {"enabled": "on", "hour": "7", "weekdays": ["0", "1"]})
    pref = DigestPreference.objects.get(user=alice)
    assert pref.enabled
    assert pref.next_digest_at.astimezone(LONDON).weekday() in (0, 1)


def test_settings_page_needs_login(client):
    response = client.get(reverse("followups:settings"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- Ownership ------------------------------------------------------------------------------


@pytest.fixture
def alices_followup(alice):
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    return FollowUp.objects.create(
        owner=alice, contact=susan, title="Alice's", due_on=timezone.localdate()
    )


@pytest.mark.parametrize("name", ["done", "snooze", "edit", "delete"])
def test_other_user_gets_404_on_alices_follow_up(charlie_client, alices_followup, name):
    url = reverse(f"followups:{name}", args=[alices_followup.pk])
    post_data = {
        "done": {},
        "snooze": {"by": "week"},
        "edit": {"contact": alices_followup.contact_id, "title": "Mine", "due_on": "2030-01-01"},
        "delete": {},
    }[name]
    before = snapshot(alices_followup)

    assert charlie_client.post(url, post_data).status_code == 404
    assert charlie_client.post(url, post_data, HTTP_HX_REQUEST="true").status_code == 404
    # done and delete only take POST: a GET is 405 for everyone, owner or not.
    assert charlie_client.get(url).status_code == (405 if name in {"done", "delete"} else 404)

    assert FollowUp.objects.filter(pk=alices_followup.pk).exists()
    assert snapshot(alices_followup) == before
    assert alices_followup.title == "Alice's"


def test_settings_post_only_changes_the_signed_in_users_digest(charlie_client, alice, charlie):
    alice_before = DigestPreference.objects.get(user=alice)

    charlie_client.post(reverse("followups:settings"), {"hour": "7", "weekdays": ["0"]})

    assert not DigestPreference.objects.get(user=charlie).enabled
    alice_after = DigestPreference.objects.get(user=alice)
    assert (alice_after.enabled, alice_after.next_digest_at) == (
        True,
        alice_before.next_digest_at,
    )


def test_act_page_needs_no_login_but_leaks_nothing_of_other_users(client, alices):
    """The confirmation page shows the follow-up's title and nothing else of alice's."""
    response = client.get(alices.done)

    text = page_text(response)
    assert "Send Susan the proposal" in text
    assert "alice@example.com" not in text
    assert "Raj Realtor" not in text
