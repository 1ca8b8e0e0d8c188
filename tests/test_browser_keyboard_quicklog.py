"""Keyboard only, in Chromium (issue 13): log a meeting from the dashboard's quick log and move
a referral along the ledger without a mouse. Every stop shows where focus is, and no htmx
swap sends focus back to the top of the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from contacts.models import Contact, GainsFact, Meeting
from followups.models import FollowUp
from referrals.models import Direction, Referral, Status
from tests.conftest import login_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The app's focus ring is Pico's: a box-shadow ring on controls and links, an outline on
# <summary> and on what app.js focuses after a swap. Either counts if it is drawn (some
# colour, some width). Polled, because Pico fades the ring in.
FOCUS_IS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  const style = getComputedStyle(el);
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) return true;
  if (style.boxShadow === "none") return false;
  return style.boxShadow.split(/,(?![^(]*\\))/).some((shadow) => {
    const colour = shadow.match(/rgba?\\(([^)]*)\\)/);
    const alpha = colour ? parseFloat(colour[1].split(",")[3] ?? "1") : 1;
    const lengths = (shadow.replace(/rgba?\\([^)]*\\)/, "").match(/-?[\\d.]+px/g) || [])
      .map(parseFloat);
    return alpha > 0 && (lengths[2] > 0 || lengths[3] > 0);
  });
}"""

