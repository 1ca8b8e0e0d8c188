"""Possible duplicates and merging two contacts: what is found, what moves, who may do it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.meetings import log_meeting
from contacts.models import Contact, GainsFact, Occasion, OccasionKind, Stage, Tag, TriState
from followups.models import FollowUp
from plan.models import BusinessGoal, GoalHelper, SuggestionDismissal
from portability import duplicates
from portability import merge as merging
from portability.models import DuplicateDismissal, MergeRecord
from referrals.models import Direction, Introduction, Referral, Spend

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def person(owner, name, **fields) -> Contact:
    return Contact.objects.create(owner=owner, name=name, **fields)


def pairs(user) -> dict[tuple[str, str], list[str]]:
    """{(name, name): reasons} of the user's duplicate candidates, names in id order."""
    names = dict(Contact.objects.values_list("pk", "name"))
    return {
        (names[c.low_id], names[c.high_id]): c.reason_list
        for c in merging.find_duplicates(user, limit=None)
    }


def merge_url(a: Contact | int, b: Contact | int) -> str:
    return reverse("portability:merge", args=[getattr(a, "pk", a), getattr(b, "pk", b)])


# --- Finding duplicates --------------------------------------------------------------


def test_same_email_in_any_case_is_a_duplicate(alice):
    person(alice, "Jane Roberts", emails=["Jane@Example.COM"])
    person(alice, "J. Roberts", emails=["work@jr.test", "jane@example.com "])
    person(alice, "Someone Else", emails=["else@example.com"])

    assert pairs(alice) == {("Jane Roberts", "J. Roberts"): ["same e-mail jane@example.com"]}


def test_same_phone_written_differently_is_a_duplicate(alice):
    person(alice, "Sam Lee", phones=["(415) 555-0134"])
    person(alice, "Samuel Lee", phones=["+1 415 555 0134"])
    person(alice, "Sam's shop", phones=["415 555 0199"])

    assert pairs(alice) == {("Sam Lee", "Samuel Lee"): ["same phone +1 415-555-0134"]}


def test_phone_without_country_is_read_in_the_users_region(alice):
    alice.phone_region = "GB"
    alice.save(update_fields=["phone_region"])
    person(alice, "Priya Shah", phones=["020 7946 0018"])
    person(alice, "Priya (studio)", phones=["+44 20 7946 0018"])

    assert pairs(alice) == {("Priya Shah", "Priya (studio)"): ["same phone +44 20 7946 0018"]}


def test_similar_name_at_the_same_company_is_a_duplicate(alice):
    person(alice, "Jon Smith", company="Acme Plumbing")
    person(alice, "John Smith", company="acme plumbing")
    person(alice, "John Smith", company="Beta Bakery")  # same name, another company
    person(alice, "Jane Smith", company="Acme Plumbing")  # another person at Acme

    assert pairs(alice) == {("Jon Smith", "John Smith"): ["similar name at Acme Plumbing"]}


def test_same_name_where_one_has_no_company_is_a_duplicate(alice):
    person(alice, "Maria Lopez", company="Lopez Law")
    person(alice, "maria  lopez")

    assert pairs(alice) == {("Maria Lopez", "maria  lopez"): ["same name at Lopez Law"]}


def test_a_pair_matching_several_ways_is_listed_once_with_every_reason(alice):
    person(alice, "Ann Bell", company="Bell & Co", emails=["ann@bell.test"], phones=["4155550100"])
    person(
        alice, "Ann Bell", company="Bell & Co", emails=["ANN@bell.test"], phones=["415-555-0100"]
    )

    assert pairs(alice) == {
        ("Ann Bell", "Ann Bell"): [
            "same e-mail ann@bell.test",
            "same phone +1 415-555-0100",
            "same name at Bell & Co",
        ]
    }


def test_a_cluster_gives_one_pair_per_merge_needed(alice):
    for n in range(4):
        person(alice, f"Copy {n}", emails=["same@copy.test"])

    assert sorted(pairs(alice)) == [
        ("Copy 0", "Copy 1"),
        ("Copy 0", "Copy 2"),
        ("Copy 0", "Copy 3"),
    ]


