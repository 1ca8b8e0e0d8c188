"""The calendar feed: a secret ICS URL with one all-day event per open follow-up."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from contacts.models import Contact
from followups.models import DigestPreference, FollowUp, Status

pytestmark = pytest.mark.django_db


def feed_url(user) -> str:
    token = DigestPreference.objects.get(user=user).calendar_token
    return reverse("followups:calendar", args=[token])


def events(response) -> list:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    return list(calendar.walk("VEVENT"))


@pytest.fixture
def alices(alice, charlie):
    today = timezone.localdate()
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    open_items = [
        FollowUp.objects.create(
            owner=alice, contact=susan, title="Call Sue; bring cake, flowers", due_on=today
        ),
        FollowUp.objects.create(
            owner=alice,
            contact=susan,
            title="Overdue thank-you",
            due_on=today - timedelta(days=3),
        ),
        FollowUp.objects.create(
            owner=alice,
            contact=susan,
            title="Snoozed check-in",
            due_on=today + timedelta(days=10),
            status=Status.SNOOZED,
        ),
    ]
    FollowUp.objects.create(
        owner=alice,
        contact=susan,
        title="Already done",
        due_on=today,
        status=Status.DONE,
        completed_at=timezone.now(),
    )
    stranger = Contact.objects.create(owner=charlie, name="Charlie's friend")
    FollowUp.objects.create(owner=charlie, contact=stranger, title="Charlie's", due_on=today)
    return open_items


def test_feed_has_one_all_day_event_per_open_follow_up(client, alice, alices):
    found = events(client.get(feed_url(alice)))  # no login: calendar apps can't log in

    by_summary = {str(e["SUMMARY"]): e for e in found}
    assert sorted(by_summary) == sorted(f.title for f in alices)
    for followup in alices:
        event = by_summary[followup.title]
        start = event["DTSTART"].dt
        end = event["DTEND"].dt
        assert isinstance(start, date) and not isinstance(start, datetime)
        assert (start, end) == (followup.due_on, followup.due_on + timedelta(days=1))
        assert str(event["UID"]) == f"followup-{followup.pk}@testserver"
        assert "Susan Planner" in str(event["DESCRIPTION"])
    assert len({str(e["UID"]) for e in found}) == len(found)


def test_feed_leaves_out_done_follow_ups_and_other_users(client, alice, alices):
    summaries = [str(e["SUMMARY"]) for e in events(client.get(feed_url(alice)))]

    assert "Already done" not in summaries
    assert "Charlie's" not in summaries


def test_marking_done_removes_the_event(client, alice, alices):
    alices[0].mark_done()

    summaries = [str(e["SUMMARY"]) for e in events(client.get(feed_url(alice)))]

    assert alices[0].title not in summaries
    assert len(summaries) == 2


def test_unknown_token_is_404(client, alice, alices):
    assert client.get(reverse("followups:calendar", args=["not-a-real-token"])).status_code == 404
    real = DigestPreference.objects.get(user=alice).calendar_token
    assert client.get(reverse("followups:calendar", args=[real[:-1]])).status_code == 404


def test_feed_of_a_deactivated_user_is_404(client, alice, alices):
    url = feed_url(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert client.get(url).status_code == 404


def test_regenerating_the_link_in_settings_makes_the_old_url_404(client, alice, alices):
    old_url = feed_url(alice)
    owner = type(client)()
    owner.force_login(alice)
    page = owner.get(reverse("followups:settings"))
    assert f"http://testserver{old_url}" in page.content.decode()

    response = owner.post(reverse("followups:settings"), {"regenerate_calendar": "1"})

    assert response.status_code == 302
    new_url = feed_url(alice)
    assert new_url != old_url
    assert client.get(old_url).status_code == 404
    assert len(events(client.get(new_url))) == 3
    page = owner.get(reverse("followups:settings"))
    assert re.search(re.escape(f"http://testserver{new_url}"), page.content.decode())
    # The digest settings themselves were left alone.
    assert DigestPreference.objects.get(user=alice).enabled


def test_each_user_has_a_different_secret_token(alice, charlie):
    tokens = DigestPreference.objects.values_list("calendar_token", flat=True)

    assert len(set(tokens)) == 2
    assert all(len(token) >= 32 for token in tokens)


def test_a_far_future_due_date_is_a_field_error_and_never_breaks_the_feed(alice_client, alice):
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    response = alice_client.post(
        reverse("followups:create"),
        {"contact": susan.pk, "title": "Call back", "due_on": "9999-12-31"},
    )
    assert response.status_code == 200
    assert "more than ten years ahead" in response.content.decode()
    assert not FollowUp.objects.filter(owner=alice).exists()
    # A row stored before the bound existed still leaves the feed working.
    FollowUp.objects.create(owner=alice, contact=susan, title="Someday", due_on=date.max)
    FollowUp.objects.create(owner=alice, contact=susan, title="Soon", due_on=date(2030, 1, 2))
    feed = alice_client.get(feed_url(alice))
    assert feed.status_code == 200
    assert {str(e.get("summary")) for e in events(feed)} == {"Someday", "Soon"}
