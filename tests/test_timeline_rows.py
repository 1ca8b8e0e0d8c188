"""The contact timeline's entries rendered in Python are the markup of their templates, for
every kind and every branch: attendees before and after the contact, texts that need
escaping, notes over several lines, money or none, done and pending follow-ups."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.urls import reverse
from django.utils import timezone

from contacts import timeline
from contacts.models import Contact, Meeting
from followups.models import FollowUp
from referrals.models import Direction, Introduction, Referral, Spend, Status

pytestmark = pytest.mark.django_db

EVIL = '<b>"Evil" & co\'s</b>'


@pytest.fixture
def life(alice):
    """A contact with an entry of every kind and branch on their timeline."""
    dana = Contact.objects.create(owner=alice, name=f"Sam {EVIL}")  # "dana": the timeline's
    ed = Contact.objects.create(owner=alice, name="Ed Early")
    zed = Contact.objects.create(owner=alice, name="Zed Zulu")
    now = timezone.now()
    alone = Meeting.objects.create(owner=alice, occurred_at=now - timedelta(days=1))
    alone.attendees.set([dana])
    # Attendees are listed by name: Sam between Ed and Zed here; last in the next one, where
    # the template leaves a comma after the one before him.
    between = Meeting.objects.create(owner=alice, occurred_at=now - timedelta(days=2))
    between.attendees.set([ed, zed, dana])
    crowd = Meeting.objects.create(
        owner=alice,
        occurred_at=datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC")),  # a DST morning
        kind="event",
        place=f"The Pier {EVIL}",
        notes=f"Line one {EVIL}\nLine two\n\nLine four",
    )
    crowd.attendees.set([ed, dana])
    first = Meeting.objects.create(owner=alice, occurred_at=now - timedelta(days=3), place="Cafe")
    first.attendees.set([dana, ed])
    today = timezone.localdate()
    Referral.objects.create(
        owner=alice, direction=Direction.GIVEN, partner=dana, prospect_name=f"P {EVIL}"
    )
    Referral.objects.create(
        owner=alice,
        direction=Direction.RECEIVED,
        partner=dana,
        prospect_name="Won one",
        status=Status.WON,
        value=Decimal("1234.5"),
        currency="EUR",
        closed_on=today,
    )
    Introduction.objects.create(owner=alice, contact_a=dana, contact_b=ed, reason_a=EVIL)
    Introduction.objects.create(owner=alice, contact_a=zed, contact_b=dana)
    Spend.objects.create(owner=alice, contact=dana, amount=Decimal("42"), description=EVIL)
    Spend.objects.create(owner=alice, contact=dana, amount=Decimal("7.5"), currency="GBP")
    FollowUp.objects.create(owner=alice, contact=dana, title=f"Call {EVIL}", due_on=today)
    FollowUp.objects.create(
        owner=alice, contact=dana, title="Done one", due_on=today - timedelta(days=9), status="done"
    )
    return dana


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Kolkata"])
def test_every_entry_rendered_in_python_is_its_templates_markup(life, zone):
    with timezone.override(zone):
        entries = timeline.entries_for(life)
        kinds = {e.kind for e in entries}
        assert kinds == {"meeting", "referral", "introduction", "spend", "followup"}
        for entry in entries:
            assert entry.render is not None and entry.html, entry.kind
            expected = render_to_string(entry.template, {"obj": entry.obj, "contact": life})
            assert parse_html(entry.html) == parse_html(expected), (entry.kind, entry.html)


def test_the_contact_page_shows_the_entries_escaped(client, alice, life):
    client.force_login(alice)
    body = client.get(reverse("contacts:detail", args=[life.pk])).content.decode()
    assert "Line one &lt;b&gt;" in body and "<br>Line two" in body
    assert "Dana <b>" not in body
    assert "Ed Early</a>, </small>" in body  # the template's comma, kept
    assert "Ed Early</a>, <a" in body and "Zed Zulu</a></small>" in body
    assert "☐ Call &lt;b&gt;" in body and "✓ <s>Done one</s>" in body
    spend = Spend.objects.get(contact=life, currency="GBP")
    assert f"<strong>Spent {html.escape(spend.amount_display)}</strong>" in body