def test_duplicates_are_never_found_across_users(alice, charlie):
    person(alice, "Jane Roberts", emails=["jane@example.com"], phones=["4155550134"])
    person(charlie, "Jane Roberts", emails=["jane@example.com"], phones=["4155550134"])

    assert merging.find_duplicates(alice) == []
    assert merging.find_duplicates(charlie) == []


def test_dismissed_pairs_are_not_offered_again(alice_client, alice):
    a = person(alice, "Jane Roberts", emails=["jane@example.com"])
    b = person(alice, "Jane R.", emails=["jane@example.com"])
    person(alice, "Jay Roberts", emails=["jane@example.com"])

    response = alice_client.post(
        reverse("portability:dismiss_duplicate"), {"a": b.pk, "b": a.pk}, follow=True
    )

    assert DuplicateDismissal.objects.filter(contact_low=a, contact_high=b, owner=alice).exists()
    assert "be offered as duplicates again" in response.content.decode()
    assert pairs(alice) == {("Jane Roberts", "Jay Roberts"): ["same e-mail jane@example.com"]}
    # Twice is harmless; over htmx the row is swapped for nothing.
    again = alice_client.post(
        reverse("portability:dismiss_duplicate"), {"a": a.pk, "b": b.pk}, HTTP_HX_REQUEST="true"
    )
    assert again.status_code == 200
    assert again.content == b""
    assert DuplicateDismissal.objects.count() == 1


def test_dismissing_needs_a_post(alice_client, alice):
    a = person(alice, "A", emails=["x@x.test"])
    b = person(alice, "B", emails=["x@x.test"])
    url = reverse("portability:dismiss_duplicate") + f"?a={a.pk}&b={b.pk}"

    assert alice_client.get(url).status_code == 405
    assert not DuplicateDismissal.objects.exists()


def test_duplicates_page_shows_pairs_side_by_side(alice_client, alice):
    a = person(alice, "Jane Roberts", company="Acme", emails=["jane@example.com"])
    b = person(alice, "Jane R.", phones=["+1 415 555 0134"], emails=["JANE@example.com"])
    log_meeting(owner=alice, occurred_at=timezone.now(), kind="coffee", attendees=[b])

    response = alice_client.get(reverse("portability:duplicates"))
    html = response.content.decode()

    assert response.status_code == 200
    for text in (
        "Jane Roberts",
        "Jane R.",
        "Acme",
        "+1 415 555 0134",
        "same e-mail jane@example.com",
    ):
        assert text in html
    assert "1 meeting<" in html and "0 meetings" in html
    assert merge_url(a, b) in html
    assert "Not duplicates" in html


def test_duplicates_page_empty_state_counts_contacts(alice_client, alice):
    person(alice, "Only One")
    person(alice, "Only Two")

    html = alice_client.get(reverse("portability:duplicates")).content.decode()

    assert "No likely duplicates among your 2 contacts" in html


def test_contact_list_links_to_duplicates(alice_client):
    html = alice_client.get(reverse("contacts:list")).content.decode()
    assert reverse("portability:duplicates") in html


# --- Merging: every related row moves --------------------------------------------------


def contact_relations() -> list:
    """Every relation pointing at a contact, found independently of portability.merge."""
    return [
        f
        for f in Contact._meta.get_fields(include_hidden=True)
        if f.many_to_many
        or (
            f.auto_created
            and not f.concrete
            and (f.one_to_many or f.one_to_one)
            and not f.related_model._meta.auto_created  # an m2m's own table
        )
    ]


def relation_name(rel) -> str:
    if rel.concrete:  # Contact's own many-to-many
        return f"contacts.contact.{rel.name}"
    return f"{rel.related_model._meta.label_lower}.{rel.field.name}"


def ids_pointing_at(rel, contact_pk: int) -> set[int]:
    if rel.concrete:
        return set(
            rel.related_model.objects.filter(contacts=contact_pk).values_list("pk", flat=True)
        )
    return set(
        rel.related_model._base_manager.filter(**{rel.field.name: contact_pk}).values_list(
            "pk", flat=True
        )
    )


