"""The contact counters (contacts.counters) stay equal to a fresh count through every
kind of write, and the list and dashboard read them instead of counting the network."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from contacts import counters
from contacts.models import Contact, GainsFact, GainsKind, Stage, Tag
from portability import merge as merging
from referralcrm.paging import COUNT_CAP

pytestmark = pytest.mark.django_db


def test_counters_follow_creates_edits_archives_deletes_and_bulk_writes(alice, bob):
    rng = random.Random(5)
    tags = [Tag.objects.create(owner=alice, name=f"t{i}") for i in range(3)]
    contacts = [
        Contact.objects.create(owner=alice, name=f"C{i}", stage=rng.choice(Stage.values))
        for i in range(12)
    ]
    contacts += Contact.objects.bulk_create(  # the importer's and restore's path
        [Contact(owner=alice, name=f"B{i}", stage=Stage.CONNECTION) for i in range(30)]
    )
    Contact.objects.create(owner=bob, name="Bob's", stage=Stage.CONNECTION)
    for contact in contacts[:20]:
        contact.tags.add(*rng.sample(tags, rng.randint(0, 3)))
    for _ in range(40):
        contact = rng.choice(contacts)
        action = rng.choice(["stage", "archive", "unarchive", "tags", "rename"])
        if action == "stage":
            contact.stage = rng.choice(Stage.values)
            contact.save()
        elif action == "archive":
            contact.archive()
        elif action == "unarchive":
            contact.unarchive()
        elif action == "tags":
            contact.tags.set(rng.sample(tags, rng.randint(0, 3)))
        else:
            Contact.objects.filter(pk=contact.pk).update(name=contact.name + "!")
    Contact.objects.filter(owner=alice, name__startswith="B1").update(stage=Stage.ACQUAINTANCE)
    Contact.objects.filter(owner=alice, name__startswith="B2").delete()
    tags[0].contacts.clear()
    assert counters.verify(alice) == []
    assert counters.verify(bob) == []
    active = Contact.objects.filter(owner=alice, is_archived=False)
    assert counters.contact_count(alice) == active.count()
    assert counters.contact_count(alice, archived=True) == (
        Contact.objects.filter(owner=alice, is_archived=True).count()
    )
    assert (
        counters.contact_count(alice, archived=None) == Contact.objects.filter(owner=alice).count()
    )
    assert (
        counters.stage_counts(alice)[Stage.CONNECTION]
        == active.filter(stage=Stage.CONNECTION).count()
    )


def test_counters_follow_a_merge_and_a_deleted_user(alice, bob):
    a = Contact.objects.create(owner=alice, name="Ann Lee", emails=["ann@example.com"])
    b = Contact.objects.create(owner=alice, name="Ann Lee", emails=["ANN@example.com"])
    tag = Tag.objects.create(owner=alice, name="chapter")
    b.tags.add(tag)
    merging.merge(alice, a, b)
    assert counters.verify(alice) == []
    assert counters.contact_count(alice) == 1
    tag.refresh_from_db()
    assert tag.contact_count == 1
    Contact.objects.create(owner=bob, name="Someone")
    bob.delete()  # the counters go with the user, and nothing blocks the delete
    assert not counters.ContactTally.objects.filter(owner_id=bob.pk).exists()


def test_the_list_says_how_many_from_the_counters_and_caps_filtered_counts(
    alice_client, alice, django_assert_max_num_queries
):
    Contact.objects.bulk_create(
        [Contact(owner=alice, name=f"Person {i:04}") for i in range(COUNT_CAP + 5)]
    )
    html = alice_client.get(reverse("contacts:list")).content.decode()
    assert f"{COUNT_CAP + 5} contacts" in html and "narrow" not in html
    # A search reads every match anyway (to rank or sort them), so its count is exact, in
    # best match and in another sort; a tag's list without words caps it.
    html = alice_client.get(reverse("contacts:list"), {"q": "Person"}).content.decode()
    assert f"{COUNT_CAP + 5} contacts" in html and "narrow" not in html
    html = alice_client.get(reverse("contacts:list"), {"q": "Person", "sort": "name"})
    html = html.content.decode()
    assert f"{COUNT_CAP + 5} contacts" in html and "narrow" not in html
    html = alice_client.get(reverse("contacts:list"), {"q": "Person 000"}).content.decode()
    assert "10 contacts" in html and "narrow" not in html


def test_the_list_does_not_count_the_network(alice_client, alice):
    """No COUNT(*) over the user's contacts on the unfiltered list: the total is read from
    the counters."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Contact.objects.bulk_create([Contact(owner=alice, name=f"P{i}") for i in range(30)])
    with CaptureQueriesContext(connection) as ctx:
        html = alice_client.get(reverse("contacts:list")).content.decode()
    assert "30 contacts" in html
    counting = [
        q["sql"]
        for q in ctx.captured_queries
        if "COUNT(" in q["sql"].upper() and 'contacts_contact"' in q["sql"]
    ]
    assert counting == []


def test_only_tags_in_use_are_offered_as_filters(alice_client, alice):
    used = Tag.objects.create(owner=alice, name="used-tag")
    Tag.objects.create(owner=alice, name="unused-tag")
    Contact.objects.create(owner=alice, name="Ann").tags.add(used)
    html = alice_client.get(reverse("contacts:list")).content.decode()
    assert '<option value="used-tag"' in html
    assert '<option value="unused-tag"' not in html


def test_a_sorted_search_counts_with_its_ids_and_explains_the_page_only(alice_client, alice):
    """A search page in another order than best match (or with a filter): one query reads the
    page's ids with the count as a window over the matches (no COUNT query), the next reads
    those contacts, and the GAINS reason is worked out for the page's rows only, not for
    every match counted or skipped."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    people = Contact.objects.bulk_create([Contact(owner=alice, name=f"P{i:02}") for i in range(60)])
    GainsFact.objects.bulk_create(
        [
            GainsFact(owner=alice, contact=p, kind=GainsKind.INTEREST, text="Kitesurf")
            for p in people
        ]
    )
    with CaptureQueriesContext(connection) as ctx:
        response = alice_client.get(
            reverse("contacts:list"), {"q": "kite", "sort": "name", "page": 2}
        )
    html = response.content.decode()
    assert "60 contacts" in html and html.count("Kitesurf</mark>") == 25
    assert "P25" in html and "P24" not in html
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()[:40]]
    [ids] = [q["sql"] for q in ctx.captured_queries if "contacts_searchrank" in q["sql"]]
    assert "OVER ()" in ids and "contacts_gainsfact" not in ids
    [rows] = [
        q["sql"]
        for q in ctx.captured_queries
        if "contacts_gainsfact" in q["sql"] and "contacts_contact" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + rows)
        plan = cursor.fetchone()[0][0]["Plan"]

    def subplan_loops(node) -> list[int]:
        own = [node["Actual Loops"]] if node.get("Subplan Name", "").startswith("SubPlan") else []
        return own + [n for child in node.get("Plans", []) for n in subplan_loops(child)]

    assert subplan_loops(plan) == [25]
