"""Birthdays and other dated occasions: on the contact page, in the contact form, in the
digest's "Coming up" section and in the calendar feed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from contacts.models import Contact, Occasion, OccasionKind
from contacts.occasions import coming_up, next_date, parse_day, upcoming
from followups import digest
from followups.models import DigestLog, DigestPreference, DigestState
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")  # alice's time zone (tests/conftest.py)
MARKER = "zq-alices-secret-occasion"


def london_today() -> date:
    return timezone.now().astimezone(LONDON).date()


@pytest.fixture
def jane(alice):
    return Contact.objects.create(owner=alice, name="Jane Roe")


def occasion(contact, month, day, year=None, kind=OccasionKind.BIRTHDAY, label=""):
    return Occasion.objects.create(
        owner=contact.owner,
        contact=contact,
        kind=kind,
        label=label,
        year=year,
        month=month,
        day=day,
    )


def add_url(contact) -> str:
    return reverse("contacts:occasion_add", args=[contact.pk])


def delete_url(contact, occ) -> str:
    return reverse("contacts:occasion_delete", args=[contact.pk, occ.pk])


def form_data(kind="birthday", day="15", month="4", year="", label="") -> dict:
    return {
        "occasion-kind": kind,
        "occasion-day": day,
        "occasion-month": month,
        "occasion-year": year,
        "occasion-label": label,
    }


# --- Next date ---------------------------------------------------------------------------


def test_next_date_counts_the_age_they_turn_and_the_days_to_go(jane):
    birthday = occasion(jane, 4, 15, 1985)
    soon = upcoming(birthday, date(2026, 4, 12))
    assert (soon.on, soon.days, soon.when, soon.years_text) == (
        date(2026, 4, 15),
        3,
        "in 3 days",
        "turns 41",
    )
    assert upcoming(birthday, date(2026, 4, 15)).when == "today"
    assert upcoming(birthday, date(2026, 4, 14)).when == "tomorrow"
    passed = upcoming(birthday, date(2026, 4, 16))
    assert (passed.on, passed.years_text) == (date(2027, 4, 15), "turns 42")


def test_year_less_birthday_has_a_next_date_but_no_age(jane):
    soon = upcoming(occasion(jane, 4, 15), date(2026, 4, 12))
    assert (soon.on, soon.years, soon.years_text) == (date(2026, 4, 15), None, "")


def test_work_anniversary_counts_years(jane):
    work = occasion(jane, 6, 1, 2021, kind=OccasionKind.WORK_ANNIVERSARY)
    assert upcoming(work, date(2026, 5, 30)).years_text == "5 years"


def test_29_february_falls_on_28_february_in_other_years(jane):
    leap = occasion(jane, 2, 29)
    assert next_date(leap, date(2027, 2, 1)) == date(2027, 2, 28)
    assert next_date(leap, date(2028, 2, 1)) == date(2028, 2, 29)
    assert next_date(leap, date(2027, 3, 1)) == date(2028, 2, 29)


def test_a_stored_impossible_day_never_breaks_the_dates(jane):
    """An import could store 31 February (the table only checks 1..31)."""
    bad = occasion(jane, 2, 31)
    assert next_date(bad, date(2027, 1, 1)) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("15 April", (None, 4, 15)),
        ("15 April 1985", (1985, 4, 15)),
        ("April 15, 1985", (1985, 4, 15)),
        ("1985-04-15", (1985, 4, 15)),
        ("--04-15", (None, 4, 15)),
        ("--0415", (None, 4, 15)),
        ("29 Feb", (None, 2, 29)),
        ("29 February 1984", (1984, 2, 29)),
    ],
)
def test_birthday_text_formats(text, parsed):
    assert parse_day(text) == parsed


# --- Contact page ----------------------------------------------------------------------------


def test_contact_page_lists_occasions_with_their_next_date(alice_client, jane):
    today = london_today()
    soon = today + timedelta(days=3)
    occasion(jane, soon.month, soon.day, soon.year - 40)
    occasion(jane, today.month, today.day, kind=OccasionKind.OTHER, label="Wedding anniversary")

    html = alice_client.get(jane.get_absolute_url()).content.decode()

    assert 'id="occasions"' in html
    assert f"turns 40 on {soon:%a} {soon.day} {soon:%b %Y}, in 3 days" in html
    assert "<strong>Wedding anniversary</strong>" in html
    assert "today" in html


def test_adding_an_occasion_without_javascript_redirects_to_the_contact(alice_client, jane):
    response = alice_client.post(add_url(jane), form_data(day="15", month="4", year="1985"))

    assert response.status_code == 302
    assert response["Location"] == f"{jane.get_absolute_url()}#occasions"
    saved = Occasion.objects.get(contact=jane)
    assert (saved.owner_id, saved.kind, saved.year, saved.month, saved.day) == (
        jane.owner_id,
        "birthday",
        1985,
        4,
        15,
    )
    page = alice_client.get(response["Location"]).content.decode()
    assert "Birthday" in page and "15 April 1985" in page


def test_adding_an_occasion_with_htmx_returns_the_section(alice_client, jane):
    response = alice_client.post(
        add_url(jane),
        form_data(kind="founded", day="2", month="3", year="2010"),
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<article id="occasions"')
    assert "Business founded" in html
    assert Occasion.objects.filter(contact=jane, kind="founded").count() == 1


def test_add_page_works_on_its_own(alice_client, jane):
    response = alice_client.get(add_url(jane))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Occasion", "What it is", "Day", "Month", "Year (optional)"):
        assert f">{label}" in html
    # On its own page the form is a plain POST: there is no section to swap.
    assert 'class="occasion-form"' in html
    assert 'hx-target="#occasions"' not in html


def test_31_february_is_refused_with_a_clear_message_and_input_kept(alice_client, jane):
    response = alice_client.post(add_url(jane), form_data(day="31", month="2", year="1990"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "February has no 31st" in html
    assert 'value="31"' in html and 'value="1990"' in html
    assert '<option value="2" selected>' in html
    assert not Occasion.objects.exists()


def test_invalid_occasion_with_htmx_is_a_422_section_with_errors(alice_client, jane):
    response = alice_client.post(
        add_url(jane), form_data(day="31", month="4"), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "April has no 31st" in html
    assert "<details open>" in html
    assert not Occasion.objects.exists()


@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("1899", "A birth year is between 1900 and"),
        (str(date.today().year + 1), "A birth year is between 1900 and"),
        ("1985", "1985 had no 29 February"),
    ],
)
def test_birth_year_is_bounded_and_must_have_the_day(alice_client, jane, year, message):
    response = alice_client.post(add_url(jane), form_data(day="29", month="2", year=year))
    assert message in response.content.decode()
    assert not Occasion.objects.exists()


def test_29_february_is_fine_without_a_year_or_in_a_leap_year(alice_client, jane, charlie):
    alice_client.post(add_url(jane), form_data(day="29", month="2"))
    assert Occasion.objects.get(contact=jane).year is None
    alice_client.post(add_url(jane), form_data(day="29", month="2", year="1984"))
    assert Occasion.objects.get(contact=jane).year == 1984


def test_one_birthday_per_contact_adding_another_replaces_it(alice_client, jane):
    alice_client.post(add_url(jane), form_data(day="15", month="4", year="1985"))
    alice_client.post(add_url(jane), form_data(day="16", month="5"))

    birthdays = Occasion.objects.filter(contact=jane, kind=OccasionKind.BIRTHDAY)
    assert [(o.year, o.month, o.day) for o in birthdays] == [(None, 5, 16)]


def test_other_occasion_needs_a_label(alice_client, jane):
    response = alice_client.post(add_url(jane), form_data(kind="other", day="1", month="6"))
    assert "Say what the occasion is." in response.content.decode()
    alice_client.post(add_url(jane), form_data(kind="other", day="1", month="6", label="Wedding"))
    assert Occasion.objects.get(contact=jane).title == "Wedding"


def test_removing_an_occasion(alice_client, jane):
    birthday = occasion(jane, 4, 15)
    assert alice_client.get(delete_url(jane, birthday)).status_code == 405
    assert Occasion.objects.filter(pk=birthday.pk).exists()

    response = alice_client.post(delete_url(jane, birthday))

    assert response.status_code == 302
    assert not Occasion.objects.filter(pk=birthday.pk).exists()


def test_removing_with_htmx_returns_the_section(alice_client, jane):
    birthday = occasion(jane, 4, 15)
    response = alice_client.post(delete_url(jane, birthday), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "No birthday or other dates yet." in response.content.decode()


def test_contact_page_query_count_does_not_grow_with_occasions(client, alice, bob):
    few = Contact.objects.create(owner=alice, name="Few Dates")
    occasion(few, 4, 15)
    many = Contact.objects.create(owner=bob, name="Many Dates")
    occasion(many, 4, 15, 1985)
    for i in range(1, 25):
        occasion(many, 1 + i % 12, i, 2000, kind=OccasionKind.OTHER, label=f"Date {i}")

    counts = []
    for user, contact in ((alice, few), (bob, many)):
        client.force_login(user)
        client.get(contact.get_absolute_url())  # warm up
        with CaptureQueriesContext(connection) as queries:
            response = client.get(contact.get_absolute_url())
        assert response.status_code == 200
        counts.append(len(queries))
    assert "Date 24" in response.content.decode()
    assert counts[0] == counts[1]


# --- The birthday field of the contact form ---------------------------------------------------


def contact_data(**overrides) -> dict:
    data = {
        "name": "Jane Roe",
        "stage": "contact",
        "cadence_days": "30",
        "is_expert": "unknown",
        "is_passionate": "unknown",
        "honours_referrals": "unknown",
    }
    return data | overrides


def test_contact_form_takes_a_birthday(alice_client, alice):
    response = alice_client.post(reverse("contacts:create"), contact_data(birthday="15 April 1985"))
    assert response.status_code == 302
    jane = Contact.objects.get(owner=alice, name="Jane Roe")
    birthday = Occasion.objects.get(contact=jane)
    assert (birthday.owner, birthday.kind, birthday.year, birthday.month, birthday.day) == (
        alice,
        "birthday",
        1985,
        4,
        15,
    )
    edit = alice_client.get(reverse("contacts:edit", args=[jane.pk])).content.decode()
    assert 'value="15 April 1985"' in edit
    assert '<label for="id_birthday">Birthday' in edit


def test_editing_the_birthday_replaces_it_and_clearing_removes_it(alice_client, jane):
    occasion(jane, 4, 15, 1985)
    url = reverse("contacts:edit", args=[jane.pk])
    alice_client.post(url, contact_data(birthday="--04-16"))
    assert [(o.year, o.month, o.day) for o in Occasion.objects.filter(contact=jane)] == [
        (None, 4, 16)
    ]
    alice_client.post(url, contact_data(birthday=""))
    assert not Occasion.objects.filter(contact=jane).exists()


def test_editing_other_fields_keeps_the_birthday(alice_client, jane):
    occasion(jane, 4, 15, 1985)
    url = reverse("contacts:edit", args=[jane.pk])
    alice_client.post(url, contact_data(name="Jane Q. Roe", birthday="15 April 1985"))
    assert Occasion.objects.get(contact=jane).year == 1985


@pytest.mark.parametrize(
    ("typed", "message"),
    [("31 February", "February has no 31st"), ("someday", "Not a date we can read")],
)
def test_contact_form_refuses_a_bad_birthday_and_keeps_the_input(
    alice_client, alice, typed, message
):
    response = alice_client.post(
        reverse("contacts:create"),
        contact_data(company="Roe & Co", birthday=typed),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'value="{typed}"' in html and 'value="Roe &amp; Co"' in html
    assert not Contact.objects.filter(owner=alice).exists()


# --- Isolation -------------------------------------------------------------------------------


def test_other_user_gets_404_adding_to_alices_contact(charlie_client, jane):
    assert charlie_client.get(add_url(jane)).status_code == 404
    response = charlie_client.post(add_url(jane), form_data())
    assert response.status_code == 404
    assert not Occasion.objects.exists()


def test_other_user_gets_404_removing_alices_occasion(charlie_client, charlie, jane):
    birthday = occasion(jane, 4, 15, label=MARKER)
    assert charlie_client.post(delete_url(jane, birthday)).status_code == 404
    # Nor through a contact of charlie's own.
    own = Contact.objects.create(owner=charlie, name="Charlie's friend")
    assert charlie_client.post(delete_url(own, birthday)).status_code == 404
    assert Occasion.objects.filter(pk=birthday.pk).exists()


def test_occasion_of_another_contact_is_404(alice_client, alice, jane):
    birthday = occasion(jane, 4, 15)
    other = Contact.objects.create(owner=alice, name="Someone Else")
    assert alice_client.post(delete_url(other, birthday)).status_code == 404
    assert Occasion.objects.filter(pk=birthday.pk).exists()


# --- Digest -----------------------------------------------------------------------------------


def coming(built) -> list:
    """The digest's "Coming up" items."""
    return {section.name: items for section, items in built.sections}.get("occasions", [])