DESCRIBE_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "nothing (focus fell back to the page)";
  const label = el.getAttribute("aria-label") || el.id || el.name || el.textContent;
  return el.tagName.toLowerCase() + " " + (label || "").trim().slice(0, 40);
}"""


def _focus_visible(page) -> None:
    try:
        page.wait_for_function(FOCUS_IS_VISIBLE, timeout=2_000)
    except PlaywrightTimeout:
        pytest.fail(f"no visible focus ring on {page.evaluate(DESCRIBE_FOCUS)}")


def _focused(page, selector: str) -> bool:
    return page.evaluate("s => document.activeElement.matches(s)", selector)


def _tab_to(page, selector: str, most: int, key: str = "Tab") -> int:
    """Press Tab until the focused element matches ``selector``; each stop on the way must
    show its focus. Returns the number of presses."""
    for presses in range(1, most + 1):
        page.keyboard.press(key)
        _focus_visible(page)
        if _focused(page, selector):
            return presses
    pytest.fail(f"{selector} not reached in {most} presses of {key}")


def _wait_for_focus(page, selector: str) -> None:
    try:
        page.wait_for_function(
            "s => document.activeElement.matches(s)", arg=selector, timeout=5_000
        )
    except PlaywrightTimeout:
        pytest.fail(f"focus is on {page.evaluate(DESCRIBE_FOCUS)}, not on {selector}")
    _focus_visible(page)


@pytest.mark.parametrize("width", [390, 1280])
def test_log_a_meeting_with_the_keyboard_only(page, alice, width):
    page.set_viewport_size({"width": width, "height": 844})
    susan = Contact.objects.create(owner=alice, name="Susan Planner", profession="Planner")
    Contact.objects.create(owner=alice, name="Raj Realtor", profession="Realtor")
    login_in_browser(page, alice.email)
    page.goto("/dashboard/")
    options = page.locator("#suggestions-attendees [role=option]")
    chips = page.locator("#chips-attendees")

    # From the top of the page, past the skip link and the menu, to the picker.
    assert _tab_to(page, "#search-attendees", most=12) <= 12
    search = page.locator("#search-attendees")
    expect(search).to_have_attribute("role", "combobox")

    # A wrong pick, taken back: Shift+Tab to its remove button, Enter, and focus is in the search again.
    page.keyboard.type("Raj", delay=40)
    # The list for "Raj" itself (the one for "Ra" shows him too, and is then replaced).
    expect(search).to_have_attribute("data-shown-for", "Raj")
    expect(options.first).to_have_text(re.compile(r"^\s*Raj Realtor"))
    page.keyboard.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "option-attendees-1")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(chips).to_contain_text("Raj Realtor")
    _wait_for_focus(page, "#search-attendees")
    page.keyboard.press("Shift+Tab")
    _wait_for_focus(page, "button[aria-label='Remove Raj Realtor']")
    page.keyboard.press("Enter")
    expect(chips).not_to_contain_text("Raj Realtor")
    _wait_for_focus(page, "#search-attendees")

    # The right pick: type part of the name, ArrowDown, Enter.
    page.keyboard.type("Sus", delay=40)
    expect(search).to_have_attribute("data-shown-for", "Sus")
    expect(options.first).to_have_text(re.compile(r"^\s*Susan Planner"))
    expect(options.last).to_contain_text("Add “Sus” as a new contact")
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(chips).to_contain_text("Susan Planner")
    expect(search).to_have_value("")
    _wait_for_focus(page, "#search-attendees")

    # Kind by its first letter, a place, one GAINS fact, the note, a follow-up tick.
    _tab_to(page, "#id_kind", most=1)
    page.keyboard.press("c")
    expect(page.locator("#id_kind")).to_have_value("coffee")
    _tab_to(page, "#id_place", most=10)  # through the date and time parts of "When"
    page.keyboard.type("Corner cafe")
    _tab_to(page, "select[name=fact_0_kind]", most=1)
    page.keyboard.press("i")
    expect(page.locator("select[name=fact_0_kind]")).to_have_value("interest")
    _tab_to(page, "input[name=fact_0_text]", most=1)
    page.keyboard.type("Races yachts at regattas")
    _tab_to(page, "#id_notes", most=5)
    page.keyboard.type("Wants an intro to a landscaper.")
    _tab_to(page, "input[name=followup_ticks][value=thank_you]", most=1)
    page.keyboard.press("Space")
    expect(page.locator("input[name=followup_ticks][value=thank_you]")).to_be_checked()
    _tab_to(page, "#quicklog button[type=submit]", most=3)
    page.keyboard.press("Enter")

    # The confirmation shows, and focus lands on it, not at the top of the page.
    status = page.locator("#quicklog").get_by_role("status")
    expect(status).to_contain_text("Logged coffee with Susan Planner.")
    expect(status).to_be_visible()
    _wait_for_focus(page, "#quicklog [role=status]")
    # Tab goes on to "Edit it", then to an empty picker, ready for the next meeting.
    _tab_to(page, "#quicklog [role=status] a", most=1)
    _tab_to(page, "#search-attendees", most=1)
    expect(chips).to_be_empty()

    meeting = Meeting.objects.get(owner=alice)
    assert meeting.kind == "coffee"
    assert meeting.place == "Corner cafe"
    assert meeting.notes == "Wants an intro to a landscaper."
    assert list(meeting.attendees.all()) == [susan]
    assert list(GainsFact.objects.filter(contact=susan).values_list("kind", "text")) == [
        ("interest", "Races yachts at regattas")
    ]
    assert list(FollowUp.objects.filter(meeting=meeting).values_list("contact", flat=True)) == [
        susan.pk
    ]


def test_quick_log_error_takes_focus(page, alice):
    """Logging with nobody picked: the error is focused (and so read out), the form intact."""
    login_in_browser(page, alice.email)
    page.goto("/dashboard/")
    _tab_to(page, "#search-attendees", most=12)
    _tab_to(page, "#id_place", most=10)
    page.keyboard.type("Chamber breakfast")
    _tab_to(page, "#quicklog button[type=submit]", most=12)
    page.keyboard.press("Enter")
    error = page.locator("#quicklog .form-errors")
    expect(error).to_contain_text("Pick at least one person you met.")
    _wait_for_focus(page, "#quicklog .form-errors")
    expect(page.locator("#id_place")).to_have_value("Chamber breakfast")
    assert not Meeting.objects.exists()


def test_advance_a_referral_with_the_keyboard_only(page, alice):
    susan = Contact.objects.create(owner=alice, name="Susan Park", profession="Planner")
    raj = Contact.objects.create(owner=alice, name="Raj Realtor", profession="Realtor")
    Referral.objects.create(
        owner=alice, partner=raj, direction=Direction.GIVEN, prospect_name="Other Prospect"
    )
    referral = Referral.objects.create(
        owner=alice, partner=susan, direction=Direction.RECEIVED, prospect_name="Dana Prospect"
    )
    login_in_browser(page, alice.email)
    page.goto("/referrals/")
    row_id = f"referral-{referral.pk}"
    row = page.locator(f"#{row_id}")

    # Tab to Dana's "→ Contacted" and press Enter: the row is swapped, focus stays in it,
    # on the next step's button.
    _tab_to(page, f"#{row_id} button[type=submit]", most=30)
    expect(page.locator(f"#{row_id} button[type=submit]")).to_have_text("→ Contacted")
    page.evaluate("window.__sameDocument = true")
    page.keyboard.press("Enter")
    expect(row.get_by_role("button", name="→ Meeting held")).to_be_visible()
    _wait_for_focus(page, f"#{row_id} button[type=submit]")
    referral.refresh_from_db()
    assert referral.status == Status.CONTACTED

    # Space moves it on again; with no step left, the row itself holds focus and Tab
    # carries on inside it.
    page.keyboard.press("Space")
    expect(row.get_by_role("button", name=re.compile("^→"))).to_have_count(0)
    _wait_for_focus(page, f"#{row_id}")
    referral.refresh_from_db()
    assert referral.status == Status.MEETING_HELD
    _tab_to(page, f"#{row_id} a", most=1)
    assert page.evaluate("window.__sameDocument === true")
    assert Referral.objects.exclude(pk=referral.pk).get().status == Status.PASSED
