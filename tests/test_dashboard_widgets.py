"""Lazy dashboard widgets: the page holds a placeholder of the widget's size; htmx fills it
from the widget's own URL once the page is shown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from referralcrm import dashboard

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_won_referral(alice):
    from referrals.models import Direction, Referral, Status

    partner = Contact.objects.create(owner=alice, name="Marker Partner Quokka")
    referral = Referral.objects.create(
        owner=alice,
        direction=Direction.GIVEN,
        partner=partner,
        prospect_name="Marker Prospect Wombat",
        referred_on=timezone.localdate(),
    )
    referral.move_to(Status.WON, on=timezone.localdate(), value=Decimal("4321"))
    return referral


def test_the_chart_is_lazy_and_its_placeholder_points_at_it(alice_client):
    assert "chart" in dashboard.lazy_names()
    html = alice_client.get(reverse("dashboard")).content.decode()
    url = reverse("dashboard_widget", args=["chart"])
    placeholder = html.split(f'hx-get="{url}"', 1)
    assert len(placeholder) == 2, "no placeholder for the chart"
    section = placeholder[0].rsplit("<section", 1)[1] + placeholder[1].split("</section>", 1)[0]
    assert 'hx-trigger="load"' in section and "widget-chart" in section and "widget-wide" in section
    assert 'class="chart-box"' in section  # a box of the chart's shape holds its place
    assert "<rect" not in html  # the chart itself is not in the page


def test_the_widget_url_renders_the_widget_in_its_section(alice_client, alices_won_referral):
    response = alice_client.get(reverse("dashboard_widget", args=["chart"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<section")
    assert "widget-chart" in html and "widget-wide" in html and "hx-get" not in html
    assert "Referrals, last 12 months" in html


def test_unknown_or_eager_widget_names_are_404(alice_client):
    assert alice_client.get(reverse("dashboard_widget", args=["nope"])).status_code == 404
    eager = [e.name for e in dashboard._registry if not e.lazy]
    assert eager, "every widget is lazy?"
    assert alice_client.get(reverse("dashboard_widget", args=[eager[0]])).status_code == 404


def test_widget_urls_need_a_signed_in_user_and_refuse_post(client, alice):
    url = reverse("dashboard_widget", args=["chart"])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response.url
    client.force_login(alice)
    assert client.post(url).status_code == 405


def test_another_user_sees_none_of_alices_data_in_any_lazy_widget(
    client, alice, charlie, alices_won_referral
):
    client.force_login(alice)
    mine = "".join(
        client.get(reverse("dashboard_widget", args=[n])).content.decode()
        for n in dashboard.lazy_names()
    )
    assert "4,321" in mine  # the chart shows alice's closed business
    client.force_login(charlie)
    theirs = client.get(reverse("dashboard")).content.decode() + "".join(
        client.get(reverse("dashboard_widget", args=[n])).content.decode()
        for n in dashboard.lazy_names()
    )
    for marker in ("Marker Partner Quokka", "Marker Prospect Wombat", "4,321"):
        assert marker not in theirs


def test_two_widgets_with_one_name_are_refused():
    def chart_widget(request):  # same name as the ledger's chart
        return None

    with pytest.raises(ValueError, match="chart"):
        dashboard.register(order=99, lazy=True)(chart_widget)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_the_chart_arrives_after_first_paint_in_the_box_that_held_its_place(
    page, alice, alices_won_referral, width
):
    from tests.conftest import login_in_browser

    page.set_viewport_size({"width": width, "height": 900})
    held = []  # the widget's request, held back until the placeholder is measured
    page.route("**/dashboard/widgets/chart/", lambda route: held.append(route))
    login_in_browser(page, alice.email)
    placeholder = page.locator("section.widget-chart.widget-loading")
    placeholder.wait_for()
    before = placeholder.bounding_box()
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    chart = page.locator("section.widget-chart svg")
    chart.wait_for()
    after = page.locator("section.widget-chart").bounding_box()
    assert page.locator("section.widget-chart.widget-loading").count() == 0
    assert abs(after["height"] - before["height"]) <= 4, (before, after)


@pytest.fixture
def steps_and_group(alice, bob):
    """Alice has a stalled connection to call, a thank-you owed and a group: each of the
    lazy widgets has something to show."""
    from datetime import timedelta

    from contacts.models import Stage
    from referrals.models import Direction, Referral, Status
    from tests.groups_fixtures import build_group

    carl = Contact.objects.create(
        owner=alice,
        name="Carl Connection",
        stage=Stage.CONNECTION,
        created_at=timezone.now() - timedelta(days=90),
    )
    Referral.objects.create(
        owner=alice,
        direction=Direction.RECEIVED,
        partner=carl,
        prospect_name="Paul Prospect",
        status=Status.WON,
        value=Decimal("2500"),
        closed_on=timezone.localdate() - timedelta(days=3),
    )
    return build_group(members=[alice, bob])


def test_the_group_widget_holds_a_place_only_for_members_of_a_group(
    client, alice, charlie, steps_and_group
):
    url = reverse("dashboard_widget", args=["group"])
    client.force_login(alice)
    assert f'hx-get="{url}"' in client.get(reverse("dashboard")).content.decode()
    assert "Leeds Chapter" in client.get(url).content.decode()
    # Charlie is in no group: no place that would later vanish, and nothing to load.
    client.force_login(charlie)
    assert f'hx-get="{url}"' not in client.get(reverse("dashboard")).content.decode()
    assert client.get(url).content == b""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", ["small-steps", "group"])
def test_a_lazy_widget_arrives_in_the_box_that_held_its_place(
    page, alice, steps_and_group, name, width
):
    from tests.conftest import login_in_browser

    page.set_viewport_size({"width": width, "height": 900})
    held = []
    page.route(f"**/dashboard/widgets/{name}/", lambda route: held.append(route))
    # The introduction step loads after the small steps: its line is measured as loading.
    page.route("**/plan/steps/introduction/", lambda route: None)
    login_in_browser(page, alice.email)
    placeholder = page.locator(f"section.widget-{name}.widget-loading")
    placeholder.wait_for()
    before = placeholder.bounding_box()
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    page.locator(f"section.widget-{name}:not(.widget-loading)").wait_for()
    after = page.locator(f"section.widget-{name}").bounding_box()
    assert abs(after["height"] - before["height"]) <= 4, (before, after)


def test_going_cold_and_recent_meetings_link_each_contact(alice_client, alice):
    from datetime import timedelta

    from contacts.meetings import log_meeting
    from contacts.models import MeetingKind

    cold = Contact.objects.create(owner=alice, name="Colin Cold", cadence_days=30)
    Contact.objects.filter(pk=cold.pk).update(touch_due_at=timezone.now() - timedelta(days=3))
    met = Contact.objects.create(owner=alice, name="Mia Met")
    log_meeting(
        owner=alice,
        occurred_at=timezone.now() - timedelta(hours=2),
        kind=MeetingKind.COFFEE,
        attendees=[met, cold],
    )
    Contact.objects.filter(pk=cold.pk).update(touch_due_at=timezone.now() - timedelta(days=3))

    html = alice_client.get(reverse("dashboard")).content.decode()

    cold_url, touch = cold.get_absolute_url(), reverse("contacts:touch", args=[cold.pk])
    going_cold = html.split("<h2>Going cold</h2>", 1)[1].split("</section>", 1)[0]
    assert f'<a href="{cold_url}">Colin Cold</a>' in going_cold
    assert f'action="{touch}" hx-post="{touch}"' in going_cold
    recent = html.split("<h2>Recent meetings</h2>", 1)[1].split("</section>", 1)[0]
    for person in (met, cold):
        assert f'<a href="{person.get_absolute_url()}">{person.name}</a>' in recent