def titles(items) -> list[str]:
    return [f"{u.occasion.contact.name}: {u.title} {u.on:%d %b}" for u in items]


def test_digest_lists_occasions_of_the_next_7_days_across_the_year_end(alice, jane):
    occasion(jane, 12, 27, kind=OccasionKind.OTHER, label="Yesterday")
    occasion(jane, 1, 3, 2015, kind=OccasionKind.WORK_ANNIVERSARY)  # day 7 of 7
    occasion(jane, 1, 4, kind=OccasionKind.OTHER, label="Day eight")
    occasion(jane, 12, 28, 1980)  # today
    archived = Contact.objects.create(owner=alice, name="Archived Arnie", is_archived=True)
    occasion(archived, 12, 29)

    built = digest.build(alice, date(2026, 12, 28))

    assert titles(coming(built)) == [
        "Jane Roe: Birthday 28 Dec",
        "Jane Roe: Work anniversary 03 Jan",
    ]
    assert [u.days for u in coming(built)] == [0, 6]
    assert coming(built)[1].years_text == "12 years"
    assert built.count == 2


def test_digest_lists_29_february_on_28_february_of_other_years(alice, jane):
    occasion(jane, 2, 29, 1984)
    assert titles(coming(digest.build(alice, date(2027, 2, 22)))) == ["Jane Roe: Birthday 28 Feb"]
    assert digest.build(alice, date(2027, 2, 21)).sections == []


