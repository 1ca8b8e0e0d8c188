"""The contact list's cards rendered in Python (contacts/cards.py) are the markup of the
template they replaced (contacts/_card.html), in every branch: stalled or not, archived,
met or never met, profession and company alone or together, a search reason with its
marks, tags that need escaping and encoding, and none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.urls import reverse
from django.utils import timezone

from contacts import cards, search
from contacts.models import Contact, GainsFact, GainsKind, Stage, Tag

pytestmark = pytest.mark.django_db

EVIL = '<b>"Evil" & co\'s</b>'


@pytest.fixture
def people(alice):
    now = timezone.now()
    tags = [Tag.objects.create(owner=alice, name=name) for name in ("golf", f"a&b {EVIL}", "ü/ß ?")]
    stalled = Contact.objects.create(
        owner=alice,
        name=f"Sam {EVIL}",
        company=f"Firm {EVIL}",
        profession="Golf coach",
        stage=Stage.CONNECTION,
        last_touched_at=now - timedelta(days=40, hours=3),
    )
    stalled.tags.set(tags)
    Contact.objects.filter(pk=stalled.pk).update(strength=87, touch_due_at=now - timedelta(days=10))
    archived = Contact.objects.create(
        owner=alice,
        name="Ann Archived",
        company="Only a company",
        is_archived=True,
        last_touched_at=now - timedelta(minutes=5),
    )
    # Overdue, but archived: not stalled.
    Contact.objects.filter(pk=archived.pk).update(touch_due_at=now - timedelta(days=10))
    fresh = Contact.objects.create(owner=alice, name="Nina Never", profession="Only a job")
    fresh.tags.set(tags[2:])
    GainsFact.objects.create(
        owner=alice, contact=fresh, kind=GainsKind.INTEREST, text=f"Golfing {EVIL} with golfers"
    )
    return [stalled, archived, fresh]


def _loaded(alice, q: str = ""):
    contacts = Contact.objects.for_user(alice).order_by("name")
    if q:
        contacts = search.with_reasons(contacts, q)
    loaded = list(contacts)
    for contact in loaded:
        contact.reason = search.reason(getattr(contact, "search_reason", None), q)
    return loaded


def _as_the_template(contacts) -> str:
    return "".join(render_to_string("contacts/_card.html", {"contact": c}) for c in contacts)


@pytest.mark.parametrize("q", ["", "golf", "never"])
def test_each_card_is_the_templates_markup(alice, people, q):
    contacts = _loaded(alice, q)
    assert len(contacts) == 3
    rendered = str(cards.render(contacts))
    assert parse_html(f"<ul>{rendered}</ul>") == parse_html(
        f"<ul>{_as_the_template(contacts)}</ul>"
    )
    assert EVIL not in rendered


def test_the_cards_show_what_the_list_needs(alice, people):
    contacts = _loaded(alice, "golf")
    rendered = str(cards.render(contacts))
    fresh = people[2]
    assert rendered.count('class="badge badge-warn">stalled<') == 1  # Sam only
    assert f'href="{reverse("contacts:detail", args=[fresh.pk])}"' in rendered
    assert "<mark>Golfing</mark> &lt;b&gt;" in rendered and "<mark>golfers</mark>" in rendered
    assert 'href="?tag=a%26b%20%3Cb%3E%22Evil%22%20%26%20co%27s%3C/b%3E"' in rendered
    assert "never met" in rendered and "touched 1\xa0month" in rendered
    assert "strength </span>87<" in rendered


def test_the_list_page_shows_the_cards(alice_client, people):
    html = alice_client.get(reverse("contacts:list"), {"q": "golf"}).content.decode()
    assert html.count('<a class="badge badge-muted" href="?tag=golf">#golf</a>') == 1
    assert '<p class="search-reason"><small>Interest: <mark>Golfing</mark>' in html