FURNISHED = {
    "contacts.contact.tags",
    "contacts.meeting.attendees",
    "contacts.gainsfact.contact",
    "contacts.occasion.contact",
    "referrals.referral.partner",
    "referrals.referral.prospect_contact",
    "referrals.introduction.contact_a",
    "referrals.introduction.contact_b",
    "referrals.spend.contact",
    "followups.followup.contact",
    "portability.mergerecord.survivor",
    "portability.duplicatedismissal.contact_low",
    "portability.duplicatedismissal.contact_high",
    "plan.goalhelper.contact",
    "plan.suggestiondismissal.contact_low",
    "plan.suggestiondismissal.contact_high",
    "contacts.searchrank.contact",  # by the triggers: every contact has its copy
}


@pytest.fixture
def two(alice, bob):
    """``keep`` and ``other`` (the same person twice) and a third contact, ``other`` having
    a row in every relation to Contact."""
    now = timezone.now()
    early = person(alice, "Early Bird")
    keep = person(
        alice,
        "Jane Roberts",
        company="Acme",
        emails=["jane@acme.test"],
        phones=["(415) 555-0134"],
        stage=Stage.ACQUAINTANCE,
        cadence_days=30,
        notes="Met at the chamber breakfast.",
        last_touched_at=now - timedelta(days=20),
    )
    other = person(
        alice,
        "Jane R.",
        company="Acme Inc",
        profession="Architect",
        emails=["JANE@acme.test", "jane@home.test"],
        phones=["+1 415 555 0134", "415 555 0999"],
        stage=Stage.CONNECTION,
        cadence_days=14,
        is_expert=TriState.YES,
        notes="Loves sailing.",
        linked_user=bob,
        last_touched_at=now - timedelta(days=3),
        created_at=now - timedelta(days=400),
    )
    third = person(alice, "Tom Third")
    shared, mine = (
        Tag.objects.create(owner=alice, name="design"),
        Tag.objects.create(owner=alice, name="sailing"),
    )
    keep.tags.add(shared)
    other.tags.add(shared, mine)
    both = log_meeting(
        owner=alice, occurred_at=now - timedelta(days=30), kind="event", attendees=[keep, other]
    )
    alone = log_meeting(
        owner=alice, occurred_at=now - timedelta(days=3), kind="coffee", attendees=[other]
    )
    with_third = log_meeting(
        owner=alice, occurred_at=now - timedelta(days=10), kind="call", attendees=[other, third]
    )
    for text in ("Wants two clients a month", "Won an award"):
        GainsFact.objects.create(owner=alice, contact=other, kind="goal", text=text)
    Occasion.objects.create(owner=alice, contact=keep, kind=OccasionKind.BIRTHDAY, month=5, day=4)
    their_birthday = Occasion.objects.create(
        owner=alice, contact=other, kind=OccasionKind.BIRTHDAY, month=5, day=14, year=1980
    )
    Occasion.objects.create(
        owner=alice, contact=other, kind=OccasionKind.WORK_ANNIVERSARY, month=9, day=1
    )
    Referral.objects.create(
        owner=alice, direction=Direction.GIVEN, partner=other, prospect_name="Pat"
    )
    Referral.objects.create(
        owner=alice,
        direction=Direction.RECEIVED,
        partner=third,
        prospect_name="Jane R.",
        prospect_contact=other,
    )
    between = Introduction.objects.create(owner=alice, contact_a=keep, contact_b=other)
    Introduction.objects.create(owner=alice, contact_a=third, contact_b=other)
    Introduction.objects.create(owner=alice, contact_a=other, contact_b=third)
    Spend.objects.create(owner=alice, contact=other, amount=Decimal("120.00"))
    FollowUp.objects.create(
        owner=alice, contact=other, title="Send plans", due_on=timezone.localdate()
    )
    MergeRecord.objects.create(owner=alice, survivor=other, merged_name="J Roberts (old)")
    merging.dismiss(alice, other, third)  # other has the lower id
    merging.dismiss(alice, other, early)  # and here the higher
    goal = BusinessGoal.objects.create(owner=alice, text="Ten architects in my sphere")
    GoalHelper.objects.create(owner=alice, goal=goal, contact=other)
    low, high = sorted([other, third], key=lambda c: c.pk)
    SuggestionDismissal.objects.create(owner=alice, contact_low=low, contact_high=high)
    low, high = sorted([other, early], key=lambda c: c.pk)
    SuggestionDismissal.objects.create(owner=alice, contact_low=low, contact_high=high)
    return {
        "keep": keep,
        "other": other,
        "third": third,
        "meetings": (both, alone, with_third),
        "their_birthday": their_birthday,
        "between": between,
    }