@pytest.fixture
def kiri(db):
    return make_user("kiri@example.com", display_name="Kiri", time_zone="Pacific/Auckland")


def test_digest_reads_the_next_7_days_from_the_users_own_today(kiri, bob):
    """At 20:00 UTC on 14 April it is already the morning of 15 April in Auckland: a
    birthday on 21 April is in Kiri's window (15-21) but not in Bob's (14-20, UTC)."""
    when = datetime(2026, 4, 14, 20, 0, tzinfo=ZoneInfo("UTC"))
    for user in (kiri, bob):
        friend = Contact.objects.create(owner=user, name=f"Friend of {user.display_name}")
        occasion(friend, 4, 21)
        occasion(friend, 4, 14, kind=OccasionKind.OTHER, label="Only bob's today")
    DigestPreference.objects.filter(user__in=[kiri, bob]).update(next_digest_at=when)

    outbox = get_connection()
    states = [digest.send_log(pk, now=when, connection=outbox) for pk in digest.sweep(now=when)]

    assert sorted(states) == [DigestState.SENT, DigestState.SENT]
    by_user = {m.to[0]: m for m in mail.outbox}
    kiris = by_user["kiri@example.com"].body
    bobs = by_user["bob@example.com"].body
    assert "Friend of Kiri: Birthday on Tue 21 Apr, in 6 days" in kiris
    assert "Only bob's today" not in kiris
    assert "Birthday" not in bobs
    assert "Friend of Bob Member: Only bob's today today" in bobs
    assert DigestLog.objects.get(user=kiri).local_date == date(2026, 4, 15)


