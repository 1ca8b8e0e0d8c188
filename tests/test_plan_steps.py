"""This week's small steps on the dashboard: an introduction to make, a stalled connection
to call with a reason, a thank-you owed; each one click (once) and dismissable for a week."""

from __future__ import annotations

import html as htmllib
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, GainsFact, Stage
from followups.models import FollowUp
from plan import steps
from plan.models import StepDismissal
from referrals.models import Direction, Introduction, Referral, Status

pytestmark = pytest.mark.django_db

MARKER = "QZVSTEPSMARKER"
HTMX = {"HTTP_HX_REQUEST": "true"}


def person(owner, name, *, facts=(), days_ago=0, **fields) -> Contact:
    """A contact created ``days_ago`` (with the default 30-day cadence: stalled after 30)."""
    fields.setdefault("created_at", timezone.now() - timedelta(days=days_ago))
    contact = Contact.objects.create(owner=owner, name=name, **fields)
    for kind, text in facts:
        GainsFact.objects.create(owner=owner, contact=contact, kind=kind, text=text)
    return contact


def won_referral(owner, partner, prospect: str, **fields) -> Referral:
    fields.setdefault("closed_on", timezone.localdate() - timedelta(days=3))
    return Referral.objects.create(
        owner=owner,
        direction=Direction.RECEIVED,
        partner=partner,
        prospect_name=prospect,
        status=Status.WON,
        value=Decimal("2500"),
        **fields,
    )


def text_of(response) -> str:
    body = response if isinstance(response, str) else response.content.decode()
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


@pytest.fixture
def net(alice):
    """Carl is the strongest stalled connection, Wes a weaker one; Anna is stalled but
    only an acquaintance; Tina's referral closed won and was never thanked; Gwen's goal
    meets Lars's skill (the introduction to make)."""
    carl = person(
        alice,
        "Carl Connection",
        stage=Stage.CONNECTION,
        days_ago=90,
        facts=[("interest", "Sailing"), ("goal", "Open the second office in Leeds")],
    )
    carl.strength = 70
    carl.save(update_fields=["strength"])
    wes = person(alice, "Wes Weaker", stage=Stage.CONNECTION, days_ago=200)
    anna = person(alice, "Anna Acquaint", stage=Stage.ACQUAINTANCE, days_ago=300)
    fresh = person(alice, "Fran Fresh", stage=Stage.CONNECTION, days_ago=2)
    tina = person(alice, "Tina Thanks", stage=Stage.ACQUAINTANCE)
    owed = won_referral(alice, tina, "Paul Prospect")
    thanked = won_referral(
        alice, tina, "Already Thanked", thanks_sent_on=timezone.localdate() - timedelta(days=1)
    )
    gwen = person(alice, "Gwen Goal", facts=[("goal", "Find a payroll bookkeeper")])
    lars = person(alice, "Lars Ledger", facts=[("skill", "Payroll bookkeeper for small firms")])
    return {
        "carl": carl,
        "wes": wes,
        "anna": anna,
        "fresh": fresh,
        "tina": tina,
        "owed": owed,
        "thanked": thanked,
        "gwen": gwen,
        "lars": lars,
    }


@pytest.fixture
def outsider(charlie):
    stalled = person(
        charlie,
        f"Charlie Stalled {MARKER}",
        stage=Stage.CONNECTION,
        days_ago=400,
        facts=[("goal", f"Goal {MARKER}")],
    )
    stalled.strength = 100
    stalled.save(update_fields=["strength"])
    referral = won_referral(charlie, stalled, f"Prospect {MARKER}")
    person(charlie, f"Charlie Goal {MARKER}", facts=[("goal", "Find a payroll bookkeeper")])
    person(charlie, f"Charlie Skill {MARKER}", facts=[("skill", "Payroll bookkeeper")])
    return {"contact": stalled, "referral": referral}


def dashboard(client) -> str:
    """The text of the small steps widget, as htmx loads it into the dashboard's place for it
    once the page is shown."""
    page = client.get(reverse("dashboard"))
    url = reverse("dashboard_widget", args=["small-steps"])
    assert page.status_code == 200
    assert f'hx-get="{url}"' in page.content.decode()
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    widget = re.search(
        r'<ul class="plain-list small-steps">.*?</ul>', response.content.decode(), re.S
    )
    assert widget, "no small steps widget on the dashboard"
    return text_of(widget.group())


def intro_fragment(client):
    return client.get(reverse("plan:step_introduction"), **HTMX)


# --- What the widget shows -------------------------------------------------------------


def test_widget_shows_a_call_with_a_reason_and_a_thank_you_owed(alice_client, net):
    assert "This week's small steps" in alice_client.get(reverse("dashboard")).content.decode()
    page = dashboard(alice_client)
    assert "Call Carl Connection" in page
    # The reason is a GAINS fact, a goal before an interest.
    assert "Ask how it is going: “Open the second office in Leeds”" in page
    assert "Wes Weaker" not in page  # weaker: only one call a week is suggested
    assert "Anna Acquaint" not in page  # not a connection
    assert "Thank Tina Thanks" in page
    assert "Their referral of Paul Prospect closed ($2,500)." in page
    assert "Already Thanked" not in page


