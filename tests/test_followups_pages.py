"""Follow-up pages: the list, adding one, done and snooze (htmx and plain), the dashboard
widget, the quick-log ticks, and the number of queries of the list and the dashboard."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Meeting
from followups.models import FollowUp, Status

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")  # alice's time zone (tests/conftest.py)


# --- Helpers ----------------------------------------------------------------------------


def alice_today():
    return timezone.now().astimezone(LONDON).date()


def page(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, name: str) -> str:
    """The HTML of one section of the follow-up list: overdue, today or upcoming."""
    match = re.search(rf'<section aria-labelledby="{name}-title">(.*?)</section>', html, re.S)
    assert match, f"no {name} section"
    return match[1]


def item_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li id="followup-(\d+)"', html)]


def field_errors(html: str) -> list[str]:
    return [
        htmllib.unescape(e)
        for e in re.findall(r'<small class="field-error" role="alert">(.*?)</small>', html)
    ]


def messages_of(html: str) -> str:
    match = re.search(r'<div id="messages"[^>]*>(.*?)</div>', html, re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", match[1])) if match else ""


@pytest.fixture
def susan(alice):
    return Contact.objects.create(owner=alice, name="Susan Planner", company="Acme Wealth")


@pytest.fixture
def items(alice, susan, charlie):
    today = alice_today()

    def make(title, days, **extra):
        return FollowUp.objects.create(
            owner=alice, contact=susan, title=title, due_on=today + timedelta(days), **extra
        )

    made = {
        "overdue": make("Send the proposal", -3),
        "overdue_snoozed": make("Snoozed but overdue", -1, status=Status.SNOOZED),
        "today": make("Call about the chapter", 0),
        "soon": make("Book the lunch", 2),
        "later": make("Ask about the new office", 20),
        "done": make("Thanked already", -2, status=Status.DONE, completed_at=timezone.now()),
    }
    stranger = Contact.objects.create(owner=charlie, name="Charlie's friend")
    made["charlies"] = FollowUp.objects.create(
        owner=charlie, contact=stranger, title="Charlie's own", due_on=today
    )
    return made


# --- The list ---------------------------------------------------------------------------


def test_list_sorts_follow_ups_into_overdue_today_and_upcoming(alice_client, items):
    html = page(alice_client.get(reverse("followups:list")))

    assert item_ids(section(html, "overdue")) == [
        items["overdue"].pk,
        items["overdue_snoozed"].pk,
    ]
    assert item_ids(section(html, "today")) == [items["today"].pk]
    assert item_ids(section(html, "upcoming")) == [items["soon"].pk, items["later"].pk]
    assert "Charlie&#x27;s own" not in html and "Charlie's own" not in html
    # Done ones are only under "Recently done".
    recently_done = html.split("<summary>Recently done</summary>")[1]
    assert item_ids(recently_done) == [items["done"].pk]
    assert "overdue since" in section(html, "overdue")


def test_list_is_empty_for_a_new_user(charlie_client):
    html = page(charlie_client.get(reverse("followups:list")))

    assert "Nothing overdue. Well kept." in html
    assert "Nothing due today." in html
    assert "Recently done" not in html


def test_list_needs_login(client):
    response = client.get(reverse("followups:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --- Adding one -------------------------------------------------------------------------


def test_add_a_follow_up(alice_client, alice, susan):
    due = alice_today() + timedelta(days=4)

    response = alice_client.post(
        reverse("followups:create"),
        {"contact": susan.pk, "title": "  Send   the   proposal ", "due_on": due.isoformat()},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("followups:list")
    followup = FollowUp.objects.get()
    assert (followup.owner, followup.contact, followup.title, followup.due_on) == (
        alice,
        susan,
        "Send the proposal",
        due,
    )
    assert followup.status == Status.OPEN
    assert "Follow-up saved: Send the proposal" in messages_of(
        page(alice_client.get(response["Location"]))
    )


def test_add_with_errors_keeps_what_was_typed(alice_client, susan):
    response = alice_client.post(
        reverse("followups:create"), {"contact": "", "title": "Send the proposal", "due_on": ""}
    )

    html = page(response)
    assert "nothing you typed is lost" in html
    assert 'value="Send the proposal"' in html
    assert field_errors(html) == ["Pick someone from your contacts.", "This field is required."]
    assert not FollowUp.objects.exists()

    # With a contact picked and the title missing, the picked contact stays picked.
    html = page(
        alice_client.post(
            reverse("followups:create"),
            {"contact": susan.pk, "title": "   ", "due_on": "2030-01-02"},
        )
    )
    assert field_errors(html) == ["This field is required."]
    assert "Susan Planner" in html
    assert 'value="2030-01-02"' in html
    assert not FollowUp.objects.exists()


def test_add_refuses_another_users_contact_and_a_date_long_past(alice_client, charlie):
    strangers = Contact.objects.create(owner=charlie, name="Charlie's friend")

    html = page(
        alice_client.post(
            reverse("followups:create"),
            {"contact": strangers.pk, "title": "Sneaky", "due_on": "2001-01-01"},
        )
    )

    assert field_errors(html) == [
        "That person is not in your contacts.",
        "That is more than a year ago.",
    ]
    assert "Charlie&#x27;s friend" not in html
    assert not FollowUp.objects.exists()


# --- Done and snooze --------------------------------------------------------------------


def test_done_with_htmx_returns_the_item_and_triggers_a_refresh(alice_client, items):
    followup = items["today"]

    response = alice_client.post(
        reverse("followups:done", args=[followup.pk]), HTTP_HX_REQUEST="true"
    )

    html = page(response)
    assert response["HX-Trigger"] == "followupChanged"
    assert html.lstrip().startswith(f'<li id="followup-{followup.pk}" class="spread done">')
    assert "<s>Call about the chapter</s>" in html
    assert "<html" not in html
    followup.refresh_from_db()
    assert followup.status == Status.DONE
    assert followup.completed_at is not None


def test_done_with_a_plain_post_redirects_with_a_message(alice_client, items):
    followup = items["overdue"]

    response = alice_client.post(reverse("followups:done", args=[followup.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("followups:list")
    html = page(alice_client.get(response["Location"]))
    assert "Done: Send the proposal." in messages_of(html)
    assert followup.pk not in item_ids(section(html, "overdue"))
    followup.refresh_from_db()
    assert followup.status == Status.DONE


def test_done_goes_back_to_a_safe_next_only(alice_client, items):
    dashboard = alice_client.post(
        reverse("followups:done", args=[items["today"].pk]), {"next": "/dashboard/"}
    )
    offsite = alice_client.post(
        reverse("followups:done", args=[items["soon"].pk]), {"next": "https://evil.example/"}
    )

    assert dashboard["Location"] == "/dashboard/"
    assert offsite["Location"] == reverse("followups:list")


@pytest.mark.parametrize(("by", "days"), [("day", 1), ("week", 7), ("month", 30)])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_snooze_by_a_day_a_week_or_a_month(alice_client, items, by, days, htmx):
    overdue, soon = items["overdue"], items["soon"]
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    responses = [
        alice_client.post(reverse("followups:snooze", args=[f.pk]), {"by": by}, **headers)
        for f in (overdue, soon)
    ]

    overdue.refresh_from_db()
    soon.refresh_from_db()
    # An overdue one is snoozed from today, a future one from its due date.
    assert overdue.due_on == alice_today() + timedelta(days=days)
    assert soon.due_on == alice_today() + timedelta(days=2 + days)
    assert overdue.status == soon.status == Status.SNOOZED
    if htmx:
        assert [r["HX-Trigger"] for r in responses] == ["followupChanged"] * 2
        assert "snoozed" in page(responses[0])
        assert page(responses[0]).lstrip().startswith(f'<li id="followup-{overdue.pk}"')
    else:
        assert [r.status_code for r in responses] == [302, 302]
        html = page(alice_client.get(reverse("followups:list")))
        assert f"Snoozed to {overdue.due_on:%a} {overdue.due_on.day}" in messages_of(html)


def test_snooze_to_a_date(alice_client, items):
    followup = items["today"]
    url = reverse("followups:snooze", args=[followup.pk])
    until = alice_today() + timedelta(days=12)

    form_page = page(alice_client.get(url))
    assert "Snooze “Call about the chapter”" in form_page
    response = alice_client.post(url, {"until": until.isoformat()})

    assert response.status_code == 302
    followup.refresh_from_db()
    assert (followup.due_on, followup.status) == (until, Status.SNOOZED)


@pytest.mark.parametrize(
    ("days", "error"),
    [
        (0, "Pick a day after today."),
        (-5, "Pick a day after today."),
        (400, "within the next year"),
    ],
)
def test_snooze_to_a_bad_date_shows_an_error(alice_client, items, days, error):
    followup = items["today"]

    html = page(
        alice_client.post(
            reverse("followups:snooze", args=[followup.pk]),
            {"until": (alice_today() + timedelta(days=days)).isoformat()},
        )
    )

    assert any(error in e for e in field_errors(html))
    followup.refresh_from_db()
    assert (followup.due_on, followup.status) == (alice_today(), Status.OPEN)


def test_edit_and_delete(alice_client, items, susan):
    followup = items["soon"]
    edit = reverse("followups:edit", args=[followup.pk])

    assert 'value="Book the lunch"' in page(alice_client.get(edit))
    response = alice_client.post(
        edit, {"contact": susan.pk, "title": "Book the long lunch", "due_on": "2030-05-06"}
    )
    assert response.status_code == 302
    followup.refresh_from_db()
    assert (followup.title, followup.due_on.isoformat()) == ("Book the long lunch", "2030-05-06")

    response = alice_client.post(reverse("followups:delete", args=[followup.pk]))
    assert response.status_code == 302
    assert not FollowUp.objects.filter(pk=followup.pk).exists()


# --- The dashboard ----------------------------------------------------------------------


def test_dashboard_widget_lists_what_is_due_this_week(alice_client, items):
    html = page(alice_client.get(reverse("dashboard")))

    widget = html.split("<h2>Follow-ups</h2>", 1)[1].split("</section>", 1)[0]
    assert item_ids(widget) == [
        items["overdue"].pk,
        items["overdue_snoozed"].pk,
        items["today"].pk,
        items["soon"].pk,
    ]
    assert "Charlie" not in widget
    # Each row has its one-click buttons with a real href/action for no-JS use.
    assert f'action="{reverse("followups:done", args=[items["today"].pk])}"' in widget


def test_dashboard_widget_with_nothing_due(charlie_client):
    html = page(charlie_client.get(reverse("dashboard")))

    assert "Nothing due this week." in html


# --- Quick-log ticks ---------------------------------------------------------------------


def quicklog_data(*contacts, ticks=(), **extra) -> dict:
    when = timezone.now().astimezone(LONDON) - timedelta(hours=1)
    return {
        "attendees": [c.pk for c in contacts],
        "kind": "coffee",
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
        "place": "Corner cafe",
        "followup_ticks": list(ticks),
        **extra,
    }


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_quick_log_ticks_create_follow_ups_for_each_attendee(alice_client, alice, susan, htmx):
    raj = Contact.objects.create(owner=alice, name="Raj Realtor")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = alice_client.post(
        reverse("contacts:meeting_log"),
        quicklog_data(susan, raj, ticks=["thank_you", "week", "bogus"]),
        **headers,
    )

    assert response.status_code == (200 if htmx else 302)
    meeting = Meeting.objects.get()
    today = alice_today()
    made = [
        (f.title, f.due_on, f.contact_id, f.meeting_id, f.owner_id) for f in FollowUp.objects.all()
    ]
    assert len(made) == 4
    assert {m[:3] for m in made} == {
        ("Send a thank-you note to Susan Planner", today + timedelta(1), susan.pk),
        ("Send a thank-you note to Raj Realtor", today + timedelta(1), raj.pk),
        ("Follow up with Susan Planner", today + timedelta(7), susan.pk),
        ("Follow up with Raj Realtor", today + timedelta(7), raj.pk),
    }
    assert {m[3:] for m in made} == {(meeting.pk, alice.pk)}
    # Tomorrow's thank-you notes are on the dashboard straight away.
    dashboard = page(alice_client.get(reverse("dashboard")))
    assert "Send a thank-you note to Susan Planner" in dashboard
    if htmx:
        assert response["HX-Trigger"] == "meetingLogged"


def test_quick_log_month_tick(alice_client, susan):
    alice_client.post(reverse("contacts:meeting_log"), quicklog_data(susan, ticks=["month"]))

    [followup] = FollowUp.objects.all()
    assert followup.title == "Check in again with Susan Planner"
    assert followup.due_on == alice_today() + timedelta(days=30)


def test_quick_log_without_ticks_creates_no_follow_up(alice_client, susan):
    alice_client.post(reverse("contacts:meeting_log"), quicklog_data(susan))

    assert Meeting.objects.count() == 1
    assert not FollowUp.objects.exists()


def test_quick_log_with_errors_creates_nothing_and_keeps_the_ticks(alice_client):
    html = page(
        alice_client.post(
            reverse("contacts:meeting_log"), quicklog_data(ticks=["thank_you", "month"])
        )
    )

    assert "Pick at least one person you met." in html
    assert re.search(r'value="thank_you"\s+checked', html)
    assert re.search(r'value="month"\s+checked', html)
    assert not re.search(r'value="week"\s+checked', html)
    assert not Meeting.objects.exists()
    assert not FollowUp.objects.exists()


# --- Query counts -------------------------------------------------------------------------

# Measured with the small data set; the large one must not need more (no query per row).
# Each count includes the session and user look-ups of the signed-in request. The list:
# session, user, and one query each for overdue, today, upcoming and recently done. The
# dashboard: session, user, the follow-ups widget, and the nine queries of the widgets
# that the contacts and referrals apps register.
# + 3 for plan's small steps widget (dismissals, call step, thank-you step).
MAX_QUERIES = {"list": 6, "dashboard": 16}
SIZES = {"small": (2, 2), "large": (25, 15)}  # (contacts, follow-ups per contact)


def build_followups(owner, contacts: int, per_contact: int) -> None:
    today = alice_today()
    people = [
        Contact.objects.create(owner=owner, name=f"Person {i:03}", company=f"Company {i}")
        for i in range(contacts)
    ]
    FollowUp.objects.bulk_create(
        FollowUp(
            owner=owner,
            contact=person,
            title=f"Follow-up {j} with {person.name}",
            due_on=today + timedelta(days=(j * 3) % 21 - 7),
            status=[Status.OPEN, Status.SNOOZED, Status.DONE][j % 3],
            completed_at=timezone.now() if j % 3 == 2 else None,
        )
        for person in people
        for j in range(per_contact)
    )


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(MAX_QUERIES))
def test_query_count_is_fixed(alice_client, alice, django_assert_max_num_queries, size, name):
    build_followups(alice, *SIZES[size])
    url = reverse("followups:list" if name == "list" else "dashboard")

    with django_assert_max_num_queries(MAX_QUERIES[name]):
        response = alice_client.get(url)

    assert response.status_code == 200
    shown = len(item_ids(response.content.decode()))
    assert shown >= {"small": 2, "large": 8}[size]