def test_a_digest_with_only_an_occasion_is_sent_with_a_link_to_the_contact(settings, alice, jane):
    when = datetime(2026, 4, 14, 6, 0, tzinfo=ZoneInfo("UTC"))  # 07:00 in London
    occasion(jane, 4, 16, 1985)
    DigestPreference.objects.filter(user=alice).update(next_digest_at=when)

    [log_id] = digest.sweep(now=when)
    assert digest.send_log(log_id, now=when, connection=get_connection()) == DigestState.SENT

    [message] = mail.outbox
    assert message.subject.startswith("1 thing for your network today")
    assert "COMING UP" in message.body
    assert "Jane Roe: Birthday on Thu 16 Apr, in 2 days (turns 41)" in message.body
    html = message.alternatives[0][0]
    assert "Coming up" in html
    assert f'href="{settings.SITE_URL}{jane.get_absolute_url()}"' in html
    assert DigestLog.objects.get(pk=log_id).items == 1


def test_digest_without_occasions_or_anything_else_is_not_sent(alice, jane):
    when = datetime(2026, 4, 14, 6, 0, tzinfo=ZoneInfo("UTC"))
    occasion(jane, 4, 21)  # day 8
    DigestPreference.objects.filter(user=alice).update(next_digest_at=when)
    [log_id] = digest.sweep(now=when)
    assert digest.send_log(log_id, now=when, connection=get_connection()) == DigestState.EMPTY
    assert mail.outbox == []