def test_widget_loads_the_introduction_step_after_the_page(alice_client, net):
    dashboard(alice_client)  # the page holds the widget's place; htmx loads the widget
    html = alice_client.get(reverse("dashboard_widget", args=["small-steps"])).content.decode()
    assert f'hx-get="{reverse("plan:step_introduction")}"' in html
    response = intro_fragment(alice_client)
    assert response.status_code == 200
    page = text_of(response)
    assert "Introduce Gwen Goal to Lars Ledger" in page
    assert "payroll" in page.lower()
    assert "Not this week" in page
    assert reverse("plan:introduce", args=[net["gwen"].pk, net["lars"].pk]) in (
        response.content.decode()
    )
    # Without htmx the link goes to the suggestions page.
    plain = alice_client.get(reverse("plan:step_introduction"))
    assert plain.status_code == 302 and plain["Location"] == reverse("plan:introductions")


def test_an_empty_network_shows_no_steps(charlie_client):
    page = dashboard(charlie_client)
    assert "No stalled connection to call and no thank-you owed." in page
    assert "No introduction to suggest this week." in text_of(intro_fragment(charlie_client))


def test_the_best_stalled_connection_comes_first_then_the_most_overdue(alice, net):
    found = steps.call_step(alice, set())
    assert found.contact == net["carl"]
    # Among equals (no strength yet), the most overdue.
    found = steps.call_step(alice, {f"call:{net['carl'].pk}"})
    assert found.contact == net["wes"]
    assert "No touch" in found.reason or "not met yet" in found.reason


# --- One click, once ----------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_call_creates_one_follow_up_for_today_and_the_step_moves_on(alice_client, net, htmx):
    carl = net["carl"]
    action = reverse("plan:step_call", args=[carl.pk])
    extra = HTMX if htmx else {}
    first = alice_client.post(action, **extra)
    second = alice_client.post(action, **extra)
    if htmx:
        assert first.status_code == second.status_code == 204
        assert first["HX-Trigger"] == "followupChanged"
    else:
        assert first.status_code == 302 and first["Location"] == reverse("dashboard")
    calls = FollowUp.objects.filter(contact=carl, title="Call Carl Connection")
    assert calls.count() == 1
    # Due today, in the user's own time zone (alice is in London).
    assert calls.get().due_on == timezone.now().astimezone(alice_client_tz()).date()
    # On the dashboard as a follow-up due today; the step offers the next connection.
    assert "Call Carl Connection" in text_of(alice_client.get(reverse("dashboard")))
    page = dashboard(alice_client)
    assert "Call Carl Connection" not in page
    assert "Call Wes Weaker" in page


def alice_client_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")


@pytest.mark.parametrize("htmx", [False, True])
def test_thanks_sent_marks_the_referral_once(alice_client, net, htmx):
    owed = net["owed"]
    action = reverse("plan:step_thanks", args=[owed.pk])
    extra = HTMX if htmx else {}
    assert alice_client.post(action, **extra).status_code in (204, 302)
    owed.refresh_from_db()
    sent_on = owed.thanks_sent_on
    assert sent_on is not None
    # A second click (another tab) changes nothing.
    assert alice_client.post(action, **extra).status_code in (204, 302)
    owed.refresh_from_db()
    assert owed.thanks_sent_on == sent_on
    assert "Thank Tina Thanks" not in dashboard(alice_client)


def test_introduce_from_the_step_makes_one_introduction(alice_client, net):
    gwen, lars = net["gwen"], net["lars"]
    action = reverse("plan:introduce", args=[gwen.pk, lars.pk])
    alice_client.post(action)
    alice_client.post(action)
    assert Introduction.objects.filter(owner=net["gwen"].owner).count() == 1
    assert "Introduce Gwen Goal" not in text_of(intro_fragment(alice_client))


# --- Not this week -------------------------------------------------------------------------


def test_week_end_is_the_coming_sunday():
    assert steps.week_end(date(2025, 6, 2)) == date(2025, 6, 8)  # Monday
    assert steps.week_end(date(2025, 6, 8)) == date(2025, 6, 8)  # Sunday itself


@pytest.mark.parametrize("kind", ["call", "thanks", "intro"])
def test_not_this_week_hides_a_step_until_next_monday(alice_client, alice, net, kind):
    key = {
        "call": f"call:{net['carl'].pk}",
        "thanks": f"thanks:{net['owed'].pk}",
        "intro": steps.intro_key(*sorted([net["gwen"].pk, net["lars"].pk])),
    }[kind]
    response = alice_client.post(reverse("plan:step_dismiss"), {"key": key}, **HTMX)
    assert response.status_code == 204
    alice_client.post(reverse("plan:step_dismiss"), {"key": key})  # twice: still one row
    row = StepDismissal.objects.get(owner=alice, key=key)
    assert row.until.weekday() == 6

    page = dashboard(alice_client) + text_of(intro_fragment(alice_client))
    hidden = {
        "call": "Call Carl Connection",
        "thanks": "Thank Tina Thanks",
        "intro": "Introduce Gwen Goal",
    }
    assert hidden[kind] not in page
    # The others are still there.
    for other, title in hidden.items():
        if other != kind:
            assert title in page

    # Next Monday it is back.
    monday = row.until + timedelta(days=1)
    if kind == "intro":
        found = steps.introduction_step(alice, today=monday)
        assert found and found.key == key
    else:
        assert key in {s.key for s in steps.this_week(alice, today=monday)}


