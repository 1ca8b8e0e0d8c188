"""The daily digest e-mail: what it lists, how it arrives over SMTP, and send_digests."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.models import Contact, GainsFact, GainsKind
from followups import digest
from followups.models import DigestLog, DigestPreference, DigestState, FollowUp, Status
from referrals.models import Direction, Referral, Temperature
from referrals.models import Status as ReferralStatus
from tests import smtp_server
from tests.smtp_server import body

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")  # alice's time zone (tests/conftest.py)
SCRIPT_NAME = "<script>alert(1)</script>"


@pytest.fixture
def smtp(settings):
    with smtp_server.running(settings) as server:
        yield server


def make_due(*users, when):
    """Set each user's digest due at ``when``, as if their digest hour had just come."""
    DigestPreference.objects.filter(user__in=users).update(next_digest_at=when)


@pytest.fixture
def when():
    return timezone.now().replace(second=0, microsecond=0)


@pytest.fixture
def alices_day(alice, when):
    """Alice's network on the morning of her digest: one of each thing it reports, and
    things it must leave out (an upcoming and a done follow-up, a closed referral)."""
    day = when.astimezone(LONDON).date()
    long_ago = when - timedelta(days=90)
    susan = Contact.objects.create(owner=alice, name="Susan Planner", company="Acme Wealth")
    overdue = FollowUp.objects.create(
        owner=alice, contact=susan, title="Send Susan the proposal", due_on=day - timedelta(2)
    )
    today = FollowUp.objects.create(
        owner=alice, contact=susan, title="Call Susan about the chapter", due_on=day
    )
    FollowUp.objects.create(
        owner=alice, contact=susan, title="Book the autumn lunch", due_on=day + timedelta(3)
    )
    FollowUp.objects.create(
        owner=alice,
        contact=susan,
        title="Thank Susan for the intro",
        due_on=day - timedelta(1),
        status=Status.DONE,
        completed_at=when,
    )
    # Sixty days past a 30-day cadence; the goal is the reason to call, not the newer interest.
    raj = Contact.objects.create(owner=alice, name="Raj Realtor", company="Raj Homes")
    Contact.objects.filter(pk=raj.pk).update(touch_due_at=long_ago + timedelta(days=30))
    GainsFact.objects.create(
        owner=alice,
        contact=raj,
        kind=GainsKind.GOAL,
        text="Open a second office in Leeds",
        learned_on=day - timedelta(days=100),
    )
    GainsFact.objects.create(
        owner=alice,
        contact=raj,
        kind=GainsKind.INTEREST,
        text="Sails on weekends",
        learned_on=day - timedelta(days=95),
    )
    script = Contact.objects.create(owner=alice, name=SCRIPT_NAME, company="<b>Bold & Co</b>")
    Contact.objects.filter(pk=script.pk).update(touch_due_at=long_ago + timedelta(days=31))
    referral = Referral.objects.create(
        owner=alice,
        partner=susan,
        direction=Direction.GIVEN,
        prospect_name="Priya Patel",
        referred_on=day - timedelta(days=10),
    )
    Referral.objects.create(
        owner=alice,
        partner=susan,
        direction=Direction.RECEIVED,
        prospect_name="Closed Carl",
        referred_on=day - timedelta(days=20),
        status=ReferralStatus.WON,
        closed_on=day - timedelta(days=2),
        temperature=Temperature.HOT,
    )
    make_due(alice, when=when)
    return SimpleNamespace(
        day=day, susan=susan, overdue=overdue, today=today, raj=raj, referral=referral
    )


def send_due(when) -> list[str]:
    """One sweep at ``when`` and a send of each claimed digest: what the worker does."""
    return [digest.send_log(log_id, now=when) for log_id in digest.sweep(now=when)]


# --- The e-mail -------------------------------------------------------------------------


def test_digest_arrives_over_smtp_with_text_and_html_parts(smtp, alice, alices_day, when):
    assert send_due(when) == [DigestState.SENT]

    [message] = smtp.wait_for(1)
    assert smtp.handler.recipients == [["alice@example.com"]]
    assert message["To"] == "alice@example.com"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert (
        message["Subject"] == "5 things for your network today: Raj Realtor and others going cold"
    )
    assert message["Message-ID"] == f"<digest-{alice.pk}-{alices_day.day:%Y%m%d}@127.0.0.1>"
    assert message["Auto-Submitted"] == "auto-generated"

    log = DigestLog.objects.get(user=alice)
    assert (log.local_date, log.state, log.items, log.attempts) == (
        alices_day.day,
        DigestState.SENT,
        5,
        1,
    )
    assert log.sent_at is not None