def test_digest_build_query_count_does_not_grow_with_occasions(alice, bob, jane):
    day = date(2026, 4, 14)
    occasion(jane, 4, 15)
    friends = [Contact.objects.create(owner=bob, name=f"Friend {i}") for i in range(12)]
    for i, friend in enumerate(friends):
        occasion(friend, 4, 14 + i % 7, 1990)
        occasion(friend, 4, 14 + i % 7, 2010, kind=OccasionKind.FOUNDED)

    counts = []
    for user in (alice, bob):
        with CaptureQueriesContext(connection) as queries:
            built = digest.build(user, day)
            mail_module_render(built)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(coming(built)) == (digest.OCCASIONS_IN_DIGEST)


def mail_module_render(built) -> None:
    """Render the e-mail too: a template reaching for a related row would query per item."""
    from followups.mail import build_message

    log = DigestLog(user=built.user, local_date=built.local_date)
    build_message(built, log, connection=get_connection())


def test_charlies_digest_never_shows_alices_occasions(alice, charlie, jane):
    when = datetime(2026, 4, 14, 6, 0, tzinfo=ZoneInfo("UTC"))
    occasion(jane, 4, 14, kind=OccasionKind.OTHER, label=MARKER)
    own = Contact.objects.create(owner=charlie, name="Charlie's friend")
    occasion(own, 4, 14)
    DigestPreference.objects.filter(user=charlie).update(next_digest_at=when)

    [log_id] = digest.sweep(now=when)
    digest.send_log(log_id, now=when, connection=get_connection())

    [message] = mail.outbox
    assert message.to == ["charlie@example.com"]
    assert "Charlie's friend" in message.body
    assert MARKER not in message.body and MARKER not in message.alternatives[0][0]
    assert "Jane Roe" not in message.body


