"""Saving one's profile or digest settings shortly after the digest hour, before beat's
next sweep claimed the digest, must not skip that day's digest.

Beat sweeps every five minutes, so for a few minutes after 07:00 a user's digest is due
but not yet claimed (``next_digest_at`` is 07:00 today). A save in that window reschedules
from "now"; it must leave today's digest due, not move it to tomorrow's 07:00.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from followups import digest
from followups.models import DigestLog, DigestPreference

LONDON = ZoneInfo("Europe/London")  # alice's time zone
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]

pytestmark = pytest.mark.django_db


@pytest.fixture
def just_after_seven(alice, monkeypatch) -> datetime:
    """Tomorrow 07:02 in London: alice's 07:00 digest is due, and no sweep has run since."""
    day = timezone.now().astimezone(LONDON).date() + timedelta(days=1)
    seven = datetime.combine(day, time(7), tzinfo=LONDON)
    pref = DigestPreference.objects.get(user=alice)
    pref.hour, pref.weekdays = 7, EVERY_DAY
    pref.save()
    pref.next_digest_at = None  # as yesterday's sweep left it: nothing due before today
    digest.schedule(pref, now=seven - timedelta(hours=1))
    assert DigestPreference.objects.get(user=alice).next_digest_at == seven
    moment = seven + timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


def sweep_finds_todays_digest(alice, moment: datetime) -> bool:
    digest.sweep(now=moment + timedelta(minutes=3))  # beat's next run, at 07:05
    return DigestLog.objects.filter(user=alice, local_date=moment.date()).exists()


def test_saving_the_profile_just_after_the_digest_hour_keeps_that_days_digest(
    alice_client, alice, just_after_seven
):
    response = alice_client.post(
        "/profile/",
        {
            "display_name": "Alice Renamed",
            "time_zone": alice.time_zone,
            "default_currency": alice.default_currency,
            "phone_region": alice.phone_region,
        },
    )
    assert response.status_code == 302

    assert sweep_finds_todays_digest(alice, just_after_seven)


def test_saving_digest_settings_just_after_the_digest_hour_keeps_that_days_digest(
    alice_client, alice, just_after_seven
):
    response = alice_client.post(
        reverse("followups:settings"), {"enabled": "on", "hour": 7, "weekdays": EVERY_DAY}
    )
    assert response.status_code == 302

    assert sweep_finds_todays_digest(alice, just_after_seven)
