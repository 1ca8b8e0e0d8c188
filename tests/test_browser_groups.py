"""In real Chromium, the organisers' journey: log in with two-factor, invite dave from the
organisers' site, dave joins by the link and gives bob a slip, bob closes it won (the
thank-you dave sees), then the organiser takes attendance on a phone with htmx taps and
reads the member report and its CSV."""

from __future__ import annotations

import csv
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from groups import invitations
from groups.admin import schedule_meetings
from groups.models import Attendance, Group, Invitation, Membership, Role, Slip
from referrals.models import Direction, Referral, Status
from tests.conftest import PASSWORD, login_in_browser, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOTP_SECRET = "JBSWY3DPEHPK3PXP"
SHOTS = Path("/tmp/shots")
DESKTOP = {"width": 1280, "height": 900}
UNMARKED = "\u2013"  # the en dash shown for a member not yet marked


def _code(step: int = 0) -> str:
    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30 + step))


def _new_page(browser, live_server, viewport=DESKTOP):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(10_000)
    return context.new_page()


def _log_in_with_code(page, email: str) -> None:
    """Password, then allauth's code page (mfa_authenticate)."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#main").get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(_code())
    with page.expect_navigation():  # either on, or the code page again with an error
        page.locator("#main").get_by_role("button", name="Sign In").click()
    if "/2fa/authenticate/" in page.url:  # the 30 s window turned between reading and posting
        page.get_by_label("Code").fill(_code())
        page.locator("#main").get_by_role("button", name="Sign In").click()


def _report_csv(page) -> tuple[str, dict[str, list[str]], list[list[str]]]:
    """Download the report's CSV from its "Export CSV" link: (file name, rows by member, all)."""
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    rows = list(csv.reader(Path(download.path()).read_text(encoding="utf-8").splitlines()))
    return download.suggested_filename, {r[0]: r for r in rows[2:]}, rows


def _cells(page, membership) -> list[str]:
    """The report row's cells after the name: seat, given, received, outside, closed for them,
    closed from theirs, 1-2-1s, attendance %, visitors, health, P / A / L / M / S."""
    return [" ".join(t.split()) for t in page.locator(f"#row-{membership.pk} td").all_inner_texts()]


