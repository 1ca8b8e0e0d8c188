"""The duplicates page reads pairs kept current on write (portability.duplicates): every
way a contact changes keeps them right, and the page reads one page of an index without
looking at the rest of the network."""

from __future__ import annotations

import io
import json
import random
import threading
import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from contacts.models import Contact
from portability import archive as archives
from portability import duplicates, merge
from portability import merge as merging
from portability.models import ContactKey, DuplicatePair, DuplicateReason

pytestmark = pytest.mark.django_db


def person(owner, name, **fields) -> Contact:
    return Contact.objects.create(owner=owner, name=name, **fields)


def pairs(user) -> dict[tuple[str, str], list[str]]:
    names = dict(Contact.objects.values_list("pk", "name"))
    return {
        (names[c.low_id], names[c.high_id]): c.reason_list
        for c in merging.find_duplicates(user, limit=None)
    }


def rebuilt(user) -> list[tuple]:
    """The user's pairs recomputed from nothing, to compare with the ones kept on write."""
    for model in (ContactKey, DuplicateReason, DuplicatePair):
        model.objects.filter(owner=user).delete()
    duplicates.refresh_all(user.pk)
    return snapshot(user)


def snapshot(user) -> list[tuple]:
    return [
        (c.low_id, c.high_id, c.score, tuple(c.reason_list))
        for c in merging.find_duplicates(user, limit=None)
    ]


# --- Kept current on every write ----------------------------------------------------------


def test_editing_an_email_finds_and_forgets_the_pair(alice):
    jane = person(alice, "Jane Roberts", emails=["jane@example.com"])
    other = person(alice, "J. R.", emails=["someone@else.test"])
    assert pairs(alice) == {}

    other.emails = ["JANE@example.com"]
    other.save()
    assert pairs(alice) == {("Jane Roberts", "J. R."): ["same e-mail jane@example.com"]}

    jane.emails = []
    jane.save(update_fields=["emails"])
    assert pairs(alice) == {}


def test_saving_other_fields_rewrites_nothing(alice, django_assert_max_num_queries):
    jane = person(alice, "Jane Roberts", emails=["jane@example.com"], phones=["4155550134"])
    jane.notes = "Loves sailing."

    with django_assert_max_num_queries(3):  # the update, the keys read back, nothing else
        jane.save()
    with django_assert_max_num_queries(1):
        jane.save(update_fields=["notes"])


def test_deleting_the_oldest_of_a_cluster_pairs_the_rest(alice):
    first = person(alice, "Copy 0", emails=["same@copy.test"])
    person(alice, "Copy 1", emails=["same@copy.test"])
    person(alice, "Copy 2", emails=["same@copy.test"])
    assert sorted(pairs(alice)) == [("Copy 0", "Copy 1"), ("Copy 0", "Copy 2")]

    first.delete()

    assert pairs(alice) == {("Copy 1", "Copy 2"): ["same e-mail same@copy.test"]}
    assert not ContactKey.objects.filter(contact_id=first.pk).exists()


def test_a_queryset_delete_is_followed_too(alice):
    person(alice, "A", phones=["4155550100"])
    b = person(alice, "B", phones=["(415) 555-0100"])
    person(alice, "C", phones=["415 555 0100"])

    Contact.objects.filter(pk=b.pk).delete()

    assert pairs(alice) == {("A", "C"): ["same phone +1 415-555-0100"]}


def test_changing_the_company_changes_the_similar_name_rule(alice):
    person(alice, "Jon Smith", company="Acme Plumbing")
    john = person(alice, "John Smith", company="Beta Bakery")
    assert pairs(alice) == {}

    john.company = "ACME plumbing"
    john.save()
    assert pairs(alice) == {("Jon Smith", "John Smith"): ["similar name at Acme Plumbing"]}

    john.company = "Beta Bakery"
    john.save()
    assert pairs(alice) == {}