def test_digest_lists_what_is_due_and_leaves_out_the_rest(smtp, alice, alices_day, when):
    send_due(when)
    [message] = smtp.wait_for(1)
    text = body(message, "plain")
    overdue_since = f"{alices_day.overdue.due_on.day} {alices_day.overdue.due_on:%b}"

    assert f"* Send Susan the proposal (overdue since {overdue_since})" in text
    assert "* Call Susan about the chapter (due today)" in text
    assert "Raj Realtor (Raj Homes): 60 days past your keep-in-touch cadence" in text
    assert "A reason to call: Open a second office in Leeds" in text
    assert "Sails on weekends" not in text
    assert "* To Susan Planner: Priya Patel (passed, since" in text
    for left_out in ("Book the autumn lunch", "Thank Susan for the intro", "Closed Carl"):
        assert left_out not in text
    # Plain text is not HTML: the contact's name is shown as typed.
    assert f"* {SCRIPT_NAME} (<b>Bold & Co</b>)" in text
    # Each follow-up has its one-click links, each going-cold contact its "I reached out".
    assert len(re.findall(r"Mark done: http://127\.0\.0\.1:8000/followups/act/\S+/", text)) == 2
    assert len(re.findall(r"Snooze a week: http://127\.0\.0\.1:8000/followups/act/", text)) == 2
    assert len(re.findall(r"I reached out: http://127\.0\.0\.1:8000/followups/act/", text)) == 2


def test_digest_has_one_click_unsubscribe_headers(smtp, alice, alices_day, when):
    send_due(when)
    [message] = smtp.wait_for(1)
    text = body(message, "plain")

    unsubscribe = re.search(r"Unsubscribe in one click: (\S+)", text).group(1)
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/followups/unsubscribe/[^/]+/", unsubscribe)
    # The header is folded onto a second line (it is longer than 78 characters).
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_digest_html_escapes_user_text_and_has_no_tracking_pixel(smtp, alice, alices_day, when):
    send_due(when)
    [message] = smtp.wait_for(1)
    html = body(message, "html")

    assert "<img" not in html.lower()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold &amp; Co&lt;/b&gt;" in html
    assert "Call Susan about the chapter" in html
    assert "A reason to call: Open a second office in Leeds" in html
    assert html.count("/followups/act/") == 6  # done and snooze twice, reached out twice


def test_no_email_for_a_user_with_nothing_to_report(smtp, bob, when):
    """Bob has only things the digest leaves out: an upcoming follow-up, a done one, a
    contact within cadence and a closed referral."""
    day = when.date()  # bob's time zone is UTC
    friend = Contact.objects.create(owner=bob, name="Fresh Friend")
    FollowUp.objects.create(owner=bob, contact=friend, title="Later", due_on=day + timedelta(1))
    FollowUp.objects.create(
        owner=bob, contact=friend, title="Old", due_on=day, status=Status.DONE, completed_at=when
    )
    Referral.objects.create(
        owner=bob,
        partner=friend,
        direction=Direction.GIVEN,
        prospect_name="Won Will",
        referred_on=day - timedelta(days=30),
        status=ReferralStatus.WON,
        closed_on=day,
    )
    make_due(bob, when=when)

    assert send_due(when) == [DigestState.EMPTY]

    log = DigestLog.objects.get(user=bob)
    assert (log.local_date, log.state, log.items, log.sent_at) == (day, "empty", 0, None)
    assert smtp.handler.data_commands == 0
    assert smtp.messages == []


# --- The send_digests command ------------------------------------------------------------


def test_send_digests_dry_run_sends_nothing_and_changes_nothing(smtp, alice, alices_day, when):
    out = StringIO()
    call_command("send_digests", "--dry-run", f"--now={when.isoformat()}", stdout=out)

    assert out.getvalue().splitlines() == [
        f"alice@example.com {alices_day.day}: 5 items",
        "1 due (dry run: nothing sent).",
    ]
    assert not DigestLog.objects.exists()
    assert DigestPreference.objects.get(user=alice).next_digest_at == when
    assert smtp.handler.data_commands == 0


def test_send_digests_now_prints_what_it_sent(smtp, alice, alices_day, bob, charlie, when):
    make_due(bob, when=when)  # nothing to report
    make_due(charlie, when=when + timedelta(minutes=1))  # not due yet
    out = StringIO()

    call_command("send_digests", f"--now={when.isoformat()}", stdout=out)

    lines = out.getvalue().splitlines()
    assert sorted(lines[:-1]) == [
        f"alice@example.com {alices_day.day}: sent (5 items)",
        f"bob@example.com {when.date()}: empty (0 items)",
    ]
    assert lines[-1] == "2 claimed, 1 sent."
    [message] = smtp.wait_for(1)
    assert message["To"] == "alice@example.com"
    assert not DigestLog.objects.filter(user=charlie).exists()
    # Each claimed user's next digest moved to a later day.
    assert DigestPreference.objects.get(user=alice).next_digest_at > when


def test_send_digests_run_twice_sends_once(smtp, alice, alices_day, when):
    call_command("send_digests", f"--now={when.isoformat()}", stdout=StringIO())
    out = StringIO()
    call_command("send_digests", f"--now={(when + timedelta(minutes=5)).isoformat()}", stdout=out)

    assert out.getvalue().splitlines() == ["0 claimed, 0 sent."]
    assert len(smtp.wait_for(1)) == 1
    assert smtp.handler.data_commands == 1


def test_digest_html_carries_its_styles_inline_for_mail_clients(smtp, alice, alices_day, when):
    """The template has classes only; the sent message has them inlined as styles."""
    send_due(when)
    [message] = smtp.wait_for(1)
    html = body(message, "html")

    done = re.search(r'<a [^>]*class="button"[^>]*href="[^"]+/followups/act/[^>]*>Done<', html)
    assert done and "background: #1f6f5c" in done.group(0)
    assert "<style" not in html.lower()  # nothing left for clients that strip style blocks
