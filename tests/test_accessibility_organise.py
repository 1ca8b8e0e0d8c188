"""WCAG 2.1 AA on the organisers' site (/organise/), checked in Chromium with axe-core as in
tests/test_accessibility.py, at phone and desktop width: an organiser logs in (password, then
the TOTP code) once per width and no page has a serious or critical violation. The CSP
violations Chromium reports fail the test too (the ``page`` fixture)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from tests.conftest import make_user
from tests.groups_fixtures import build_group, furnish
from tests.test_accessibility import RUN_AXE
from tests.test_browser_groups import _log_in_with_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The same run as on the main pages, without preloading the CSSOM: no rule of these tags uses
# it (only css-orientation-lock, an experimental rule, does), and to read a stylesheet's
# @import (Django's admin forms.css imports widgets.css) axe writes a <style> into a document
# of its own that inherits the page's Content-Security-Policy: Chromium blocks it and reports
# a CSP violation that is axe's, not the page's.
OPEN = "await axe.run(document, {"
assert OPEN in RUN_AXE
RUN_AXE_NO_CSSOM = RUN_AXE.replace(OPEN, OPEN + '\n    preload: {assets: ["media"]},')


def _organiser_pages(chapter, life) -> list[str]:
    """The organisers' main pages, for a group from ``build_group`` furnished by ``furnish``."""
    group = chapter.group.pk
    return [
        reverse("organise:index"),
        reverse("organise:groups_membership_changelist") + f"?group__id__exact={group}",
        reverse("organise:groups_invitation_changelist"),
        reverse("organise:groups_invitation_add") + f"?group={group}",
        reverse("organise:groups_groupmeeting_changelist") + f"?group__id__exact={group}",
        # The past meeting: marks (a substitute, so its name form shows) and a visitor.
        reverse("organise:attendance", args=[life.past.pk]),
        # The report carries "Needs attention" and the health lights; no page of its own.
        reverse("organise:report") + f"?group={group}",
        reverse("organise:thresholds", args=[group]),
        reverse("organise:groups_slip_changelist"),
        # The closed slip: its fields and the trail of changes.
        reverse("organise:groups_slip_change", args=[life.won.pk]),
    ]


@pytest.mark.parametrize("width", [390, 1280])
def test_organisers_pages_have_no_serious_accessibility_violation(page, width):
    chapter = build_group(
        members=[
            make_user("bob@example.com", display_name="Bob Member"),
            make_user("carol@example.com", display_name="Carol Member"),
        ]
    )
    life = furnish(chapter, "Leeds")
    # Members of a month's standing, so last week's meeting lists them all (marked present,
    # a substitute with the name form, not yet marked) besides its visitor.
    chapter.group.memberships.update(joined_on=life.past.on - timedelta(days=30))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/organise/")
    page.wait_for_url("**/accounts/login/?next=/organise/")
    _log_in_with_code(page, chapter.organiser.email)
    page.wait_for_url("**/organise/")

    found = {}
    for url in _organiser_pages(chapter, life):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert "/organise/" in page.url, url  # not sent back to a login page
        page.add_script_tag(url="/static/vendor/axe/axe.min.js")
        violations = page.evaluate(RUN_AXE_NO_CSSOM)
        if violations:
            found[url] = violations
    assert found == {}, json.dumps(found, indent=1)
