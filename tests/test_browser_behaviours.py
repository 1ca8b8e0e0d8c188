"""In Chromium: what app.js does in place of inline handlers (which the CSP forbids)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.meetings import log_meeting
from contacts.models import Contact, Meeting
from tests.conftest import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_picker_enter_picks_the_first_match_and_the_cross_removes_it(page, alice):
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    login_in_browser(page, alice.email)
    page.goto("/referrals/new/")
    search = page.locator("#search-partner")
    search.fill("Susa")
    expect(page.locator("#suggestions-partner button.suggestion")).to_have_count(1)
    search.press("Enter")
    chips = page.locator('#chips-partner input[name="partner"]')
    expect(chips).to_have_value(str(susan.pk))
    expect(search).to_have_value("")  # picking cleared the search box
    expect(page).to_have_url(re.compile(r"/referrals/new/$"))  # Enter did not submit the form
    page.get_by_role("button", name="Remove Susan Planner").click()
    expect(chips).to_have_count(0)


def test_enter_typed_fast_picks_the_match_for_what_was_typed_not_a_stale_suggestion(page, alice):
    # Aaron is first in the list for "a"; Enter right after typing "Susa" must pick Susan.
    Contact.objects.create(owner=alice, name="Aaron Able")
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    login_in_browser(page, alice.email)
    page.goto("/referrals/new/")
    search = page.locator("#search-partner")
    search.fill("a")
    expect(page.locator("#suggestions-partner button.suggestion").first).to_contain_text("Aaron")
    search.fill("Susa")
    search.press("Enter")
    expect(page.locator('#chips-partner input[name="partner"]')).to_have_value(str(susan.pk))


def test_the_picker_is_a_combobox_driven_by_the_keyboard(page, alice):
    sam = Contact.objects.create(owner=alice, name="Sam Able")
    sara = Contact.objects.create(owner=alice, name="Sara Baker")
    login_in_browser(page, alice.email)
    page.goto("/referrals/new/")
    search = page.get_by_role("combobox", name=re.compile("Partner|Who"))
    search.fill("Sa")
    options = page.locator("#suggestions-partner [role=option]")
    expect(options).to_have_count(2)
    expect(search).to_have_attribute("aria-expanded", "true")
    search.press("ArrowDown")
    search.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    second = sara if "Sara" in options.nth(1).inner_text() else sam
    search.press("Enter")
    expect(page.locator('#chips-partner input[name="partner"]')).to_have_value(str(second.pk))
    search.fill("Sa")
    expect(options.first).to_be_visible()
    search.press("Escape")
    expect(options).to_have_count(0)
    expect(search).to_have_attribute("aria-expanded", "false")


def test_deleting_a_meeting_asks_first(page, alice):
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    meeting = log_meeting(owner=alice, occurred_at=timezone.now(), kind="coffee", attendees=[susan])
    login_in_browser(page, alice.email)
    page.goto(f"/contacts/meetings/{meeting.pk}/edit/")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete meeting").click()
    page.wait_for_timeout(300)
    assert Meeting.objects.filter(pk=meeting.pk).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete meeting").click()
    expect(page.locator("#messages")).to_contain_text("Meeting deleted.")
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