def test_organiser_invites_member_gives_slip_and_organiser_reports(
    page, browser, live_server, bob, monkeypatch
):
    # --- Setup: a group meeting today's weekday, its organiser (with TOTP), bob and carol.
    today = timezone.localdate()
    group = Group.objects.create(
        name="Leeds Chapter", city="Leeds", currency="USD", meeting_weekday=today.weekday()
    )
    olga = make_user("olga@example.com", display_name="Olga Organiser")
    Authenticator.objects.create(
        user=olga, type=Authenticator.Type.TOTP, data={"secret": TOTP_SECRET}
    )
    carol = make_user("carol@example.com", display_name="Carol Member")
    olga_m = Membership.objects.create(group=group, user=olga, role=Role.ORGANISER, seat="Lawyer")
    bob_m = Membership.objects.create(group=group, user=bob, seat="Builder")
    carol_m = Membership.objects.create(group=group, user=carol, seat="Caterer")
    meetings = schedule_meetings(group, 4)
    meeting = group.meetings.get(on=today)
    assert [m.on for m in meetings] == [today + timedelta(weeks=i) for i in range(4)]
    dave = make_user("dave@example.com", display_name="Dave Newman")
    # The invitation e-mail goes out after commit through Celery; send it in-process instead
    # of leaving a task in the test broker, so the test can read the mail.
    monkeypatch.setattr(
        invitations,
        "enqueue",
        lambda inv: transaction.on_commit(lambda: invitations.send(inv.pk)),
    )

    # --- 1. The organiser logs in (password, then the code) and invites dave.
    page.goto("/organise/")
    page.wait_for_url("**/accounts/login/?next=/organise/")
    _log_in_with_code(page, olga.email)
    page.wait_for_url("**/organise/")
    card = page.locator(".organise-card", has_text="Leeds Chapter")
    expect(card).to_contain_text("3 members")
    card.get_by_role("link", name="Invite a member").click()
    page.wait_for_url("**/organise/groups/invitation/add/**")
    expect(page.locator("#id_group")).to_have_value(str(group.pk))
    page.locator("#id_group").select_option(label=str(group))
    page.locator("#id_email").fill("dave@example.com")
    page.locator("#id_seat").fill("Architect")
    page.locator('input[name="_save"]').click()
    page.wait_for_url("**/organise/groups/invitation/")
    expect(page.locator("ul.messagelist")).to_have_text(
        "The invitation is on its way to dave@example.com."
    )
    invitation = Invitation.objects.get(group=group, email="dave@example.com")
    assert invitation.invited_by == olga
    assert invitation.seat == "Architect"
    assert invitation.role == Role.MEMBER
    assert invitation.sent_at is not None
    assert [m.to for m in mail.outbox] == [["dave@example.com"]]
    # The e-mailed link opens this invitation (tokens carry a timestamp, so compare by reading).
    mailed = re.search(r"/groups/join/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert invitations.read(mailed) == invitation
    link = invitations.url_for(invitation)

    # --- 2. Dave opens the link, logs in from the join page and joins.
    dave_page = _new_page(browser, live_server)
    join_url = link.replace(settings.SITE_URL, live_server.url)
    dave_page.goto(join_url)
    expect(dave_page.get_by_role("heading", name="Join Leeds Chapter")).to_be_visible()
    expect(dave_page.locator("#main")).to_contain_text("in the Architect seat")
    dave_page.get_by_role("button", name="I have an account: log in").click()
    dave_page.wait_for_url("**/accounts/login/**")
    dave_page.get_by_label("Email").fill(dave.email)
    dave_page.get_by_label("Password").fill(PASSWORD)
    dave_page.locator("#main").get_by_role("button", name="Sign In").click()
    dave_page.wait_for_url(join_url)
    dave_page.get_by_role("button", name="Join Leeds Chapter").click()
    dave_page.wait_for_url(f"**{group.get_absolute_url()}")
    expect(dave_page.get_by_text("Welcome to Leeds Chapter!")).to_be_visible()
    dave_m = Membership.objects.get(group=group, user=dave)
    assert dave_m.seat == "Architect" and dave_m.role == Role.MEMBER
    expect(dave_page.locator("#roster-heading")).to_have_text("Roster (4)")
    roster = dave_page.locator("ul.roster > li strong")
    expect(roster).to_have_text(["Bob Member", "Carol Member", "Dave Newman", "Olga Organiser"])
    expect(dave_page.locator(f"#member-{dave_m.pk}")).to_contain_text("You")

    # --- 3. Dave gives bob a slip from the roster.
    dave_page.locator(f"#member-{bob_m.pk}").get_by_role("button", name="Give a slip").click()
    dave_page.wait_for_url(f"**/groups/slips/new/?to={bob_m.pk}")
    expect(dave_page.locator("#id_receiver")).to_have_value(str(bob_m.pk))
    dave_page.locator("#id_prospect_name").fill("Priya Patel")
    dave_page.locator("#id_need").fill("An extension on her terraced house")
    dave_page.get_by_role("button", name="Give the slip").click()
    dave_page.wait_for_url(re.compile(r"/groups/slips/\d+/$"))
    slip = Slip.objects.get(group=group)
    assert (slip.giver, slip.receiver, slip.status) == (dave_m, bob_m, Status.PASSED)
    expect(dave_page.get_by_role("heading", name="Priya Patel")).to_be_visible()
    expect(dave_page.locator("#main")).to_contain_text("You passed this to Bob Member")
    expect(
        dave_page.get_by_text("Slip passed to Bob Member: it is in both your ledgers.")
    ).to_be_visible()
    slip_url = dave_page.url

    # --- 4. Bob sees it in his ledger as a received group slip and closes it won.
    bob_page = _new_page(browser, live_server)
    login_in_browser(bob_page, bob.email)
    bob_page.goto("/referrals/")
    received = Referral.objects.get(owner=bob, slip=slip)
    assert received.direction == Direction.RECEIVED
    row = bob_page.locator(f"#referral-{received.pk}")
    expect(row.locator(".badge.dir-received")).to_have_text("← from")
    expect(row.locator(".badge-shared")).to_have_text("group slip")
    expect(row).to_contain_text("Dave Newman: Priya Patel")
    row.get_by_role("button", name="Open slip").click()
    bob_page.wait_for_url(f"**{slip.get_absolute_url()}")
    expect(bob_page.locator("#main")).to_contain_text("Dave Newman passed this to you")
    expect(bob_page.get_by_label("Closed won")).to_be_checked()
    bob_page.locator("#id_value").fill("4000")
    bob_page.get_by_role("button", name="Close the slip").click()
    expect(bob_page.locator(".thank-you")).to_have_text(
        "You thanked Dave Newman for $4,000 of closed business."
    )
    expect(bob_page.locator(".badge.status-won")).to_have_text("Closed won")
    slip.refresh_from_db()
    assert slip.status == Status.WON and slip.value == 4000 and slip.closed_on == today

    # --- 5. Dave reloads his slip page: the thank-you.
    dave_page.goto(slip_url)
    expect(dave_page.locator(".thank-you")).to_have_text(
        "Bob Member thanked you for $4,000 of closed business."
    )
    bob_page.context.close()
    dave_page.context.close()

    # --- 6. The organiser takes attendance on the phone: taps swap one row in place.
    page.goto("/organise/")
    card.get_by_role("link", name=re.compile(r"^Take attendance")).click()
    attendance_url = f"{live_server.url}/organise/meetings/{meeting.pk}/attendance/"
    page.wait_for_url(attendance_url)
    expect(page.locator(".attendance-item .mark-name")).to_have_text(
        ["Bob Member", "Carol Member", "Dave Newman", "Olga Organiser"]
    )
    page.evaluate("window.__sameDocument = 'yes'")

    def tap(membership, expected: str, label: str) -> None:
        item = page.locator(f"#m-{membership.pk}")
        item.locator("button.mark").click()
        expect(item.locator(".mark-code")).to_have_text(expected)
        expect(item.locator("button.mark")).to_have_attribute(
            "aria-label", f"{membership.name}: {label}. Tap to change."
        )
        expect(item.locator("button.mark")).to_have_class(re.compile(rf"\bmark-{expected}\b"))

    bob_item = page.locator(f"#m-{bob_m.pk}")
    expect(bob_item.locator(".mark-code")).to_have_text(UNMARKED)
    for code, label in [
        ("P", "Present"),
        ("A", "Absent"),
        ("L", "Late"),
        ("M", "Medical"),
        ("S", "Substitute"),
    ]:
        tap(bob_m, code, label)
        assert Attendance.objects.get(meeting=meeting, membership=bob_m).code == code
    expect(bob_item.get_by_label("Substitute for Bob Member")).to_be_visible()
    tap(bob_m, "P", "Present")  # round again
    expect(bob_item.locator("form.substitute")).to_have_count(0)
    tap(carol_m, "P", "Present")
    tap(carol_m, "A", "Absent")
    tap(dave_m, "P", "Present")
    expect(page.locator(f"#m-{olga_m.pk} .mark-code")).to_have_text(UNMARKED)
    # No full page load happened: same URL, and what was set on window is still there.
    assert page.url == attendance_url
    assert page.evaluate("window.__sameDocument") == "yes"
    assert dict(Attendance.objects.filter(meeting=meeting).values_list("membership", "code")) == {
        bob_m.pk: "P",
        carol_m.pk: "A",
        dave_m.pk: "P",
    }
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "attendance-phone.png", full_page=True)

    # --- The member report, this month, and its CSV.
    page.goto("/organise/")
    card.get_by_role("link", name="Member report").click()
    page.wait_for_url(f"**/organise/report/?group={group.pk}")
    page.locator("#id_period").select_option(label="This month")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/organise/report/\?.*period=month"))
    totals = page.locator("ul.report-totals")
    expect(totals).to_contain_text("4 members")
    expect(totals).to_contain_text(re.compile(r"\b1 referrals? inside"))
    expect(totals).to_contain_text("$4,000 closed business")
    expect(totals).to_contain_text(re.compile(r"\b1 meetings? with attendance"))
    #        seat, given, received, outside, closed for, closed from, 1-2-1s, att %, visitors
    assert _cells(page, dave_m)[:9] == ["Architect", "1", "0", "0", "—", "$4,000", "0", "100%", "0"]
    assert _cells(page, bob_m)[:9] == ["Builder", "0", "1", "0", "$4,000", "—", "0", "100%", "0"]
    assert _cells(page, carol_m)[:9] == ["Caterer", "0", "0", "0", "—", "—", "0", "0%", "0"]
    assert _cells(page, dave_m)[-1] == "1 / 0 / 0 / 0 / 0"
    assert _cells(page, bob_m)[-1] == "1 / 0 / 0 / 0 / 0"
    assert _cells(page, carol_m)[-1] == "0 / 1 / 0 / 0 / 0"
    assert _cells(page, olga_m)[-1] == "0 / 0 / 0 / 0 / 0"
    page.screenshot(path=SHOTS / "report-phone.png", full_page=True)

    name, by_member, rows = _report_csv(page)
    assert name == f"member-report-{today.replace(day=1):%Y%m%d}-{today:%Y%m%d}.csv"
    assert rows[0] == [f"Leeds Chapter: member report {today.replace(day=1)} to {today}"]
    header = rows[1]
    col = {h: i for i, h in enumerate(header)}
    assert list(by_member) == [
        "Bob Member",
        "Carol Member",
        "Dave Newman",
        "Olga Organiser",
        "Group total",
    ]

    def fields(row, *names):
        return [row[col[n]] for n in names]

    money = ["Closed business received", "Closed business from referrals given"]
    given = ["Referrals given (inside)", "Referrals received (inside)"]
    codes = ["P (Present)", "A (Absent)", "L (Late)", "M (Medical)", "S (Substitute)"]
    assert fields(by_member["Dave Newman"], *given, *money) == ["1", "0", "—", "$4,000"]
    assert fields(by_member["Bob Member"], *given, *money) == ["0", "1", "$4,000", "—"]
    assert fields(by_member["Bob Member"], *codes, "Attendance %") == [*"10000", "100"]
    assert fields(by_member["Carol Member"], *codes, "Attendance %") == [*"01000", "0"]
    assert fields(by_member["Dave Newman"], *codes, "Attendance %") == [*"10000", "100"]
    assert fields(by_member["Olga Organiser"], *codes, "Attendance %") == [*"00000", ""]
    assert fields(by_member["Group total"], *given, money[0], *codes) == [
        "1",
        "1",
        "$4,000",
        *"21000",
    ]

    # --- One more tap (carol: absent → late) and the CSV follows.
    page.goto(attendance_url)
    tap(carol_m, "L", "Late")
    page.goto(f"/organise/report/?group={group.pk}&period=month")
    assert _cells(page, carol_m)[-1] == "0 / 0 / 1 / 0 / 0"
    _, after, _ = _report_csv(page)
    assert fields(after["Carol Member"], *codes, "Attendance %") == [*"00100", "100"]
    assert fields(after["Group total"], *codes) == [*"20100"]
    for member in ("Bob Member", "Dave Newman", "Olga Organiser"):
        assert after[member] == by_member[member]
