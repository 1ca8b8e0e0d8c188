"""The roster on a group's page (rows rendered by groups/roster.py): what each member's row
offers the viewer, escaped, and a page's cost that does not grow with the group."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from contacts.models import Contact
from groups import slips
from groups.models import Membership, MembershipStatus
from tests.conftest import make_user
from tests.groups_fixtures import build_group

pytestmark = pytest.mark.django_db

EVIL = "<script>alert(1)</script>"


def row(html: str, membership) -> str:
    match = re.search(rf'<li id="member-{membership.pk}">(.*?)</li>', html, re.S)
    assert match, f"no row for member {membership.pk}"
    return match.group(1)


@pytest.fixture
def chapter(alice, bob, charlie):
    chapter = build_group(members=[alice, bob, charlie])
    bob.business_name = f"Bob & Co {EVIL}"
    bob.goals = f"Ten new clients {EVIL}"
    bob.save()
    Membership.objects.filter(pk=chapter.m["bob"].pk).update(shared_gains=["goals"])
    Membership.objects.filter(pk=chapter.m["charlie"].pk).update(status=MembershipStatus.ON_LEAVE)
    return chapter


def test_each_row_offers_what_the_viewer_can_do_with_that_member(alice, alice_client, chapter):
    bobs_contact = Contact.objects.create(
        owner=alice, name="Bob", linked_user=chapter.m["bob"].user
    )
    group = chapter.group

    html = alice_client.get(reverse("groups:detail", args=[group.pk])).content.decode()

    mine = row(html, chapter.m["alice"])
    assert '<small class="muted">You</small>' in mine
    assert "Give a slip" not in mine and "<form" not in mine

    bob = row(html, chapter.m["bob"])
    assert f'href="{reverse("groups:slip_create")}?to={chapter.m["bob"].pk}"' in bob
    action = reverse("groups:member_contact", args=[group.pk, chapter.m["bob"].pk])
    assert f'<form method="post" action="{action}"' in bob
    assert 'name="then" value="log"' in bob
    assert f'href="{reverse("contacts:detail", args=[bobs_contact.pk])}"' in bob
    assert "In my contacts" in bob and "Add to my contacts" not in bob
    assert bob.count('name="csrfmiddlewaretoken"') == 1
    # What the member typed is escaped, and the goals they share are shown.
    assert EVIL not in html
    assert "Bob &amp; Co &lt;script&gt;" in bob
    assert "<dt>Goals</dt><dd>Ten new clients &lt;script&gt;alert(1)&lt;/script&gt;</dd>" in bob

    charlie = row(html, chapter.m["charlie"])
    assert '<span class="badge badge-warn">On leave</span>' in charlie
    assert "Give a slip" not in charlie  # on leave: no new slips
    assert "Add to my contacts" in charlie and charlie.count('name="csrfmiddlewaretoken"') == 2
    assert "shared-gains" not in charlie  # shares nothing

    organiser = row(html, chapter.org_membership)
    assert '<span class="badge">Organiser</span>' in organiser
    assert '<span class="badge">Accountant</span>' in organiser


def test_the_rows_post_to_working_actions(alice, alice_client, chapter):
    html = alice_client.get(reverse("groups:detail", args=[chapter.group.pk])).content.decode()
    action = re.search(r'<form method="post" action="([^"]+)"', row(html, chapter.m["charlie"]))[1]

    response = alice_client.post(action)

    contact = Contact.objects.get(owner=alice, linked_user=chapter.m["charlie"].user)
    assert response.status_code == 302 and response["Location"] == contact.get_absolute_url()


@pytest.mark.parametrize("size", [3, 40])
def test_the_page_runs_a_fixed_number_of_queries(
    alice, alice_client, chapter, size, django_assert_max_num_queries
):
    for i in range(size):
        user = make_user(f"member{i}@example.com", display_name=f"Member {i}")
        member = Membership.objects.create(group=chapter.group, user=user, seat=f"Seat {i}")
        if i % 2:
            Contact.objects.create(owner=alice, name=f"Member {i}", linked_user=user)
        # "My slips" lists up to ten, given and received, each naming the other member.
        giver, receiver = (chapter.m["alice"], member) if i % 2 else (member, chapter.m["alice"])
        slips.give(giver=giver, receiver=receiver, by=giver.user, prospect_name=f"P{i}")
    with django_assert_max_num_queries(12):
        response = alice_client.get(reverse("groups:detail", args=[chapter.group.pk]))
    assert response.content.decode().count('<li id="member-') == size + 4
