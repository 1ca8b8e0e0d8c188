"""The ledger pages run a fixed number of SQL queries, however long the ledger.

Each page is measured at two sizes of data with the same ceiling: a query per row (N+1)
shows up as the large ledger going over it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from referrals.models import (
    Direction,
    Introduction,
    IntroMethod,
    IntroOutcome,
    Referral,
    Spend,
    Status,
    StatusChange,
    Temperature,
)

pytestmark = pytest.mark.django_db

# Queries per page, as measured with the small ledger (3 referrals); each includes the
# session and user look-ups of the signed-in request. The contact page and the dashboard
# also run the queries of the panels, timeline entries and widgets of the other apps.
MAX_QUERIES = {
    "ledger": 6,
    "ledger-filtered": 7,
    "intros": 4,
    "spends": 5,
    "who-to-ask": 3,
    "contact": 12,  # + occasions and merge records (portability timeline)
    "reciprocity-panel": 9,  # the contact page's lazy panel: 4 aggregates and the chart's 2
    "dashboard": 14,  # 11 + plan's small steps widget (dismissals, call step, thank-you step)
    "dashboard-chart": 4,  # the lazy 12-month chart: counts and closed values by month
}

SIZES = {
    "small": {"partners": 3, "referrals": 3, "spends": 2, "intros": 2},
    "large": {"partners": 20, "referrals": 60, "spends": 40, "intros": 15},
}
STATUSES = list(Status)
CURRENCIES = ["USD", "USD", "EUR"]


def build_ledger(owner, *, partners: int, referrals: int, spends: int, intros: int):
    """Partners with referrals both ways in every status, spends and introductions."""
    today = timezone.localdate()
    people = [
        Contact.objects.create(
            owner=owner, name=f"Partner {i:03}", company=f"Firm {i}", profession="Planner"
        )
        for i in range(partners)
    ]
    # Partner 000 appears in every 3rd referral, always given and open at times, so the
    # filtered ledger and the contact page have rows at both sizes.
    for r in range(referrals):
        partner = people[0] if r % 3 == 0 else people[r % partners]
        status = STATUSES[r % len(STATUSES)]
        closed = status in (Status.WON, Status.LOST, Status.NOT_A_FIT)
        referral = Referral.objects.create(
            owner=owner,
            partner=partner,
            direction=Direction.GIVEN if r % 2 == 0 else Direction.RECEIVED,
            prospect_name=f"Prospect {r:03}",
            prospect_contact=people[(r + 1) % partners] if r % 4 == 0 else None,
            referred_on=today - timedelta(days=(r * 11) % 300),
            temperature=list(Temperature)[r % 3],
            status=status,
            value=Decimal(100 * (r + 1)) if status == Status.WON else None,
            currency=CURRENCIES[r % 3],
            closed_on=today if closed else None,
        )
        StatusChange.objects.create(referral=referral, status=Status.PASSED)
        if status != Status.PASSED:
            StatusChange.objects.create(referral=referral, status=status)
    for s in range(spends):
        Spend.objects.create(
            owner=owner,
            contact=people[s % partners],
            spent_on=today - timedelta(days=s * 3),
            amount=Decimal("25.50") + s,
            currency=CURRENCIES[s % 3],
            description=f"Spend {s:03}",
            imported=s % 2 == 0,
        )
    for i in range(intros):
        Introduction.objects.create(
            owner=owner,
            contact_a=people[i % partners],
            contact_b=people[(i + 1) % partners],
            reason_a=f"Reason {i:03}",
            introduced_on=today - timedelta(days=i),
            method=list(IntroMethod)[i % 4],
            outcome=list(IntroOutcome)[i % 4],
        )
    return SimpleNamespace(people=people)


PAGES = {
    "ledger": lambda net: reverse("referrals:ledger"),
    "ledger-filtered": lambda net: reverse("referrals:ledger")
    + f"?partner={net.people[0].pk}&direction=given&period=year",
    "intros": lambda net: reverse("referrals:intros"),
    "spends": lambda net: reverse("referrals:spends"),
    "who-to-ask": lambda net: reverse("referrals:who_to_ask"),
    "contact": lambda net: net.people[0].get_absolute_url(),
    "reciprocity-panel": lambda net: reverse(
        "contacts:panel", args=[net.people[0].pk, "reciprocity"]
    ),
    "dashboard": lambda net: reverse("dashboard"),
    "dashboard-chart": lambda net: reverse("dashboard_widget", args=["chart"]),
}


def _shows_the_ledger(page: str, response, size: str) -> None:
    """The page really rendered the data, so a low count is not an empty page."""
    html = response.content.decode()
    rows = SIZES[size]
    if page == "ledger":
        assert html.count('<tr id="referral-') == min(25, rows["referrals"])
        assert "Partner 000" in html
    elif page == "ledger-filtered":
        assert "Referrals with Partner 000" in html
        assert html.count('<tr id="referral-') >= 1
    elif page == "intros":
        assert html.count("Reason 0") == min(25, rows["intros"])
    elif page == "spends":
        assert html.count("Spend 0") == min(25, rows["spends"])
    elif page == "who-to-ask":
        assert "You sent" in html
    elif page == "contact":
        assert "Prospect 000" in html  # a referral on the timeline
        assert "panel-reciprocity panel-loading" in html  # the panel comes after
    elif page == "reciprocity-panel":
        assert "You have sent Partner" in html
        assert '<figure class="chart">' in html
    elif page == "dashboard":
        assert "Prospect 0" in html
        assert "widget-chart widget-wide widget-loading" in html  # the chart comes after
    else:
        assert '<figure class="chart">' in html


CASES = [pytest.param(page, size, id=f"{page}-{size}") for page in PAGES for size in SIZES]


@pytest.mark.parametrize(("page", "size"), CASES)
def test_query_count_does_not_grow_with_the_ledger(
    alice_client, alice, django_assert_max_num_queries, page, size
):
    net = build_ledger(alice, **SIZES[size])
    url = PAGES[page](net)
    alice_client.get(url)  # warm up per-process caches (content types, templates)

    with django_assert_max_num_queries(MAX_QUERIES[page]):
        response = alice_client.get(url)

    assert response.status_code == 200
    _shows_the_ledger(page, response, size)


def _queries(client, url) -> int:
    client.get(url)  # warm up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", PAGES)
def test_query_count_is_the_same_for_a_short_and_a_long_ledger(client, alice, bob, page):
    """Independent of what other apps add to a page: 3 or 60 referrals, the same queries."""
    small = build_ledger(alice, **SIZES["small"])
    large = build_ledger(bob, **SIZES["large"])
    client.force_login(alice)
    small_count = _queries(client, PAGES[page](small))
    client.force_login(bob)
    large_count = _queries(client, PAGES[page](large))
    assert large_count == small_count
