"""The follow-ups page renders its rows in Python (followups.rows) with one reverse() per
route (referralcrm.links): the same rows, working forms, escaped text, and a page whose
cost does not grow with the follow-ups a user has done."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import timezone

from contacts.models import Contact
from followups.models import FollowUp, Status
from referralcrm import links

pytestmark = pytest.mark.django_db


def today(user):
    return timezone.localtime(timezone.now(), user.tzinfo).date()


def build(owner, n: int, done: int = 0) -> Contact:
    susan = Contact.objects.create(owner=owner, name="Susan <Planner>")
    day = today(owner)
    FollowUp.objects.bulk_create(  # all upcoming
        FollowUp(owner=owner, contact=susan, title=f"Call {i}", due_on=day + timedelta(days=1 + i))
        for i in range(n)
    )
    FollowUp.objects.bulk_create(
        FollowUp(
            owner=owner,
            contact=susan,
            title=f"Done {i}",
            due_on=day - timedelta(days=3),
            status=Status.DONE,
            completed_at=timezone.now() - timedelta(hours=i),
        )
        for i in range(done)
    )
    return susan


# --- Links made once per route ---------------------------------------------------------


def test_url_maker_makes_what_reverse_makes():
    contact = links.url_maker("contacts:detail")
    merge = links.url_maker("portability:merge", 2)

    assert contact(7) == reverse("contacts:detail", args=[7])
    assert merge(12, 3456) == reverse("portability:merge", args=[12, 3456])
    with pytest.raises(ValueError):
        merge(1)
    with pytest.raises(NoReverseMatch):
        links.url_maker("contacts:detail", 2)


def test_url_maker_keeps_the_script_prefix():
    set_script_prefix("/crm/")
    try:
        assert links.url_maker("followups:done")(5) == "/crm" + "/followups/5/done/"
        assert links.url_maker("followups:done")(5) == reverse("followups:done", args=[5])
    finally:
        set_script_prefix("/")


def test_the_page_reverses_each_route_once_however_many_rows(alice_client, alice):
    build(alice, 120, done=10)

    with mock.patch.object(links, "reverse", wraps=links.reverse) as counted:
        html = alice_client.get(reverse("followups:list")).content.decode()

    assert html.count('<li id="followup-') == 60  # 50 upcoming, 10 recently done
    # done, snooze, contact, prep: once for each of the two lists, not for each row
    assert counted.call_count == 2 * 4


# --- The rows ----------------------------------------------------------------------------


def test_rows_say_what_each_follow_up_is_and_escape_the_text(alice_client, alice):
    susan = Contact.objects.create(owner=alice, name="Susan <Planner>")
    day = today(alice)
    late = FollowUp.objects.create(
        owner=alice, contact=susan, title='Send "plans" & <notes>', due_on=day - timedelta(days=2)
    )
    snoozed = FollowUp.objects.create(
        owner=alice, contact=susan, title="Lunch", due_on=day + timedelta(days=3), status="snoozed"
    )
    done = FollowUp.objects.create(
        owner=alice,
        contact=susan,
        title="Thank-you",
        due_on=day,
        status=Status.DONE,
        completed_at=timezone.now(),
    )

    html = alice_client.get(reverse("followups:list")).content.decode()

    row = re.search(rf'<li id="followup-{late.pk}".*?</li>', html, re.S).group(0)
    assert "Send &quot;plans&quot; &amp; &lt;notes&gt;" in row
    assert f"overdue since {late.due_on:%a} {late.due_on.day} {late.due_on:%b}" in row
    assert 'class="field-error"' in row
    assert f'<a href="{susan.get_absolute_url()}">Susan &lt;Planner&gt;</a>' in row
    assert f'href="{reverse("plan:prep", args=[susan.pk])}?followup={late.pk}"' in row
    assert f'action="{reverse("followups:done", args=[late.pk])}"' in row
    assert f'hx-post="{reverse("followups:snooze", args=[late.pk])}"' in row
    assert "<notes>" not in html and "<Planner>" not in html

    row = re.search(rf'<li id="followup-{snoozed.pk}".*?</li>', html, re.S).group(0)
    assert " · snoozed" in row and 'class="muted"' in row

    row = re.search(rf'<li id="followup-{done.pk}" class="spread done">.*?</li>', html, re.S)
    assert "<s>Thank-you</s>" in row.group(0) and "<form" not in row.group(0)


def test_the_rows_forms_carry_a_working_csrf_token(alice):
    build(alice, 3)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    html = browser.get(reverse("followups:list")).content.decode()
    followup = FollowUp.objects.filter(owner=alice, title="Call 0").get()
    form = re.search(
        rf'<form method="post" action="{reverse("followups:done", args=[followup.pk])}".*?</form>',
        html,
        re.S,
    ).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)

    response = browser.post(
        reverse("followups:done", args=[followup.pk]), {"csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    followup.refresh_from_db()
    assert followup.status == Status.DONE


def test_done_over_htmx_answers_with_the_row(alice_client, alice):
    build(alice, 1)
    followup = FollowUp.objects.get(owner=alice)

    response = alice_client.post(
        reverse("followups:snooze", args=[followup.pk]), {"by": "week"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert html.startswith(f'<li id="followup-{followup.pk}" class="spread">')
    assert " · snoozed" in html and 'name="csrfmiddlewaretoken"' in html


# --- A page that does not grow -----------------------------------------------------------


def test_recently_done_are_the_ten_last_done_newest_first(alice_client, alice):
    build(alice, 2, done=25)

    html = alice_client.get(reverse("followups:list")).content.decode()

    recently = html.split("<summary>Recently done</summary>")[1]
    assert re.findall(r"<s>(Done \d+)</s>", recently) == [f"Done {i}" for i in range(10)]


@pytest.mark.parametrize("n, done", [(3, 2), (200, 300)])
def test_the_query_count_does_not_grow(alice_client, alice, django_assert_max_num_queries, n, done):
    build(alice, n, done)

    with django_assert_max_num_queries(6):  # session, user, overdue, today, upcoming, done
        response = alice_client.get(reverse("followups:list"))

    assert response.status_code == 200