def test_every_relation_to_contact_is_furnished_by_this_test():
    assert {relation_name(r) for r in contact_relations()} == FURNISHED, (
        "A relation to Contact was added or removed: furnish it in the `two` fixture and make "
        "sure portability.merge moves it (or settles it by name)."
    )


def test_merge_moves_every_related_row(alice, two):
    keep, other = two["keep"], two["other"]
    relations = contact_relations()
    before = {relation_name(r): ids_pointing_at(r, other.pk) for r in relations}
    already = {relation_name(r): ids_pointing_at(r, keep.pk) for r in relations}
    empty = [name for name, ids in before.items() if not ids]
    assert empty == [], f"furnish these for the merged contact: {empty}"
    dropped = {
        "contacts.occasion.contact": {two["their_birthday"].pk},
        "referrals.introduction.contact_b": {two["between"].pk},
        # Dismissals involving the merged contact mean nothing once it is gone.
        "portability.duplicatedismissal.contact_low": before[
            "portability.duplicatedismissal.contact_low"
        ],
        "portability.duplicatedismissal.contact_high": before[
            "portability.duplicatedismissal.contact_high"
        ],
        "plan.suggestiondismissal.contact_low": before["plan.suggestiondismissal.contact_low"],
        "plan.suggestiondismissal.contact_high": before["plan.suggestiondismissal.contact_high"],
        # The other's ranking copy of its document goes with it; the survivor keeps its own.
        "contacts.searchrank.contact": before["contacts.searchrank.contact"],
    }

    record = merging.merge(alice, keep, other)

    assert not Contact.objects.filter(pk=other.pk).exists()
    for rel in relations:
        name = relation_name(rel)
        gone = dropped.get(name, set())
        now = ids_pointing_at(rel, keep.pk)
        new = {record.pk} if name == "portability.mergerecord.survivor" else set()
        assert before[name] - gone <= now, f"{name}: not moved to the survivor"
        assert now <= before[name] | already[name] | new, f"{name}: rows appeared from nowhere"
        assert not rel.related_model._base_manager.filter(pk__in=gone).exists(), name
    assert record.moved == {
        "contacts.tag": 1,
        "contacts.meeting": 2,  # the one they both attended was already on the timeline
        "contacts.gainsfact": 2,
        "contacts.occasion": 1,
        "referrals.referral": 2,
        "referrals.introduction": 2,
        "referrals.spend": 1,
        "followups.followup": 1,
        "portability.mergerecord": 1,
        "plan.goalhelper": 1,
        "removed:birthday": 1,
        "removed:referrals.introduction": 1,
    }
    assert record.merged_contact_id == other.pk
    assert record.merged_name == "Jane R."
    assert merging.describe(record.moved) == (
        "2 meetings, 1 tag, 2 GAINS facts, 1 occasion, 2 referrals, 2 introductions, 1 spend, "
        "1 follow-up, 1 earlier merge, 1 place as a goal helper moved; "
        "1 birthday, 1 introduction removed"
    )
    both, alone, with_third = two["meetings"]
    assert list(both.attendees.order_by("pk")) == [keep]  # no duplicate attendee row
    assert list(alone.attendees.all()) == [keep]
    assert set(with_third.attendees.all()) == {keep, two["third"]}
    assert Occasion.objects.get(contact=keep, kind=OccasionKind.BIRTHDAY).day == 4


