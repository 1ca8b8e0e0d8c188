"""The ledger rows rendered by referrals/rows.py: what each kind of referral offers, links,
escaping, and the same row in the ledger, the dashboard and the htmx answer."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from groups import slips
from referrals import rows
from referrals.models import Referral
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db

EVIL = "<script>x</script>"


def row_of(html: str, referral) -> str:
    match = re.search(rf'<tr id="referral-{referral.pk}">(.*?)</tr>', html, re.S)
    assert match, f"no row for referral {referral.pk}"
    return match.group(1)


@pytest.fixture
def susan(alice):
    return Contact.objects.create(owner=alice, name=f"Susan {EVIL}")


def make(alice, partner, **fields):
    return Referral.objects.create(
        owner=alice, direction="received", partner=partner, prospect_name=f"Pat {EVIL}", **fields
    )


def test_each_status_offers_its_next_step(alice, susan):
    today = timezone.localdate()
    passed = make(alice, susan)
    held = make(alice, susan, status="meeting_held")
    owed = make(alice, susan, status="won", closed_on=today, value=Decimal("1200"))
    thanked = make(
        alice, susan, status="won", closed_on=today, value=Decimal("5"), thanks_sent_on=today
    )
    html = str(rows.render([passed, held, owed, thanked], "TOKEN"))

    first = row_of(html, passed)
    assert f'action="{reverse("referrals:advance", args=[passed.pk])}"' in first
    assert "→ Contacted" in first and "Close" in first
    assert first.count('name="csrfmiddlewaretoken" value="TOKEN"') == 1
    assert "→ Contacted" not in row_of(html, held) and "Close" in row_of(html, held)
    assert f'action="{reverse("referrals:thanks", args=[owed.pk])}"' in row_of(html, owed)
    assert "$1,200.00" in row_of(html, owed) or "1,200" in row_of(html, owed)
    assert "thanked ✓" in row_of(html, thanked) and "<form" not in row_of(html, thanked)
    # Names and prospects are escaped; the partner links to their contact page.
    assert EVIL not in html and "Susan &lt;script&gt;" in first
    assert f'href="{reverse("contacts:detail", args=[susan.pk])}"' in first
    assert f'href="{reverse("referrals:detail", args=[passed.pk])}"' in first


def test_a_slip_row_opens_the_slip_and_a_deleted_partner_keeps_the_name(alice, bob):
    chapter = build_group(members=[alice, bob])
    slip = slips.give(
        giver=chapter.m["alice"], receiver=chapter.m["bob"], by=alice, prospect_name="Slippy"
    )
    [mine] = Referral.objects.filter(owner=alice, slip=slip)
    orphan = Referral.objects.create(
        owner=alice, direction="given", partner=None, partner_name="Gone Person", prospect_name="X"
    )
    html = str(rows.render([mine, orphan], "T"))

    slip_row = row_of(html, mine)
    assert "group slip" in slip_row and "Open slip" in slip_row and "<form" not in slip_row
    assert f'href="{reverse("groups:slip", args=[slip.pk])}"' in slip_row
    assert '<span class="muted">Gone Person (deleted)</span>' in row_of(html, orphan)


def test_ledger_dashboard_and_htmx_answer_draw_the_same_row(alice, alice_client, susan):
    referral = make(alice, susan)
    ledger = alice_client.get(reverse("referrals:ledger")).content.decode()
    dashboard = alice_client.get(reverse("dashboard")).content.decode()
    answer = alice_client.post(
        reverse("referrals:advance", args=[referral.pk]), HTTP_HX_REQUEST="true"
    )

    def unmasked(row: str) -> str:  # each response masks the CSRF token its own way
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", row)

    assert unmasked(row_of(ledger, referral)) == unmasked(row_of(dashboard, referral))
    assert answer.status_code == 200 and answer["HX-Trigger"] == "referralChanged"
    moved = row_of(answer.content.decode(), referral)
    assert "Contacted" in moved and "→ Meeting held" in moved
