"""WCAG 2.1 AA on the main pages, checked in Chromium with axe-core (vendored from npm,
served from our own origin so the Content-Security-Policy allows it), at phone and desktop
width: no serious or critical violation."""

from __future__ import annotations

import pytest

from contacts.meetings import log_meeting
from contacts.models import Contact, GainsFact, Stage
from referrals.models import Referral
from tests.conftest import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/dashboard/",
    "/contacts/",
    "/contacts/{contact}/",
    "/contacts/new/",
    "/referrals/",
    "/referrals/new/",
    "/followups/",
    "/groups/",
    "/import/",
    "/export/",
    "/contacts/duplicates/",
    "/plan/",
    "/plan/introductions/",
    "/plan/prep/{contact}/",
    "/plan/event/",
    "/plan/event/capture/",
    "/followups/settings/",
    "/profile/delete/",
    "/profile/",
    "/settings/api-tokens/",
    "/settings/webhooks/",
]

RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_main_pages_have_no_serious_accessibility_violation(page, alice, width):
    from django.utils import timezone

    susan = Contact.objects.create(
        owner=alice, name="Susan Planner", company="Acme", stage=Stage.CONNECTION
    )
    GainsFact.objects.create(owner=alice, contact=susan, kind="goal", text="A second office")
    log_meeting(owner=alice, occurred_at=timezone.now(), kind="coffee", attendees=[susan])
    Referral.objects.create(owner=alice, direction="given", partner=susan, prospect_name="Pat")
    page.set_viewport_size({"width": width, "height": 900})
    login_in_browser(page, alice.email)
    found = {}
    for path in PAGES:
        url = path.format(contact=susan.pk)
        page.goto(url)
        page.add_script_tag(url="/static/vendor/axe/axe.min.js")
        violations = page.evaluate(RUN_AXE)
        if violations:
            found[url] = violations
    assert found == {}
