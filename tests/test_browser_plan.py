"""The networking plan in Chromium, on a phone: fill the plan, turn a gap into a follow-up,
accept a suggested introduction and see it on both contacts' timelines."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from contacts.models import Contact, GainsFact, Stage
from followups.models import FollowUp
from referrals.models import Introduction
from tests.conftest import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_fill_the_plan_close_a_gap_and_make_a_suggested_introduction(page, alice):
    alice.profession = "Realtor"
    alice.save(update_fields=["profession"])
    gina = Contact.objects.create(owner=alice, name="Gina Goal", company="Goal Bakery")
    GainsFact.objects.create(
        owner=alice, contact=gina, kind="goal", text="Find a commercial lease for a second bakery"
    )
    larry = Contact.objects.create(
        owner=alice,
        name="Larry Lease",
        company="Lease Partners",
        profession="Commercial property agent",
        stage=Stage.CONNECTION,
        honours_referrals="yes",
    )
    GainsFact.objects.create(
        owner=alice, contact=larry, kind="skill", text="Negotiates commercial lease terms"
    )
    login_in_browser(page, alice.email)

    # The plan: the preferred client, and the sphere suggested from "Realtor".
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My networking plan")
    client = page.locator("#client")
    client.get_by_label("Who I serve best").fill("Families buying their first home")
    client.get_by_role("button", name="Save").click()
    expect(page.locator("#client")).to_contain_text("Families buying their first home")
    sphere = page.locator("#sphere")
    expect(sphere.get_by_label("Professions that serve the same client")).to_have_value(
        re.compile("mortgage", re.IGNORECASE)
    )
    sphere.get_by_role("button", name="Save").click()

    # A gap (a sphere profession nobody in the network has) becomes a follow-up.
    gaps = page.locator("#gaps")
    first_gap = (
        gaps.locator("li.plan-gap")
        .filter(has=page.get_by_role("button", name="Make it a follow-up"))
        .first
    )
    first_gap.get_by_role("button", name="Make it a follow-up").click()
    expect(page.locator("#gaps .badge", has_text="follow-up").first).to_be_visible()
    followup = FollowUp.objects.get(owner=alice)
    assert followup.contact == larry  # the strongest connection is the one to ask
    expect(page.locator("#gaps")).to_contain_text(followup.title)

    # A suggested introduction: Gina's goal meets Larry's skill.
    page.goto("/plan/introductions/")
    suggestion = page.locator(".intro-suggestions > li").first
    expect(suggestion).to_contain_text("Gina Goal")
    expect(suggestion).to_contain_text("Larry Lease")
    expect(suggestion.locator("mark").first).to_be_visible()
    suggestion.get_by_role("button", name=re.compile("^Introduce them")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Introduce")
    expect(page.get_by_role("button", name="Open in my mail program")).to_be_visible()
    intro = Introduction.objects.get(owner=alice)
    assert {intro.contact_a, intro.contact_b} == {gina, larry}

    # On both contacts' timelines.
    for person in (gina, larry):
        page.goto(f"/contacts/{person.pk}/")
        expect(page.locator("body")).to_contain_text("Introduction")
        expect(page.get_by_role("link", name="Gina Goal").first).to_be_visible()
        expect(page.get_by_role("link", name="Larry Lease").first).to_be_visible()