# --- Calendar feed ----------------------------------------------------------------------------


def feed(client, user) -> list:
    token = DigestPreference.objects.get(user=user).calendar_token
    response = client.get(reverse("followups:calendar", args=[token]))
    assert response.status_code == 200
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def occasion_events(events) -> dict:
    return {str(e["SUMMARY"]): e for e in events if str(e["UID"]).startswith("occasion-")}


def test_feed_has_a_yearly_all_day_event_per_occasion(client, alice, jane):
    birthday = occasion(jane, 4, 15, 1985)
    occasion(jane, 2, 29, kind=OccasionKind.OTHER, label="Leap day party")
    occasion(jane, 6, 1, kind=OccasionKind.WORK_ANNIVERSARY)
    archived = Contact.objects.create(owner=alice, name="Archived Arnie", is_archived=True)
    occasion(archived, 5, 5)

    events = occasion_events(feed(client, alice))

    assert set(events) == {
        "Jane Roe: birthday",
        "Jane Roe: Leap day party",
        "Jane Roe: work anniversary",
    }
    event = events["Jane Roe: birthday"]
    assert event["DTSTART"].dt == date(1985, 4, 15)
    assert event["DTEND"].dt == date(1985, 4, 16)
    assert event["RRULE"]["FREQ"] == ["YEARLY"]
    assert str(event["UID"]).startswith(f"occasion-{birthday.pk}@")
    assert jane.get_absolute_url() in str(event["URL"])
    assert events["Jane Roe: Leap day party"]["DTSTART"].dt == date(2000, 2, 29)
    assert events["Jane Roe: work anniversary"]["DTSTART"].dt == date(2000, 6, 1)
    # The UID is stable from one fetch to the next (calendars update, not duplicate).
    again = occasion_events(feed(client, alice))
    assert str(again["Jane Roe: birthday"]["UID"]) == str(event["UID"])


def test_feed_and_pages_never_fail_on_an_impossible_stored_day(client, alice_client, alice, jane):
    occasion(jane, 2, 31)  # only an import could store it; the table allows 1..31
    occasion(jane, 2, 29, 1985, kind=OccasionKind.OTHER, label="Not a leap year")

    events = occasion_events(feed(client, alice))

    assert events["Jane Roe: birthday"]["DTSTART"].dt == date(2000, 2, 29)
    assert events["Jane Roe: Not a leap year"]["DTSTART"].dt == date(2000, 2, 29)
    assert alice_client.get(jane.get_absolute_url()).status_code == 200
    # The digest reads (month, day) pairs: 31 February never matches, 29 February does.
    built = digest.build(alice, date(2027, 2, 25))
    assert titles(coming(built)) == ["Jane Roe: Not a leap year 28 Feb"]


def test_feed_query_count_does_not_grow_with_occasions(client, alice, bob, jane):
    occasion(jane, 4, 15)
    friends = [Contact.objects.create(owner=bob, name=f"Friend {i}") for i in range(15)]
    for i, friend in enumerate(friends):
        occasion(friend, 1 + i % 12, 1 + i, 1990)
    counts = []
    for user in (alice, bob):
        with CaptureQueriesContext(connection) as queries:
            feed(client, user)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_charlies_feed_never_shows_alices_occasions(client, charlie, jane):
    occasion(jane, 4, 15, kind=OccasionKind.OTHER, label=MARKER)
    token = DigestPreference.objects.get(user=charlie).calendar_token
    response = client.get(reverse("followups:calendar", args=[token]))
    assert response.status_code == 200
    assert MARKER.encode() not in response.content
    assert b"Jane Roe" not in response.content


def test_coming_up_is_owner_scoped(alice, charlie, jane):
    occasion(jane, 4, 15, label=MARKER)
    assert coming_up(charlie, date(2026, 4, 14)) == []
    assert len(coming_up(alice, date(2026, 4, 14))) == 1