def test_merge_unites_and_picks_values_by_default(alice, bob, two):
    keep, other = two["keep"], two["other"]

    record = merging.merge(alice, keep, other)
    keep.refresh_from_db()

    assert keep.name == "Jane Roberts" and keep.company == "Acme"  # the survivor's
    assert keep.profession == "Architect"  # the survivor had none
    assert keep.is_expert == TriState.YES  # the survivor's was unknown
    assert keep.stage == Stage.CONNECTION  # the further along
    assert keep.cadence_days == 14  # the shorter
    assert keep.emails == ["jane@acme.test", "jane@home.test"]
    assert keep.phones == ["(415) 555-0134", "415 555 0999"]
    assert sorted(t.name for t in keep.tags.all()) == ["design", "sailing"]
    assert keep.notes == "Met at the chamber breakfast.\n\nLoves sailing."
    assert keep.linked_user == bob  # only the other had one
    assert keep.created_at == other.created_at  # known since the earlier of the two
    assert keep.last_touched_at == other.last_touched_at  # the later touch
    assert keep.touch_due_at == other.last_touched_at + timedelta(days=14)
    assert sorted(record.fields_taken) == [
        "cadence_days",
        "is_expert",
        "linked_user",
        "profession",
        "stage",
    ]


def test_merge_takes_the_values_asked_for(alice, two):
    keep, other = two["keep"], two["other"]

    record = merging.merge(
        alice,
        keep,
        other,
        take={"name": "other", "company": "other", "stage": "survivor", "birthday": "other"},
    )
    keep.refresh_from_db()

    assert (keep.name, keep.company, keep.stage) == ("Jane R.", "Acme Inc", Stage.ACQUAINTANCE)
    birthday = Occasion.objects.get(contact=keep, kind=OccasionKind.BIRTHDAY)
    assert (birthday.day, birthday.year) == (14, 1980)
    assert {"name", "company", "birthday"} <= set(record.fields_taken)
    assert "stage" not in record.fields_taken


def test_merge_refuses_unknown_fields_and_itself(alice, two):
    with pytest.raises(ValueError):
        merging.merge(alice, two["keep"], two["other"], take={"owner": "other"})
    with pytest.raises(ValueError):
        merging.merge(alice, two["keep"], two["keep"])
    assert Contact.objects.filter(pk=two["other"].pk).exists()


def test_merge_keeps_the_survivors_fellow_member_link(alice, bob, charlie, two):
    keep, other = two["keep"], two["other"]
    keep.linked_user = charlie
    keep.save()

    merging.merge(alice, keep, other)

    keep.refresh_from_db()
    assert keep.linked_user == charlie


def test_merge_can_take_the_others_fellow_member_link(alice, bob, charlie, two):
    keep, other = two["keep"], two["other"]
    keep.linked_user = charlie
    keep.save()

    merging.merge(alice, keep, other, take={"linked_user": "other"})

    keep.refresh_from_db()
    assert keep.linked_user == bob


def test_merge_of_two_archived_stays_archived_else_active(alice):
    a = person(alice, "A", is_archived=True)
    b = person(alice, "B", is_archived=True)
    c = person(alice, "C", is_archived=True)
    d = person(alice, "D")

    merging.merge(alice, a, b)
    merging.merge(alice, c, d)

    a.refresh_from_db()
    c.refresh_from_db()
    assert a.is_archived and not c.is_archived


# --- Merge pages --------------------------------------------------------------------


def test_merge_screen_shows_choices_and_what_moves(alice_client, two):
    keep, other = two["keep"], two["other"]

    response = alice_client.get(merge_url(keep, other))
    html = response.content.decode()

    assert response.status_code == 200
    assert 'name="take_name" value="survivor" checked' in html
    assert 'name="take_name" value="other"' in html
    assert 'name="take_stage" value="other" checked' in html  # the further along
    assert 'name="take_birthday"' in html
    # The same numbers the merge will record (see test_merge_moves_every_related_row).
    assert (
        "2 meetings, 1 tag, 2 GAINS facts, 1 occasion, 2 referrals, 2 introductions, 1 spend, "
        "1 follow-up, 1 earlier merge, 1 place as a goal helper." in html
    )
    assert "1 birthday (the one you don" in html
    assert "1 introduction of the two to each other" in html
    assert "jane@acme.test, jane@home.test" in html
    assert merge_url(other, keep) in html  # swap which one survives
    assert Contact.objects.filter(pk=other.pk).exists()  # a GET changes nothing


