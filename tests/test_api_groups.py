"""Groups through the API, as a member sees them: my groups, the roster (shared GAINS parts
only) and my slips with their audit trail. A non-member gets 404; another member's private
ledger notes and unshared profile never appear; lists run a fixed number of queries.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import ApiToken
from groups.models import GroupMeeting, Membership, MembershipStatus, Slip
from referrals.models import Referral
from tests.conftest import make_user
from tests.groups_fixtures import build_group, furnish

pytestmark = pytest.mark.django_db

API = "/api/v1"
UNSHARED = "zq9-alice-unshared-goal"
SHARED = "Plumbing and heating skills"
ALICE_NOTE = "zq9-alice-private-note"


def auth(user, scope: str = "read") -> dict:
    _, plaintext = ApiToken.issue(user, name="test", scope=scope)
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


@pytest.fixture
def chapter(alice, bob):
    """Alice and bob in one group with a life (meetings, slips both ways); alice shares her
    skills but not her goals, and keeps a private note on each of her slips."""
    alice.goals, alice.skills = UNSHARED, SHARED
    alice.save()
    chapter = build_group(members=[alice, bob])
    chapter.m["alice"].shared_gains = ["skills"]
    chapter.m["alice"].save()
    chapter.life = furnish(chapter, "Api")
    Referral.objects.filter(owner=alice, slip__isnull=False).update(notes=ALICE_NOTE)
    GroupMeeting.objects.create(
        group=chapter.group, on=timezone.localdate() + timedelta(days=3), place="Api Hall"
    )
    return chapter


def test_anonymous_gets_401(client, chapter):
    for url in (
        f"{API}/groups/",
        f"{API}/groups/{chapter.group.pk}/",
        f"{API}/groups/{chapter.group.pk}/roster/",
        f"{API}/slips/",
        f"{API}/slips/{chapter.life.slip.pk}/",
    ):
        assert client.get(url).status_code == 401, url


def test_member_sees_their_groups(client, bob, chapter):
    response = client.get(f"{API}/groups/", **auth(bob))
    assert response.status_code == 200
    [group] = response.json()["results"]
    assert group["id"] == chapter.group.pk
    assert group["name"] == chapter.group.name
    assert (group["my_role"], group["my_status"]) == ("member", "active")
    assert group["my_seat"] == "Seat of bob"
    assert group["next_meeting"]["on"] == timezone.localdate().isoformat()
    detail = client.get(f"{API}/groups/{chapter.group.pk}/", **auth(bob)).json()
    assert detail == group


def test_a_member_who_left_no_longer_sees_the_group(client, bob, chapter):
    chapter.m["bob"].leave()
    headers = auth(bob)
    assert client.get(f"{API}/groups/", **headers).json()["results"] == []
    assert client.get(f"{API}/groups/{chapter.group.pk}/", **headers).status_code == 404
    assert client.get(f"{API}/groups/{chapter.group.pk}/roster/", **headers).status_code == 404


def test_roster_shows_seats_and_shared_gains_only(client, alice, bob, chapter):
    response = client.get(f"{API}/groups/{chapter.group.pk}/roster/", **auth(bob))
    assert response.status_code == 200
    members = {m["name"]: m for m in response.json()["results"]}
    assert set(members) == {"Alice Owner", "Bob Member", f"Org {chapter.group.name}"}
    alice_row = members["Alice Owner"]
    assert alice_row["seat"] == "Seat of alice"
    assert alice_row["shared_gains"] == [{"part": "skills", "label": "Skills", "text": SHARED}]
    assert alice_row["is_me"] is False
    assert members["Bob Member"]["is_me"] is True
    # furnish() made slips between them, so each has the other as a linked contact.
    assert alice_row["my_contact"] == bob.contacts.get(linked_user=alice).pk
    body = response.content.decode()
    assert UNSHARED not in body
    assert ALICE_NOTE not in body
    assert "alice@example.com" not in body


def test_roster_leaves_out_members_who_left(client, alice, bob, chapter):
    chapter.m["alice"].status = MembershipStatus.LEFT
    chapter.m["alice"].save()
    response = client.get(f"{API}/groups/{chapter.group.pk}/roster/", **auth(bob))
    assert "Alice Owner" not in {m["name"] for m in response.json()["results"]}


def test_non_member_gets_404(client, charlie, chapter):
    headers = auth(charlie)
    assert client.get(f"{API}/groups/", **headers).json()["results"] == []
    for url in (
        f"{API}/groups/{chapter.group.pk}/",
        f"{API}/groups/{chapter.group.pk}/roster/",
        f"{API}/slips/{chapter.life.slip.pk}/",
        f"{API}/groups/abc/",
        f"{API}/slips/99999999999999999999999/",
    ):
        response = client.get(url, **headers)
        assert response.status_code == 404, url
        assert "Api Prospect" not in response.content.decode()
    assert client.get(f"{API}/slips/", **headers).json()["results"] == []


def test_member_sees_their_slips_with_the_trail_but_not_the_other_sides_notes(
    client, alice, bob, chapter
):
    Referral.objects.filter(owner=bob, slip__isnull=False).update(notes="Bob's own note")
    response = client.get(f"{API}/slips/", **auth(bob))
    assert response.status_code == 200
    slips = {s["prospect_name"]: s for s in response.json()["results"]}
    assert set(slips) == {"Api Prospect", "Api Winner"}
    received = slips["Api Prospect"]
    assert received["direction"] == "received"
    assert received["giver"]["name"] == "Alice Owner"
    assert received["my_notes"] == "Bob's own note"
    assert received["my_referral"] == Referral.objects.get(owner=bob, slip_id=received["id"]).pk
    won = slips["Api Winner"]
    assert (won["direction"], won["status"], won["value"]) == ("given", "won", "1234.00")
    assert [c["field"] for c in won["changes"]] == ["created", "status", "closed_on", "value"]
    assert won["changes"][1]["changed_by"] == "Alice Owner"
    body = response.content.decode()
    assert ALICE_NOTE not in body
    assert UNSHARED not in body
    detail = client.get(f"{API}/slips/{received['id']}/", **auth(bob))
    assert detail.status_code == 200
    assert ALICE_NOTE not in detail.content.decode()


def test_slip_filters(client, bob, chapter):
    headers = auth(bob)

    def names(query):
        response = client.get(f"{API}/slips/?{query}", **headers)
        assert response.status_code == 200, response.content
        return {s["prospect_name"] for s in response.json()["results"]}

    assert names("direction=received") == {"Api Prospect"}
    assert names("direction=given") == {"Api Winner"}
    assert names("status=open") == {"Api Prospect"}
    assert names("status=won") == {"Api Winner"}
    assert names(f"group={chapter.group.pk}") == {"Api Prospect", "Api Winner"}
    assert names(f"group={chapter.group.pk + 1000}") == set()
    Slip.objects.filter(pk=chapter.life.won.pk).update(
        updated_at=timezone.now() - timedelta(days=9)
    )
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert names(f"updated_since={since}") == {"Api Prospect"}
    bad = client.get(f"{API}/slips/?direction=up&group=x", **headers)
    assert bad.status_code == 400
    assert set(bad.json()) == {"direction", "group"}


def test_groups_are_read_only(client, bob, chapter):
    headers = auth(bob, scope="write")
    assert client.post(f"{API}/groups/", {}, **headers).status_code == 405
    url = f"{API}/slips/{chapter.life.slip.pk}/"
    response = client.patch(url, {"status": "won"}, content_type="application/json", **headers)
    assert response.status_code == 405
    assert Slip.objects.get(pk=chapter.life.slip.pk).status == "passed"


# --- Query counts -------------------------------------------------------------------------------


def _grow(chapter, members: int) -> None:
    """More members (each sharing a GAINS part) and slips between them."""
    from groups import slips

    for i in range(members):
        user = make_user(f"extra{i}@example.com", display_name=f"Extra {i}", skills=f"S{i}")
        membership = Membership.objects.create(
            group=chapter.group, user=user, seat=f"Seat {i}", shared_gains=["skills"]
        )
        slips.give(
            giver=chapter.m["bob"], receiver=membership, by=chapter.m["bob"].user, prospect_name="X"
        )
        slips.give(giver=membership, receiver=chapter.m["bob"], by=user, prospect_name=f"Y{i}")
        GroupMeeting.objects.create(
            group=chapter.group, on=timezone.localdate() + timedelta(days=10 + i)
        )


# Token look-up, then the list and its related look-ups: the same at any size.
MAX_QUERIES = {"groups": 3, "roster": 4, "slips": 4}


@pytest.mark.parametrize("extra", [0, 25])
@pytest.mark.parametrize("name", ["groups", "roster", "slips"])
def test_group_lists_run_a_fixed_number_of_queries(
    client, bob, chapter, django_assert_max_num_queries, extra, name
):
    _grow(chapter, extra)
    for i in range(extra // 5):
        other = build_group(f"Other {i}", members=[bob])
        GroupMeeting.objects.create(group=other.group, on=timezone.localdate())
    url = {
        "groups": f"{API}/groups/",
        "roster": f"{API}/groups/{chapter.group.pk}/roster/",
        "slips": f"{API}/slips/",
    }[name]
    headers = auth(bob)
    client.get(url, **headers)  # the token's last_used_at is written once
    with django_assert_max_num_queries(MAX_QUERIES[name]):
        response = client.get(url, **headers)
    assert response.status_code == 200
    assert response.json()["results"]