def test_a_bad_step_key_is_404(alice_client, alice, net):
    high, low = sorted([net["lars"].pk, net["gwen"].pk], reverse=True)
    for key in ["", "call:abc", "nope:1", f"intro:{high}-{low}", f"call:{low}x"]:
        response = alice_client.post(reverse("plan:step_dismiss"), {"key": key})
        assert response.status_code == 404, key
    assert not StepDismissal.objects.filter(owner=alice).exists()


# --- Isolation -----------------------------------------------------------------------------


def test_another_users_ids_are_404_and_change_nothing(alice_client, alice, net, outsider):
    theirs, referral = outsider["contact"], outsider["referral"]
    assert alice_client.post(reverse("plan:step_call", args=[theirs.pk])).status_code == 404
    assert alice_client.post(reverse("plan:step_thanks", args=[referral.pk])).status_code == 404
    for key in [
        f"call:{theirs.pk}",
        f"thanks:{referral.pk}",
        steps.intro_key(*sorted([theirs.pk, net["carl"].pk])),
    ]:
        assert alice_client.post(reverse("plan:step_dismiss"), {"key": key}).status_code == 404
    assert not FollowUp.objects.filter(contact=theirs).exists()
    referral.refresh_from_db()
    assert referral.thanks_sent_on is None
    assert not StepDismissal.objects.filter(owner=alice).exists()


def test_another_users_data_never_appears(alice_client, net, outsider):
    assert MARKER not in alice_client.get(reverse("dashboard")).content.decode()
    assert MARKER not in dashboard(alice_client)
    assert MARKER not in intro_fragment(alice_client).content.decode()


def test_steps_need_login_and_post(client, net):
    carl = net["carl"]
    for name, args in [("step_call", [carl.pk]), ("step_thanks", [net["owed"].pk])]:
        response = client.post(reverse(f"plan:{name}", args=args))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(carl.owner)
    assert client.get(reverse("plan:step_call", args=[carl.pk])).status_code == 405
    assert client.get(reverse("plan:step_dismiss")).status_code == 405
    assert not FollowUp.objects.exists()


# --- Query counts --------------------------------------------------------------------------

# The widget's own queries: this week's dismissals, the call step, the thank-you step.
WIDGET_QUERIES = 3
# The introduction fragment: session, user, this week's dismissals, and suggest()'s fixed
# number of queries (savepoint, settings, the matcher and its words, release; the plan, the
# sphere contacts, the matched contacts, introductions and "not a fit" dismissals).
FRAGMENT_QUERIES = 13
SIZES = {"small": 1, "large": 15}


def grow(owner, n: int) -> None:
    for i in range(n):
        c = person(
            owner,
            f"Extra {i}",
            stage=Stage.CONNECTION,
            days_ago=60 + i,
            facts=[("goal", f"Hire a payroll clerk {i}"), ("skill", "Payroll clerk training")],
        )
        won_referral(owner, c, f"Prospect {i}")
        StepDismissal.objects.create(
            owner=owner, key=f"call:{c.pk}", until=steps.week_end(timezone.localdate())
        )


@pytest.mark.parametrize("size", list(SIZES))
def test_widget_queries_are_fixed(alice, net, django_assert_max_num_queries, size):
    grow(alice, SIZES[size])
    with django_assert_max_num_queries(WIDGET_QUERIES):
        found = steps.this_week(alice)
    assert {s.kind for s in found} == {"call", "thanks"}


@pytest.mark.parametrize("size", list(SIZES))
def test_widget_url_queries_are_fixed(
    alice_client, alice, net, django_assert_max_num_queries, size
):
    """The widget as htmx loads it into the dashboard: the session, the user, its queries."""
    grow(alice, SIZES[size])
    dashboard(alice_client)  # warm up
    with django_assert_max_num_queries(WIDGET_QUERIES + 2):
        response = alice_client.get(reverse("dashboard_widget", args=["small-steps"]))
    assert "Call Carl Connection" in text_of(response)


@pytest.mark.parametrize("size", list(SIZES))
def test_introduction_fragment_queries_are_fixed(
    alice_client, alice, net, django_assert_max_num_queries, size
):
    grow(alice, SIZES[size])
    intro_fragment(alice_client)  # warm up
    with django_assert_max_num_queries(FRAGMENT_QUERIES):
        response = intro_fragment(alice_client)
    assert "Introduce" in text_of(response)
