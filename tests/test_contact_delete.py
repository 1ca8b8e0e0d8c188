"""Deleting a contact says everything that goes with it, and offers archiving instead."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, GainsFact, Occasion
from followups.models import FollowUp
from referrals.models import Introduction, Referral, Spend

pytestmark = pytest.mark.django_db


def test_the_confirmation_counts_every_row_that_goes_with_the_contact(alice_client, alice):
    susan = Contact.objects.create(owner=alice, name="Susan Planner")
    other = Contact.objects.create(owner=alice, name="Raj Realtor")
    GainsFact.objects.create(owner=alice, contact=susan, kind="goal", text="Second office")
    Occasion.objects.create(owner=alice, contact=susan, kind="birthday", month=4, day=15)
    for prospect in ("Pat", "Lee"):
        Referral.objects.create(
            owner=alice, direction="given", partner=susan, prospect_name=prospect
        )
    Introduction.objects.create(owner=alice, contact_a=susan, contact_b=other)
    Spend.objects.create(owner=alice, contact=susan, amount=Decimal("20.00"))
    FollowUp.objects.create(owner=alice, contact=susan, title="Call", due_on=timezone.localdate())

    page = alice_client.get(reverse("contacts:delete", args=[susan.pk])).content.decode()

    for item in (
        "1 GAINS fact",
        "1 occasion",
        "1 introduction",
        "1 spend",
        "1 follow-up",
    ):
        assert f"<li>{item}</li>" in page, item
    assert "Archive instead" in page
    assert Contact.objects.filter(pk=susan.pk).exists()  # GET deletes nothing

    assert "2 referrals with them stay in your ledger" in page

    alice_client.post(reverse("contacts:delete", args=[susan.pk]))
    # The referrals stay, with her name (tests/test_referral_partner_deleted.py).
    assert list(Referral.objects.filter(owner=alice).values_list("partner", "partner_name")) == [
        (None, "Susan Planner"),
        (None, "Susan Planner"),
    ]
    assert not Spend.objects.filter(owner=alice).exists()
    assert Contact.objects.filter(pk=other.pk).exists()