def test_posting_the_merge_screen_merges_and_shows_it_on_the_timeline(alice_client, two):
    keep, other = two["keep"], two["other"]

    response = alice_client.post(
        merge_url(keep, other), {"take_name": "other", "take_city": "bogus"}, follow=True
    )
    html = response.content.decode()

    assert response.redirect_chain[-1][0] == keep.get_absolute_url()
    assert "Jane R. is merged into Jane R. (2 meetings, 1 tag" in html
    assert "Merged with Jane R." in html  # the timeline entry
    assert "2 meetings, 1 tag, 2 GAINS facts" in html
    keep.refresh_from_db()
    assert keep.name == "Jane R."
    assert MergeRecord.objects.filter(survivor=keep, merged_contact_id=other.pk).count() == 1


def test_contact_page_timeline_lists_the_merge(alice_client, alice):
    a = person(alice, "Jane Roberts")
    b = person(alice, "Jane R.")
    log_meeting(owner=alice, occurred_at=timezone.now(), kind="coffee", attendees=[b])
    merging.merge(alice, a, b)

    html = alice_client.get(a.get_absolute_url()).content.decode()

    assert "Merged with Jane R." in html
    assert "1 meeting moved" in html


def test_a_second_post_merges_nothing_more(alice_client, alice, two):
    keep, other = two["keep"], two["other"]

    alice_client.post(merge_url(keep, other))
    response = alice_client.post(merge_url(keep, other), follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == keep.get_absolute_url()
    assert "already merged" in response.content.decode()
    assert MergeRecord.objects.filter(survivor=keep, merged_contact_id=other.pk).count() == 1


def test_merge_after_the_other_was_merged_elsewhere_is_404(alice_client, alice):
    a, b, c = person(alice, "A"), person(alice, "B"), person(alice, "C")
    merging.merge(alice, a, b)

    assert alice_client.post(merge_url(c, b)).status_code == 404
    assert alice_client.get(merge_url(a, a)).status_code == 404


def test_pick_the_contact_to_merge_with(alice_client, alice):
    a = person(alice, "Jane Roberts")
    b = person(alice, "Jane R.", company="Acme")
    pick = reverse("portability:merge_pick", args=[a.pk])

    found = alice_client.get(pick, {"q": "acme"}).content.decode()
    chosen = alice_client.get(pick, {"other": b.pk})

    assert merge_url(a, b) in found
    assert '<label for="merge-q">' in alice_client.get(pick).content.decode()
    assert chosen.status_code == 302 and chosen["Location"] == merge_url(a, b)


# --- Isolation ------------------------------------------------------------------------


@pytest.fixture
def alices_twins(alice):
    a = person(alice, "MARKER-ALICE-ONE", company="MARKER-ACME", emails=["marker@alice.test"])
    b = person(alice, "MARKER-ALICE-TWO", company="MARKER-ACME", emails=["MARKER@alice.test"])
    return a, b


@pytest.mark.parametrize("method", ["get", "post"])
def test_other_user_gets_404_merging_alices_contacts(charlie_client, charlie, alices_twins, method):
    a, b = alices_twins
    mine = person(charlie, "Charlie's own")
    send = getattr(charlie_client, method)

    for url in (
        merge_url(a, b),
        merge_url(b, a),
        merge_url(mine, a),
        merge_url(a, mine),
        reverse("portability:merge_pick", args=[a.pk]),
        reverse("portability:merge_pick", args=[mine.pk]) + f"?other={a.pk}",
    ):
        response = send(url)
        assert response.status_code in (404, 405), url
        assert response.status_code == 404 or method == "post"
    assert Contact.objects.filter(pk__in=[a.pk, b.pk]).count() == 2
    assert not MergeRecord.objects.exists()


def test_other_user_cannot_dismiss_alices_pair(charlie_client, charlie, alices_twins):
    a, b = alices_twins
    mine = person(charlie, "Charlie's own")

    for pair in ({"a": a.pk, "b": b.pk}, {"a": mine.pk, "b": a.pk}):
        assert (
            charlie_client.post(reverse("portability:dismiss_duplicate"), pair).status_code == 404
        )
    assert not DuplicateDismissal.objects.exists()


def test_other_user_never_sees_alices_duplicates(charlie_client, charlie, alices_twins):
    person(charlie, "Charlie One", emails=["c@c.test"])
    person(charlie, "Charlie Two", emails=["c@c.test"])
    charlie_pick = reverse("portability:merge_pick", args=[person(charlie, "Three").pk])

    for url in (reverse("portability:duplicates"), charlie_pick + "?q=acme"):
        html = charlie_client.get(url).content.decode()
        assert "MARKER" not in html and "marker@" not in html


def test_anonymous_is_sent_to_log_in(client, alices_twins):
    a, b = alices_twins
    for url in (reverse("portability:duplicates"), merge_url(a, b)):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Query counts -----------------------------------------------------------------------

# Session, user, contacts for the pairs, the trigram join, dismissals, contacts with
# meeting counts, the contact count, messages... measured with the small network.
MAX_DUPLICATES_QUERIES = 9


def build_network(owner, pairs_count: int, singles: int) -> None:
    contacts = []
    for n in range(pairs_count):
        contacts.append(
            Contact(owner=owner, name=f"Twin {n}", company=f"Firm {n}", emails=[f"t{n}@x.test"])
        )
        contacts.append(
            Contact(owner=owner, name=f"Twin {n}", company=f"firm {n}", emails=[f"T{n}@x.test"])
        )
    contacts += [
        Contact(owner=owner, name=f"Single {n}", company=f"Solo {n}", phones=[f"415555{n:04d}"])
        for n in range(singles)
    ]
    Contact.objects.bulk_create(contacts)
    duplicates.refresh(owner.pk, [c.pk for c in contacts])  # bulk_create sends no signals
    twins = list(Contact.objects.filter(owner=owner, name__startswith="Twin"))
    log_meeting(owner=owner, occurred_at=timezone.now(), kind="event", attendees=twins)


@pytest.mark.parametrize(("pairs_count", "singles"), [(2, 3), (40, 300)])
def test_duplicates_page_query_count_is_fixed(
    alice_client, alice, django_assert_max_num_queries, pairs_count, singles
):
    build_network(alice, pairs_count, singles)
    url = reverse("portability:duplicates")
    alice_client.get(url)

    with django_assert_max_num_queries(MAX_DUPLICATES_QUERIES):
        response = alice_client.get(url)

    html = response.content.decode()
    assert html.count("Review and merge") == pairs_count
    assert f"Twin {pairs_count - 1}" in html


# --- The embedded default (SQLite) -----------------------------------------------------

SQLITE_SCRIPT = """
from accounts.models import User
from contacts.models import Contact
from portability.merge import find_duplicates, merge
u = User.objects.create_user(email="s@example.com", password="x-very-long-pass")
a = Contact.objects.create(owner=u, name="Jane Roberts", company="Acme", emails=["J@x.test"])
b = Contact.objects.create(owner=u, name="jane roberts", company="ACME")
c = Contact.objects.create(owner=u, name="Jon Roberts", company="Acme")
d = Contact.objects.create(owner=u, name="Dee", emails=["j@x.test"])
print(sorted((x.low_id, x.high_id, tuple(x.reason_list)) for x in find_duplicates(u)))
merge(u, a, d)
print(Contact.objects.filter(owner=u).count())
"""


def test_the_embedded_sqlite_default_finds_exact_names_and_merges(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
    }
    env.update(DJANGO_SETTINGS_MODULE="referralcrm.settings", DEBUG="1", DATA_DIR=str(tmp_path))
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=180
    )
    out = subprocess.run(
        [*manage, "shell", "-v", "0", "-c", SQLITE_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-2:] == [
        "[(1, 2, ('same name at Acme',)), (1, 4, ('same e-mail j@x.test',))]",
        "3",
    ]
