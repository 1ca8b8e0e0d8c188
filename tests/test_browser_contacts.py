"""A networker's day on a phone, in Chromium: add a contact, jot GAINS, log a coffee, find them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from contacts.models import Contact, GainsFact, Meeting
from tests.conftest import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _mark_document(page) -> None:
    """Tag the current document; the tag survives htmx swaps but not a full page load."""
    page.evaluate("window.__sameDocument = true")


def _same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_add_a_contact_jot_gains_log_a_coffee_and_find_them(page, alice):
    Contact.objects.create(owner=alice, name="Raj Realtor", profession="Realtor")
    login_in_browser(page, alice.email)
    nav = page.get_by_role("navigation", name="Main")

    # Add a contact through the form.
    nav.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_role("button", name="Add a contact", exact=True).click()
    page.get_by_label(re.compile(r"^Name:?$")).fill("Susan Planner")
    page.get_by_label("Company").fill("Acme Wealth")
    page.get_by_label("Profession or category").fill("Financial planner")
    page.get_by_label("Emails").fill("susan@example.com")
    page.get_by_label("Tags").fill("chapter")
    page.get_by_role("button", name="Add contact").click()

    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Susan Planner")
    expect(page.locator("#messages")).to_contain_text("Susan Planner is in your network.")
    susan = Contact.objects.get(owner=alice, name="Susan Planner")
    contact_url = page.url

    # Two GAINS facts, inline: each section updates in place, no page load.
    _mark_document(page)
    goals = page.locator("#gains-goal")
    goals.get_by_text("+ Add to goals").click()
    goals.get_by_label("New goals fact").fill("Wants to open a second office")
    goals.get_by_role("button", name="Add").click()
    expect(goals.locator("ul.facts")).to_contain_text("Wants to open a second office")

    interests = page.locator("#gains-interest")
    interests.get_by_text("+ Add to interests").click()
    interests.get_by_label("New interests fact").fill("Races yachts at regattas")
    interests.get_by_role("button", name="Add").click()
    expect(interests.locator("ul.facts")).to_contain_text("Races yachts at regattas")
    expect(goals.locator("ul.facts")).to_contain_text("Wants to open a second office")
    assert _same_document(page)
    assert page.url == contact_url
    assert sorted(susan.gains_facts.values_list("kind", "text")) == [
        ("goal", "Wants to open a second office"),
        ("interest", "Races yachts at regattas"),
    ]

    # Quick-log a coffee from the dashboard.
    nav.get_by_role("link", name="Dashboard", exact=True).click()
    page.wait_for_url("**/dashboard/")
    _mark_document(page)
    search = page.get_by_label("Who did you meet?")
    search.press_sequentially("Sus", delay=50)
    page.get_by_role("option", name=re.compile(r"^Susan Planner")).click()
    expect(page.locator("#chips-attendees")).to_contain_text("Susan Planner")
    expect(search).to_have_value("")
    page.get_by_label(re.compile(r"^Kind:?$")).select_option(label="Coffee")
    page.get_by_role("button", name="Log meeting").click()

    expect(page.locator("#quicklog").get_by_role("status")).to_contain_text(
        "Logged coffee with Susan Planner."
    )
    assert _same_document(page)
    meeting = Meeting.objects.get(owner=alice)
    assert meeting.kind == "coffee"
    assert list(meeting.attendees.all()) == [susan]
    susan.refresh_from_db()
    assert susan.last_touched_at == meeting.occurred_at

    # The dashboard's recent meetings now link to her page; the coffee is on her timeline.
    recent = page.locator(".widget", has=page.get_by_role("heading", name="Recent meetings"))
    recent.get_by_role("link", name="Susan Planner").click()
    page.wait_for_url(contact_url)
    timeline = page.locator("#timeline")
    expect(timeline.locator("li.timeline-meeting")).to_have_count(1)
    expect(timeline.locator("li.timeline-meeting")).to_contain_text("Coffee")

    # Search the contact list for a word from her GAINS.
    nav.get_by_role("link", name="Contacts", exact=True).click()
    page.wait_for_url("**/contacts/")
    results = page.locator("#contact-results")
    expect(results.get_by_role("link", name="Raj Realtor")).to_be_visible()
    page.get_by_label("Search contacts").fill("regattas")
    expect(results.get_by_role("link", name="Raj Realtor")).to_have_count(0)
    expect(results.get_by_role("link", name="Susan Planner")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]q=regattas"))
    assert GainsFact.objects.filter(contact=susan).count() == 2
