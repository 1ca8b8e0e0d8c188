"""The contact pages and the dashboard run a fixed number of SQL queries, however big the network.

Each page is measured at two sizes of data with the same ceiling: a query per row (N+1)
shows up as the large network going over it.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.meetings import FactInput, log_meeting
from contacts.models import Contact, GainsFact, GainsKind, MeetingKind, Stage, Tag

pytestmark = pytest.mark.django_db

# Queries per page, as measured with the small network (3 contacts, 3 meetings); each
# includes the session and user look-ups of the signed-in request. The contact page and the
# dashboard also run the queries of the panels, timeline entries and widgets that the
# followups and referrals apps register.
MAX_QUERIES = {
    "list": 6,
    "search": 6,
    "stalled": 6,
    "detail": 13,  # 11 + the contact's occasions + its merge records (timeline)
    "dashboard": 17,  # 14 + plan's small steps widget (dismissals, call step, thank-you step)
}

SIZES = {
    "small": {"contacts": 3, "meetings": 3},
    "large": {"contacts": 40, "meetings": 120},
}
ATTENDEES_PER_MEETING = 3
FACTS_PER_CONTACT = 4
STAGES = [Stage.CONTACT, Stage.ACQUAINTANCE, Stage.CONNECTION]
KINDS = list(MeetingKind)


def build_network(owner, *, contacts: int, meetings: int) -> SimpleNamespace:
    """``contacts`` people with tags and GAINS facts, ``meetings`` meetings of 3 each."""
    now = timezone.now()
    tags = [Tag.objects.create(owner=owner, name=f"tag-{i}") for i in range(5)]
    people = []
    for i in range(contacts):
        person = Contact.objects.create(
            owner=owner,
            name=f"Person {i:03}",
            company=f"Company {i % 7}",
            profession="Realtor" if i % 2 else "Financial planner",
            city="Leeds",
            emails=[f"person{i}@example.com"],
            phones=["+44 113 496 0000"],
            stage=STAGES[i % 3],
            # Created long ago with a 30-day cadence: stalled until a meeting touches them.
            created_at=now - timedelta(days=90 + i),
        )
        person.tags.set(tags[: 1 + i % len(tags)])
        people.append(person)
    GainsFact.objects.bulk_create(
        GainsFact(
            owner=owner,
            contact=person,
            kind=list(GainsKind)[j % 5],
            text=f"Loves sailing, fact {j} about {person.name}",
        )
        for person in people
        for j in range(FACTS_PER_CONTACT)
    )
    for m in range(meetings):
        log_meeting(
            owner=owner,
            # All over 30 days ago: every contact stays stalled (30-day cadence).
            occurred_at=now - timedelta(days=35 + (m * 7) % 80, hours=m),
            kind=KINDS[m % len(KINDS)],
            attendees=[people[(m + k) % contacts] for k in range(ATTENDEES_PER_MEETING)],
            place=f"Place {m}",
            notes=f"Notes of meeting {m}",
            facts=[FactInput(kind=GainsKind.GOAL, text=f"Goal from meeting {m}")],
        )
    return SimpleNamespace(people=people, tags=tags)


PAGES = {
    "list": lambda net: reverse("contacts:list"),
    "search": lambda net: reverse("contacts:list") + "?q=sailing",
    "stalled": lambda net: reverse("contacts:list") + "?stalled=on&sort=overdue",
    "detail": lambda net: net.people[0].get_absolute_url(),
    "dashboard": lambda net: reverse("dashboard"),
}


def _shows_the_network(page: str, response, net) -> None:
    """The page really rendered the data, so a low count is not an empty page."""
    html = response.content.decode()
    if page in ("list", "search"):
        assert html.count('<a href="/contacts/') >= min(25, len(net.people))
        assert "Person 000" in html
    elif page == "stalled":
        assert "stalled" in html
    elif page == "detail":
        assert "<h1>Person 000</h1>" in html
        assert "Loves sailing, fact 0 about Person 000" in html
        assert "Goal from meeting 0" in html
        assert 'class="timeline-meeting"' in html
    else:
        assert "Person 0" in html


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("page", list(PAGES))
def test_query_count_does_not_grow_with_data(
    alice_client, alice, django_assert_max_num_queries, page, size
):
    net = build_network(alice, **SIZES[size])
    url = PAGES[page](net)
    alice_client.get(url)  # warm up per-process caches (content types, templates)

    with django_assert_max_num_queries(MAX_QUERIES[page]):
        response = alice_client.get(url)

    assert response.status_code == 200
    _shows_the_network(page, response, net)


def _queries(client, url) -> int:
    client.get(url)  # warm up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", list(PAGES))
def test_query_count_is_the_same_for_a_small_and_a_large_network(client, alice, bob, page):
    """Independent of what other apps add to a page: 3 or 40 contacts, the same queries."""
    small = build_network(alice, **SIZES["small"])
    large = build_network(bob, **SIZES["large"])
    client.force_login(alice)
    small_count = _queries(client, PAGES[page](small))
    client.force_login(bob)
    large_count = _queries(client, PAGES[page](large))
    assert large_count == small_count