def test_a_new_phone_region_rereads_local_numbers(alice):
    person(alice, "Priya Shah", phones=["020 7946 0018"])
    person(alice, "Priya (studio)", phones=["+44 20 7946 0018"])
    assert pairs(alice) == {}  # read as a US number, 020... is not the London one

    alice.phone_region = "GB"
    alice.save()

    assert pairs(alice) == {("Priya Shah", "Priya (studio)"): ["same phone +44 20 7946 0018"]}


def test_merging_leaves_no_pair_behind(alice):
    a = person(alice, "Ann Bell", emails=["ann@bell.test"])
    b = person(alice, "Ann B.", emails=["ANN@bell.test"], phones=["4155550100"])
    c = person(alice, "Bell shop", phones=["415-555-0100"])
    assert len(pairs(alice)) == 2

    merge.merge(alice, a, b)

    # Ann now has the shop's phone: the pair moved to her, nothing points at b.
    assert pairs(alice) == {("Ann Bell", "Bell shop"): ["same phone +1 415-555-0100"]}
    assert not DuplicatePair.objects.filter(contact_high=b.pk).exists()
    assert not DuplicateReason.objects.filter(contact_low=b.pk).exists()
    assert c.pk in {p.high_id for p in merging.find_duplicates(alice)}


def test_an_import_keys_the_contacts_it_writes_in_bulk(alice, tmp_path):
    person(alice, "Jane Roe", emails=["jane@roe.test"])
    person(alice, "Roe office", phones=["(415) 555-0101"])
    person(alice, "Maria Lopez", company="Lopez Law")
    path = tmp_path / "cards.vcf"
    path.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:J. Roe\nEMAIL:JANE@roe.test\nTEL:+1 415 555 0101\n"
        "END:VCARD\nBEGIN:VCARD\nVERSION:3.0\nFN:maria lopez\nEND:VCARD\n"
    )

    call_command("import_contacts", "--user", alice.email, str(path), stdout=io.StringIO())

    # J. Roe is merged into Jane (same e-mail) and brings the office's phone; maria lopez
    # comes in as a new contact, without a company.
    assert pairs(alice) == {
        ("Jane Roe", "Roe office"): ["same phone +1 415-555-0101"],
        ("Maria Lopez", "maria lopez"): ["same name at Lopez Law"],
    }


def test_an_archive_restore_keys_the_contacts(bob):
    when = "2024-01-01T09:00:00+00:00"
    archive = {
        "format": "referral-crm-archive",
        "version": 1,
        "contacts": [
            {"id": 1, "name": "Sam Lee", "phones": ["(415) 555-0134"], "created_at": when},
            {"id": 2, "name": "Samuel Lee", "phones": ["+1 415 555 0134"], "created_at": when},
        ],
    }

    archives.restore(bob, json.dumps(archive).encode())

    assert pairs(bob) == {("Sam Lee", "Samuel Lee"): ["same phone +1 415-555-0134"]}


def test_seed_demo_keys_what_it_writes_in_bulk(db):
    options = ["--users", "1", "--contacts", "60", "--meetings", "30", "--seed", "3"]
    groups = ["--groups", "1", "--group-size", "5"]  # fellow members become contacts too
    call_command("seed_demo", *options, *groups, stdout=io.StringIO())
    user = Contact.objects.filter(owner__email="user1@example.com").first().owner

    kept = snapshot(user)

    unkeyed = Contact.objects.exclude(pk__in=ContactKey.objects.values("contact_id"))
    assert Contact.objects.count() > 60 and not unkeyed.exists()
    assert kept == rebuilt(user)


