"""When the digest is due: the user's hour in their own time zone, on their weekdays,
through daylight-saving changes; and the day the sweep files it under."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from followups import digest
from followups.digest import next_digest_at
from followups.models import DigestLog, DigestPreference
from tests.conftest import make_user

UTC = ZoneInfo("UTC")
AUCKLAND = ZoneInfo("Pacific/Auckland")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
HONOLULU = ZoneInfo("Pacific/Honolulu")  # UTC-10 all year
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def prefs(hour: int = 7, weekdays=None, enabled: bool = True) -> DigestPreference:
    return DigestPreference(
        hour=hour, weekdays=EVERY_DAY if weekdays is None else weekdays, enabled=enabled
    )


def local(moment: datetime, tz: ZoneInfo) -> tuple[date, int, int]:
    here = moment.astimezone(tz)
    return here.date(), here.hour, here.minute


# --- Either side of midnight ----------------------------------------------------------------


def test_same_utc_instant_is_a_different_day_in_auckland_and_los_angeles():
    instant = utc("2026-06-15 12:30")  # Tue 00:30 in Auckland, Mon 05:30 in Los Angeles

    auckland = next_digest_at(prefs(), AUCKLAND, instant)
    los_angeles = next_digest_at(prefs(), LOS_ANGELES, instant)

    assert auckland == utc("2026-06-15 19:00")
    assert local(auckland, AUCKLAND) == (date(2026, 6, 16), 7, 0)
    assert los_angeles == utc("2026-06-15 14:00")
    assert local(los_angeles, LOS_ANGELES) == (date(2026, 6, 15), 7, 0)
    assert auckland.tzinfo == UTC and los_angeles.tzinfo == UTC


def test_evening_hour_at_utc_minus_10_falls_on_the_next_utc_day():
    after = utc("2026-06-15 20:00")  # Mon 10:00 in Honolulu

    due = next_digest_at(prefs(hour=19), HONOLULU, after)

    assert due == utc("2026-06-16 05:00")
    assert local(due, HONOLULU) == (date(2026, 6, 15), 19, 0)


def test_utc_minus_10_late_evening_waits_for_its_own_morning():
    after = utc("2026-06-16 08:00")  # Mon 22:00 in Honolulu, already Tuesday in UTC

    due = next_digest_at(prefs(), HONOLULU, after)

    assert due == utc("2026-06-16 17:00")
    assert local(due, HONOLULU) == (date(2026, 6, 16), 7, 0)


def test_due_moment_itself_is_not_due_again():
    due = utc("2026-06-15 14:00")  # 07:00 in Los Angeles

    assert next_digest_at(prefs(), LOS_ANGELES, due) == utc("2026-06-16 14:00")
    assert next_digest_at(prefs(), LOS_ANGELES, due - timedelta(seconds=1)) == due


# --- Weekdays -------------------------------------------------------------------------------


def test_weekdays_are_the_users_local_weekdays():
    """A Monday-only digest in Auckland goes out on a Sunday in UTC."""
    sunday_evening_utc = utc("2026-06-14 18:00")  # Mon 06:00 in Auckland, Sun 11:00 in LA
    mondays = prefs(weekdays=[0])

    auckland = next_digest_at(mondays, AUCKLAND, sunday_evening_utc)
    los_angeles = next_digest_at(mondays, LOS_ANGELES, sunday_evening_utc)

    assert auckland == utc("2026-06-14 19:00")
    assert auckland.astimezone(AUCKLAND).weekday() == 0
    assert auckland.weekday() == 6
    assert los_angeles == utc("2026-06-15 14:00")


def test_weekdays_only_skips_the_weekend():
    friday_after_digest = utc("2026-06-19 07:00")  # Fri 08:00 in London (BST)

    due = next_digest_at(prefs(weekdays=[0, 1, 2, 3, 4]), LONDON, friday_after_digest)

    assert local(due, LONDON) == (date(2026, 6, 22), 7, 0)  # Monday


def test_weekend_only_digest():
    monday = utc("2026-06-15 12:00")

    first = next_digest_at(prefs(hour=9, weekdays=[5, 6]), LONDON, monday)
    second = next_digest_at(prefs(hour=9, weekdays=[5, 6]), LONDON, first)
    third = next_digest_at(prefs(hour=9, weekdays=[5, 6]), LONDON, second)

    assert [local(d, LONDON) for d in (first, second, third)] == [
        (date(2026, 6, 20), 9, 0),
        (date(2026, 6, 21), 9, 0),
        (date(2026, 6, 27), 9, 0),
    ]


def test_no_digest_when_off_or_no_weekday():
    after = utc("2026-06-15 12:00")

    assert next_digest_at(prefs(enabled=False), LONDON, after) is None
    assert next_digest_at(prefs(weekdays=[]), LONDON, after) is None


# --- Daylight saving ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day_before", "utc_before", "utc_on_the_day"),
    [
        # Spring forward: 07:00 GMT then 07:00 BST.
        (LONDON, "2026-03-28", "2026-03-28 07:00", "2026-03-29 06:00"),
        # Fall back: 07:00 BST then 07:00 GMT.
        (LONDON, "2026-10-24", "2026-10-24 06:00", "2026-10-25 07:00"),
        # Spring forward: 07:00 EST then 07:00 EDT.
        (NEW_YORK, "2026-03-07", "2026-03-07 12:00", "2026-03-08 11:00"),
        # Fall back: 07:00 EDT then 07:00 EST.
        (NEW_YORK, "2026-10-31", "2026-10-31 11:00", "2026-11-01 12:00"),
    ],
    ids=["london-spring", "london-autumn", "new-york-spring", "new-york-autumn"],
)
def test_digest_stays_at_7_local_across_a_dst_change(tz, day_before, utc_before, utc_on_the_day):
    before = next_digest_at(prefs(), tz, utc(f"{day_before} 00:00") - timedelta(hours=12))

    on_the_day = next_digest_at(prefs(), tz, before)
    after = next_digest_at(prefs(), tz, on_the_day)

    assert before == utc(utc_before)
    assert on_the_day == utc(utc_on_the_day)
    assert abs(on_the_day - before - timedelta(days=1)) == timedelta(hours=1)
    assert [local(d, tz)[1:] for d in (before, on_the_day, after)] == [(7, 0)] * 3
    assert after - on_the_day == timedelta(days=1)


def test_hour_in_the_spring_forward_gap_moves_to_the_first_valid_instant():
    """02:00 does not exist in New York on 2026-03-08: the digest goes at 03:00 EDT."""
    saturday = next_digest_at(prefs(hour=2), NEW_YORK, utc("2026-03-07 00:00"))
    sunday = next_digest_at(prefs(hour=2), NEW_YORK, saturday)
    monday = next_digest_at(prefs(hour=2), NEW_YORK, sunday)

    assert saturday == utc("2026-03-07 07:00")  # 02:00 EST
    assert sunday == utc("2026-03-08 07:00")  # 03:00 EDT
    assert local(sunday, NEW_YORK) == (date(2026, 3, 8), 3, 0)
    assert monday == utc("2026-03-09 06:00")  # 02:00 EDT


def test_hour_repeated_at_fall_back_takes_the_first_one():
    sunday = next_digest_at(prefs(hour=1), NEW_YORK, utc("2026-11-01 00:00"))

    assert sunday == utc("2026-11-01 05:00")  # 01:00 EDT, not 01:00 EST an hour later
    assert next_digest_at(prefs(hour=1), NEW_YORK, sunday) == utc("2026-11-02 06:00")


# --- The sweep files each digest under the user's own date ------------------------------------


def user_in(tz: ZoneInfo, email: str, *, hour: int = 7, start: datetime):
    user = make_user(email, time_zone=str(tz))
    pref = user.digest_preference
    pref.hour = hour
    pref.weekdays = EVERY_DAY
    pref.save()
    digest.schedule(pref, now=start)
    return user


def sweep_every(minutes: int, start: datetime, end: datetime) -> None:
    now = start
    while now <= end:
        digest.sweep(now=now)
        now += timedelta(minutes=minutes)


@pytest.mark.django_db
def test_sweep_files_the_digest_under_the_users_local_date():
    start = utc("2026-06-15 12:30")
    auckland = user_in(AUCKLAND, "kiri@example.com", start=start)
    los_angeles = user_in(LOS_ANGELES, "lara@example.com", start=start)
    honolulu = user_in(HONOLULU, "kai@example.com", hour=19, start=start)

    claimed = digest.sweep(now=utc("2026-06-16 05:01"))

    assert len(claimed) == 3
    logs = {log.user_id: log.local_date for log in DigestLog.objects.all()}
    assert logs == {
        auckland.pk: date(2026, 6, 16),  # 07:00 NZST = 19:00 UTC on the 15th
        los_angeles.pk: date(2026, 6, 15),
        honolulu.pk: date(2026, 6, 15),  # 19:00 HST = 05:00 UTC on the 16th
    }
    # Each user's next digest is their next local morning (evening for Kai).
    nexts = {p.user_id: p.next_digest_at for p in DigestPreference.objects.all()}
    assert nexts == {
        auckland.pk: utc("2026-06-16 19:00"),
        los_angeles.pk: utc("2026-06-16 14:00"),
        honolulu.pk: utc("2026-06-17 05:00"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tz", "hour", "start", "end", "days"),
    [
        (NEW_YORK, 2, "2026-03-06 12:00", "2026-03-10 04:00", ["03-07", "03-08", "03-09"]),
        (NEW_YORK, 1, "2026-10-30 12:00", "2026-11-03 04:00", ["10-31", "11-01", "11-02"]),
        (LONDON, 7, "2026-03-27 12:00", "2026-03-31 04:00", ["03-28", "03-29", "03-30"]),
        (LONDON, 1, "2026-10-23 12:00", "2026-10-27 00:00", ["10-24", "10-25", "10-26"]),
    ],
    ids=["new-york-gap", "new-york-repeat", "london-spring", "london-repeat"],
)
def test_sweeping_through_a_dst_change_sends_one_digest_a_day(tz, hour, start, end, days):
    user = user_in(tz, "dst@example.com", hour=hour, start=utc(start))

    sweep_every(15, utc(start), utc(end))

    per_day = Counter(log.local_date for log in DigestLog.objects.filter(user=user))
    assert per_day == {date.fromisoformat(f"2026-{d}"): 1 for d in days}


@pytest.mark.django_db
def test_a_digest_missed_by_a_day_is_skipped_not_sent_late():
    start = utc("2026-06-15 00:00")
    user = user_in(LONDON, "late@example.com", start=start)  # due 06:00 UTC on the 15th

    claimed = digest.sweep(now=utc("2026-06-16 03:00"))  # 21 hours late: beat was down

    assert claimed == []
    assert not DigestLog.objects.filter(user=user).exists()
    # ... and the next one is the next morning.
    assert DigestPreference.objects.get(user=user).next_digest_at == utc("2026-06-16 06:00")


def profile_data(user, **changes) -> dict:
    data = {
        "display_name": user.display_name,
        "time_zone": user.time_zone,
        "default_currency": user.default_currency,
        "phone_region": user.phone_region,
    }
    return {**data, **changes}


@pytest.mark.django_db
def test_moving_time_zone_on_the_profile_page_moves_the_digest_hour(alice_client, alice):
    response = alice_client.post("/profile/", profile_data(alice, time_zone="Pacific/Auckland"))

    assert response.status_code == 302
    due = DigestPreference.objects.get(user=alice).next_digest_at
    assert local(due, AUCKLAND)[1:] == (7, 0)
    assert due.astimezone(AUCKLAND).weekday() in [0, 1, 2, 3, 4]


@pytest.mark.django_db
def test_saving_only_the_time_zone_moves_the_digest_hour(alice):
    alice.time_zone = "Pacific/Auckland"
    alice.save(update_fields=["time_zone"])

    due = DigestPreference.objects.get(user=alice).next_digest_at
    assert local(due, AUCKLAND)[1:] == (7, 0)


@pytest.mark.django_db
def test_saving_other_fields_keeps_the_digest_where_it_is(alice):
    DigestPreference.objects.filter(user=alice).update(next_digest_at=utc("2030-01-07 07:00"))
    alice.display_name = "Alice Renamed"
    alice.save(update_fields=["display_name"])

    assert DigestPreference.objects.get(user=alice).next_digest_at == utc("2030-01-07 07:00")
