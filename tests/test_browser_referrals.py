"""In a real browser: log a referral from Susan, move it on, close it won, thank her, and see
the contact page's reciprocity panel and chart change."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from contacts.models import Contact
from referrals.models import Direction, Referral, Status
from tests.conftest import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_received_referral_from_log_to_thank_you(page, alice):
    susan = Contact.objects.create(
        owner=alice, name="Susan Park", company="Park Planning", profession="Financial planner"
    )
    login_in_browser(page, alice.email)

    # Before: nothing between alice and Susan.
    page.goto(susan.get_absolute_url())
    expect(page.locator("p.balance")).to_have_text("No referrals yet between you and Susan.")
    expect(page.locator("figure.chart svg")).to_have_count(0)

    # Log a referral received from Susan, picking her with the typeahead.
    page.goto("/referrals/new/")
    expect(page.locator('input[name="direction"][value="received"]')).to_be_checked()
    page.locator("#search-partner").fill("Susa")
    suggestion = page.locator("#suggestions-partner button.suggestion", has_text="Susan Park")
    suggestion.click()
    expect(page.locator('#chips-partner input[name="partner"]')).to_have_value(str(susan.pk))
    page.locator("#id_prospect_name").fill("Dana Prospect")
    page.locator("#id_need").fill("Retirement planning for her bakery staff")
    page.get_by_role("button", name="Log referral").click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    expect(page.get_by_role("heading", name="Dana Prospect")).to_be_visible()

    referral = Referral.objects.get(owner=alice)
    assert referral.partner == susan
    assert referral.direction == Direction.RECEIVED
    assert referral.status == Status.PASSED
    row = page.locator(f"#referral-{referral.pk}")

    # One click on the ledger moves it forward, in place.
    page.goto("/referrals/")
    row.get_by_role("button", name="→ Contacted").click()
    expect(row.locator(".badge.status-contacted")).to_have_text("Contacted")
    expect(row.get_by_role("button", name="→ Meeting held")).to_be_visible()
    referral.refresh_from_db()
    assert referral.status == Status.CONTACTED

    # Close it as won, with a value.
    row.get_by_role("button", name="Close", exact=True).click()
    page.wait_for_url(f"**/referrals/{referral.pk}/close/")
    expect(page.get_by_label("Closed won")).to_be_checked()
    page.locator("#id_value").fill("2500")
    page.get_by_role("button", name="Close referral").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    expect(page.locator(".badge.status-won")).to_have_text("Closed won")
    expect(page.get_by_text("$2,500", exact=True)).to_be_visible()
    referral.refresh_from_db()
    assert referral.status == Status.WON
    assert referral.value == Decimal("2500")
    assert referral.closed_on is not None

    # Send the thank-you from the ledger row.
    page.goto("/referrals/")
    row.get_by_role("button", name="Send thanks").click()
    expect(row.get_by_text("thanked ✓")).to_be_visible()
    expect(row.get_by_role("button", name="Send thanks")).to_have_count(0)
    referral.refresh_from_db()
    assert referral.thanks_sent_on is not None

    # Susan's page: the sentence and the chart show what she sent.
    page.goto(susan.get_absolute_url())
    expect(page.locator("p.balance")).to_have_text(
        "You have sent Susan 0 referrals; Susan has sent you 1 worth $2,500."
    )
    expect(page.locator("p.balance")).to_have_class(re.compile(r"\bbalance-owed\b"))
    chart = page.locator("figure.chart svg")
    expect(chart).to_have_count(1)
    received = chart.locator("rect.bar-received")
    expect(received).to_have_count(12)
    heights = [
        float(h) for h in received.evaluate_all("bars => bars.map(b => b.getAttribute('height'))")
    ]
    assert heights[-1] > 0  # this month's bar
    assert heights[:-1] == [0.0] * 11
    given = chart.locator("rect.bar-given")
    given_heights = given.evaluate_all("bars => bars.map(b => b.getBoundingClientRect().height)")
    assert all(h == 0 for h in given_heights)
    assert received.last.bounding_box()["height"] > 0