def test_many_writes_keep_what_a_rebuild_would_find(alice):
    """Creates, edits, deletes and merges in a random order: the pairs kept on write are
    the pairs a rebuild from nothing finds."""
    rng = random.Random(12)
    emails = [f"p{n}@x.test" for n in range(5)]
    phones = ["4155550100", "(415) 555-0101", "+1 415 555 0102", "020 7946 0018"]
    names = ["Jon Smith", "John Smith", "Jane Roberts", "Jane Robert", "Ann Bell"]
    companies = ["", "Acme", "acme ", "Beta"]

    def fields():
        return {
            "name": rng.choice(names),
            "company": rng.choice(companies),
            "emails": rng.sample(emails, rng.randint(0, 2)),
            "phones": rng.sample(phones, rng.randint(0, 2)),
        }

    for _ in range(60):
        contacts = list(Contact.objects.filter(owner=alice))
        action = rng.random()
        if action < 0.45 or len(contacts) < 3:
            person(alice, **fields())
        elif action < 0.75:
            contact = rng.choice(contacts)
            for key, value in fields().items():
                setattr(contact, key, value)
            contact.save()
        elif action < 0.9:
            rng.choice(contacts).delete()
        else:
            survivor, other = rng.sample(contacts, 2)
            merge.merge(alice, survivor, other)

    kept = snapshot(alice)
    assert len(kept) > 5
    assert kept == rebuilt(alice)


@pytest.mark.django_db(transaction=True)
def test_two_requests_adding_the_same_email_at_once_are_paired(alice):
    """The second writer waits for the first (an advisory lock per owner), so it sees the
    first one's key; without the lock each would miss the other."""
    first_written = threading.Event()

    def first():
        try:
            with transaction.atomic():
                person(alice, "First", emails=["same@x.test"])
                first_written.set()
                time.sleep(0.5)  # still uncommitted while the second writes
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_written.wait(10)
    person(alice, "Second", emails=["same@x.test"])
    thread.join()

    assert pairs(alice) == {("First", "Second"): ["same e-mail same@x.test"]}


# --- The page reads one page of pairs ---------------------------------------------------


def twins(owner, n: int) -> None:
    """n pairs sharing an e-mail, written in bulk and keyed as the bulk paths do."""
    contacts = Contact.objects.bulk_create(
        Contact(owner=owner, name=f"Twin {i} {side}", emails=[f"t{i}@x.test"])
        for i in range(n)
        for side in "ab"
    )
    duplicates.refresh(owner.pk, [c.pk for c in contacts])


def test_the_page_parses_no_phone_number_and_reads_no_contact_beyond_its_pairs(alice_client, alice):
    twins(alice, 70)
    url = reverse("portability:duplicates")

    with (
        mock.patch.object(merge, "phone_key", side_effect=AssertionError("parsed")),
        mock.patch.object(duplicates, "keys_of", side_effect=AssertionError("keyed")),
    ):
        html = alice_client.get(url).content.decode()

    assert html.count("Review and merge") == 50
    assert 'rel="next"' in html and "Page 1" in html


def test_pages_go_through_every_pair_once(alice_client, alice):
    twins(alice, 70)
    url = reverse("portability:duplicates")

    first = alice_client.get(url).content.decode()
    second = alice_client.get(url, {"page": 2}).content.decode()
    beyond = alice_client.get(url, {"page": 3}).content.decode()

    assert first.count("Review and merge") + second.count("Review and merge") == 70
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "No more pairs here" in beyond


def test_the_pairs_query_reads_only_one_page_of_the_index(alice):
    twins(alice, 300)
    query = merging.DuplicatePair.objects.for_user(alice).order_by(
        "-score", "contact_low", "contact_high"
    )[:51]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE portability_duplicatepair")

    plan = json.loads(query.explain(format="json", analyze=True))[0]["Plan"]

    def scans(node):
        yield node
        for child in node.get("Plans", []):
            yield from scans(child)

    index_scans = [n for n in scans(plan) if n.get("Index Name") == "duplicate_pair_page_idx"]
    assert index_scans and all(n["Actual Rows"] <= 51 for n in index_scans)


def test_the_page_escapes_what_the_user_typed(alice_client, alice):
    person(alice, "<b>Ann</b>", emails=["a@x.test"], company="<i>Co</i>")
    person(alice, "Ann & co", emails=["A@x.test"], phones=["<script>"])

    html = alice_client.get(reverse("portability:duplicates")).content.decode()

    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "<b>Ann</b>" not in html
    assert "&lt;i&gt;Co&lt;/i&gt;" in html and "<script>" not in html
    assert "Ann &amp; co" in html
