"""Contact search: one indexed query over each contact's search document (PostgreSQL).

The document (name, company, profession, city, tags and GAINS facts) is kept current by
triggers in the same transaction as the write, whatever the path; every test below runs
inside the test's transaction, so a search that sees a change saw it before any commit.
"""

from __future__ import annotations

import html as htmllib
import io
import re

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import search
from contacts.meetings import FactInput, log_meeting
from contacts.models import Contact, GainsFact, GainsKind, MeetingKind, Stage, Tag
from portability import archive
from portability import merge as merging
from portability.exports import archive_chunks
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

MARKER = "Zqxmarker"  # planted in charlie's data; never in alice's results


def found(owner, q: str) -> list[str]:
    """Names ``search(q)`` finds among ``owner``'s contacts, best match first.

    Each time, the list's ranking copy of the documents (``contacts_searchrank``) must find
    the same contacts in the same order, active and archived, both ways the list reads it
    (the best-match page, and the keyed matches under a filter or another sort): every
    write path that the tests below take keeps both current."""
    contacts = Contact.objects.for_user(owner)
    for archived in (False, True):
        subset = contacts.filter(is_archived=archived)
        expected = [c.pk for c in search.ranked(subset, q)]
        ranked = search.ranked_ids(subset, owner.pk, archived, q, 10_000, 0) or ([], 0)
        assert ranked == (expected, len(expected)), (q, archived)
        keyed = search.ranked(subset, q, owner_id=owner.pk, archived=archived)
        assert [c.pk for c in keyed] == expected, (q, archived)
        for stage in Stage.values:  # the copy's stage, as the list's stage filter reads it
            staged = subset.filter(stage=stage)
            keyed = search.ranked(staged, q, owner_id=owner.pk, archived=archived, stage=stage)
            assert [c.pk for c in keyed] == [c.pk for c in search.ranked(staged, q)], stage
        for tag in Tag.objects.for_user(owner).values_list("name", flat=True):
            tagged = subset.filter(tags__name__iexact=tag)
            keyed = search.ranked(tagged, q, owner_id=owner.pk, archived=archived, tag=tag.upper())
            assert [c.pk for c in keyed] == [c.pk for c in search.ranked(tagged, q)], tag
    # Both flags at once (the API's archived=all, the merge page's picker).
    both = search.keyed_matching(contacts, q, owner.pk, archived=None)
    assert sorted(c.pk for c in both) == sorted(c.pk for c in contacts.search(q)), q
    return [c.name for c in search.ranked(contacts, q)]


def with_fact(owner, name: str, kind: GainsKind, text: str) -> Contact:
    """A new contact of ``owner`` with one GAINS fact."""
    contact = Contact.objects.create(owner=owner, name=name)
    GainsFact.objects.create(owner=owner, contact=contact, kind=kind, text=text)
    return contact


def listed(response) -> list[str]:
    page = response.content.decode()
    names = re.findall(r'<a href="/contacts/\d+/"><strong>(.*?)</strong></a>', page)
    return [htmllib.unescape(n) for n in names]


def reasons(response) -> list[str]:
    """The reason lines of the list, HTML as sent."""
    page = response.content.decode()
    return re.findall(r'<p class="search-reason"><small>(.*?)</small></p>', page, re.DOTALL)


@pytest.fixture
def network(alice):
    annabel = Contact.objects.create(
        owner=alice,
        name="Annabel Lee",
        company="Harbour Events",
        profession="Wedding planner",
        city="Bristol",
    )
    annabel.tags.add(Tag.objects.create(owner=alice, name="chapter"))
    raj = Contact.objects.create(
        owner=alice, name="Raj Patel", company="Patel Homes", profession="Realtor", city="Leeds"
    )
    GainsFact.objects.create(
        owner=alice, contact=raj, kind=GainsKind.GOAL, text="Wants to meet a wedding planner"
    )
    GainsFact.objects.create(
        owner=alice, contact=raj, kind=GainsKind.INTEREST, text="Races yachts at regattas"
    )
    mia = Contact.objects.create(owner=alice, name="Mia Chen", company="Fit Studio")
    return {"annabel": annabel, "raj": raj, "mia": mia}


# --- What it finds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("ann", ["Annabel Lee"], id="name-prefix"),
        pytest.param("ANNABEL lee", ["Annabel Lee"], id="every-word-any-case"),
        pytest.param("harbour", ["Annabel Lee"], id="company"),
        pytest.param("realt", ["Raj Patel"], id="profession"),
        pytest.param("leeds", ["Raj Patel"], id="city"),
        pytest.param("#chapter", ["Annabel Lee"], id="tag"),
        pytest.param("regattas", ["Raj Patel"], id="gains-word"),
        pytest.param("raj yachts", ["Raj Patel"], id="name-and-gains"),
        pytest.param("nobody", [], id="nothing"),
        pytest.param("&|!():*'\\", [], id="tsquery-operators-are-not-operators"),
    ],
)
def test_search_finds_by_any_part_of_the_document(alice, network, q, expected):
    assert found(alice, q) == expected


def test_accents_do_not_matter(alice):
    Contact.objects.create(owner=alice, name="José Müller")
    assert found(alice, "jose muller") == ["José Müller"]
    assert found(alice, "Müll") == ["José Müller"]


def test_a_typo_finds_the_name_spelled_alike(alice_client, network):
    response = alice_client.get(reverse("contacts:list"), {"q": "Anabel"})
    assert listed(response) == ["Annabel Lee"]
    assert "these are spelled alike" in response.content.decode()


def test_the_list_search_still_finds_nothing_for_nonsense(alice_client, network):
    response = alice_client.get(reverse("contacts:list"), {"q": "qqqzzz"})
    assert listed(response) == []
    assert "No contacts match." in response.content.decode()


# --- Ranking and the reason ---------------------------------------------------------------


def test_a_name_match_ranks_before_a_gains_match(alice_client, network):
    # "wedding" is Wendy's name (A), Annabel's profession (B) and a GAINS fact of Raj's (D).
    alice = network["raj"].owner
    Contact.objects.create(owner=alice, name="Wendy Wedding")
    response = alice_client.get(reverse("contacts:list"), {"q": "wedding"})
    assert listed(response) == ["Wendy Wedding", "Annabel Lee", "Raj Patel"]


@pytest.mark.parametrize("best", ["name", "company", "city"])
def test_one_mention_in_a_weightier_part_outranks_many_in_gains(alice_client, alice, best):
    # Kite is in Gus's GAINS six times; once in the other's name, company or city.
    gus = Contact.objects.create(owner=alice, name="Gus Many")
    GainsFact.objects.bulk_create(
        GainsFact(owner=alice, contact=gus, kind=kind, text=f"Kite surfing, kite {i}")
        for i, kind in enumerate(list(GainsKind) * 2)
        if i < 6
    )
    fields = {"name": "Kit Kiteley"} if best == "name" else {"name": "Zed One", best: "Kiteworks"}
    one = Contact.objects.create(owner=alice, **fields)
    # The best-match page, and (a filter picked) the ranked queryset.
    for params in ({"q": "kite"}, {"q": "kite", "stage": one.stage}):
        response = alice_client.get(reverse("contacts:list"), params)
        assert listed(response) == [one.name, "Gus Many"]
    assert [c.name for c in search.ranked(Contact.objects.for_user(alice), "kite")] == [
        one.name,
        "Gus Many",
    ]


def test_a_gains_word_counts_once_however_often_it_is_mentioned(alice_client, alice):
    # Bea's GAINS say golf three times, Abe's once: the same rank, so the name decides.
    bea = Contact.objects.create(owner=alice, name="Bea Often")
    abe = Contact.objects.create(owner=alice, name="Abe Once")
    GainsFact.objects.create(
        owner=alice, contact=bea, kind=GainsKind.INTEREST, text="Golf, golf and more golf"
    )
    GainsFact.objects.create(owner=alice, contact=abe, kind=GainsKind.INTEREST, text="Golf")
    assert found(alice, "golf") == ["Abe Once", "Bea Often"]
    response = alice_client.get(reverse("contacts:list"), {"q": "golf"})
    assert listed(response) == ["Abe Once", "Bea Often"]


# --- Stop words in GAINS text ------------------------------------------------------------


@pytest.fixture
def sailor(alice):
    zed = Contact.objects.create(owner=alice, name="Zed Marlow", company="Will & Andrews")
    GainsFact.objects.create(
        owner=alice, contact=zed, kind=GainsKind.INTEREST, text="Loves the sea and sailing"
    )
    return zed


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # "and" and "the" of a GAINS sentence are not searched: "an" and "th" find nobody.
        pytest.param("an", ["Zed Marlow"], id="stop-word-prefix-finds-the-company-only"),
        pytest.param("th", [], id="stop-word-in-gains-only"),
        pytest.param("sail", ["Zed Marlow"], id="gains-word"),
        # A stop word typed among other words is dropped from the query.
        pytest.param("the sailing", ["Zed Marlow"], id="stop-word-dropped"),
        pytest.param("zed and sea", ["Zed Marlow"], id="stop-word-between-words"),
        # Names, companies, professions, tags and cities keep every word.
        pytest.param("will", ["Zed Marlow"], id="stop-word-in-company"),
    ],
)
def test_stop_words_are_not_searched_in_gains_text(alice, sailor, q, expected):
    assert found(alice, q) == expected


def test_an_and_in_gains_text_does_not_match_an_an_prefix(alice):
    bo = with_fact(alice, "Bo Filler", GainsKind.GOAL, "Grow and hire")
    assert found(alice, "an") == []
    GainsFact.objects.create(
        owner=alice, contact=bo, kind=GainsKind.SKILL, text="Animal photography"
    )
    assert found(alice, "an") == ["Bo Filler"]


def test_a_stop_word_in_the_reason_is_not_marked(alice_client, alice):
    with_fact(alice, "Mia Chen", GainsKind.INTEREST, "Animal shelters and annual galas")
    response = alice_client.get(reverse("contacts:list"), {"q": "an"})
    assert reasons(response) == [
        "Interest: <mark>Animal</mark> shelters and <mark>annual</mark> galas"
    ]


def test_a_search_reads_only_its_owners_entries_of_the_index(alice, charlie):
    """The ranking copy's words are keyed by owner: another user's matches are not even
    read (a GIN key per owner and word), let alone fetched and filtered out."""
    Contact.objects.create(owner=alice, name="Kit Alone")
    for i in range(5):
        Contact.objects.create(owner=charlie, name=f"Kite {i}", company="Kiteworks")
    Contact.objects.create(owner=alice, name="Kit Archived", is_archived=True)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + search.RANKED_PAGE,
            [alice.pk, False, ["kit"], alice.pk, False, 25, 0],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "contact_search_rank_idx" in plan, plan
    assert re.search(r"Bitmap Index Scan on contact_search_rank_idx \(actual rows=1 ", plan), plan
    assert "Removed by Filter" not in plan, plan
    assert search.ranked_ids(Contact.objects.all(), alice.pk, False, "kit", 25, 0) == (
        [Contact.objects.get(name="Kit Alone").pk],
        1,
    )


def test_keyed_words_keep_quotes_backslashes_positions_and_weights(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contacts_search_keyed(%s::tsvector, '7~')::text,"
            " contacts_search_owner_query(7, true, ARRAY['Café', 'x'])::text",
            ["'it''s':1A 'a\\\\b':2B,5C 'plain'"],
        )
        keyed, query = cursor.fetchone()
    assert keyed == "'7~a\\\\b':2B,5C '7~it''s':1A '7~plain'"
    assert query == "'7a~cafe':* & '7a~x':*"


def test_the_stop_words_are_postgresqls_english_list(db):
    """``search.STOP_WORDS`` (dropped from queries, not marked in reasons) is the list the
    GAINS configuration drops: PostgreSQL's english.stop, read from the server."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'")
        [sharedir] = cursor.fetchone()
        cursor.execute("SELECT pg_read_file(%s)", [f"{sharedir}/tsearch_data/english.stop"])
        server_list = set(cursor.fetchone()[0].split())
        cursor.execute(
            "SELECT to_tsvector('contacts_search_gains', %s)::text",
            [" ".join(sorted(search.STOP_WORDS)) + " golf"],
        )
        parsed = cursor.fetchone()[0]
    assert server_list == search.STOP_WORDS
    assert parsed == "'golf':128"


def test_an_explicit_sort_wins_over_relevance(alice_client, network):
    alice = network["raj"].owner
    Contact.objects.create(owner=alice, name="Wendy Wedding")
    response = alice_client.get(reverse("contacts:list"), {"q": "wedding", "sort": "name"})
    assert listed(response) == ["Annabel Lee", "Raj Patel", "Wendy Wedding"]
    assert '<option value="name" selected>' in response.content.decode()


def test_the_matching_gains_fact_is_shown_as_the_reason(alice_client, network):
    response = alice_client.get(reverse("contacts:list"), {"q": "wedding plan"})
    assert listed(response) == ["Annabel Lee", "Raj Patel"]
    # Annabel's profession (shown on her card) has both words: no reason under her name.
    assert reasons(response) == ["Goal: Wants to meet a <mark>wedding</mark> <mark>planner</mark>"]


def test_the_reason_escapes_the_fact(alice_client, alice):
    with_fact(alice, "Mia Chen", GainsKind.SKILL, "<script>alert(1)</script> sailing")
    response = alice_client.get(reverse("contacts:list"), {"q": "sailing"})
    assert reasons(response) == [
        "Skill: &lt;script&gt;alert(1)&lt;/script&gt; <mark>sailing</mark>"
    ]
    assert "<script>alert" not in response.content.decode()


def test_the_reason_needs_no_query_per_row(alice_client, alice):
    """One query ranks and counts the matches on the ranking copy; one reads the page's
    contacts with their reasons, whatever the page's size."""
    for i in range(30):
        person = Contact.objects.create(owner=alice, name=f"Person {i:02}")
        GainsFact.objects.create(
            owner=alice, contact=person, kind=GainsKind.INTEREST, text=f"Sailing {i}"
        )
    url = reverse("contacts:list") + "?q=sailing"
    alice_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.get(url)
    assert len(reasons(response)) == 25
    assert len([q for q in queries if "contacts_searchrank" in q["sql"]]) == 1
    on_contacts = [q["sql"] for q in queries if '"contacts_contact"' in q["sql"]]
    assert len([sql for sql in on_contacts if "search_vector" in sql]) == 1
    assert not [q for q in queries if q["sql"].lstrip().startswith('SELECT "contacts_gainsfact"')]


# --- Kept current in the same transaction ---------------------------------------------------


def test_a_renamed_contact_is_found_by_its_new_name(alice, network):
    with transaction.atomic():
        mia = network["mia"]
        mia.name = "Miriam Chen"
        mia.save()
        assert found(alice, "miriam") == ["Miriam Chen"]
        assert found(alice, "mia") == []


def test_gains_facts_added_edited_and_deleted(alice, network):
    mia = network["mia"]
    with transaction.atomic():
        fact = GainsFact.objects.create(
            owner=alice, contact=mia, kind=GainsKind.INTEREST, text="Keen sourdough baker"
        )
        assert found(alice, "sourdough") == ["Mia Chen"]
        fact.text = "Keen marathon runner"
        fact.save()
        assert found(alice, "sourdough") == []
        assert found(alice, "marathon") == ["Mia Chen"]
        fact.delete()
        assert found(alice, "marathon") == []


def test_facts_logged_with_a_meeting_are_found(alice, network):
    log_meeting(
        owner=alice,
        occurred_at=network["mia"].created_at,
        kind=MeetingKind.COFFEE,
        attendees=[network["mia"], network["raj"]],
        facts=[FactInput(kind=GainsKind.NETWORK, text="Knows the harbourmaster")],
    )
    assert found(alice, "harbourmaster") == ["Mia Chen", "Raj Patel"]


def test_tags_added_removed_and_renamed(alice, network):
    mia = network["mia"]
    with transaction.atomic():
        tag = Tag.objects.create(owner=alice, name="pilates")
        mia.tags.add(tag)
        assert found(alice, "pilates") == ["Mia Chen"]
        tag.name = "yoga"
        tag.save()
        assert found(alice, "pilates") == []
        assert found(alice, "yoga") == ["Mia Chen"]
        mia.tags.remove(tag)
        assert found(alice, "yoga") == []


def test_a_deleted_tag_leaves_the_document(alice, network):
    Tag.objects.get(owner=alice, name="chapter").delete()
    assert found(alice, "chapter") == []


def test_bulk_updates_refresh_the_document(alice, network):
    Contact.objects.filter(pk=network["mia"].pk).update(company="Pilates Loft")
    GainsFact.objects.filter(contact=network["raj"]).update(text="Collects vinyl")
    assert found(alice, "pilates") == ["Mia Chen"]
    assert found(alice, "vinyl") == ["Raj Patel"]
    assert found(alice, "regattas") == []


VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Oona Imported\r\nORG:Lighthouse Realty\r\n"
    "CATEGORIES:Prospects,Harbourside\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Piet Imported\r\nTITLE:Sailmaker\r\nEND:VCARD\r\n"
)


def test_imported_contacts_are_found_by_name_company_and_tag(alice, tmp_path):
    path = tmp_path / "phone.vcf"
    path.write_text(VCARD)
    call_command("import_contacts", "--user", alice.email, str(path), stdout=io.StringIO())
    assert found(alice, "imported") == ["Oona Imported", "Piet Imported"]
    assert found(alice, "lighthouse") == ["Oona Imported"]
    assert found(alice, "harbourside") == ["Oona Imported"]
    assert found(alice, "sailmaker") == ["Piet Imported"]


def test_bulk_created_contacts_and_facts_are_found(alice):
    people = Contact.objects.bulk_create(
        [Contact(owner=alice, name=f"Bulk {i}", city="Oslo") for i in range(3)]
    )
    GainsFact.objects.bulk_create(
        [GainsFact(owner=alice, contact=p, kind=GainsKind.SKILL, text="Knots") for p in people]
    )
    assert found(alice, "oslo knots") == ["Bulk 0", "Bulk 1", "Bulk 2"]


def test_a_merge_moves_the_others_facts_and_tags_into_the_survivors_document(alice, network):
    twin = Contact.objects.create(owner=alice, name="R. Patel")
    twin.tags.add(Tag.objects.create(owner=alice, name="golfers"))
    GainsFact.objects.create(
        owner=alice, contact=twin, kind=GainsKind.INTEREST, text="Plays croquet"
    )
    merging.merge(alice, network["raj"], twin)
    assert found(alice, "croquet") == ["Raj Patel"]
    assert found(alice, "golfers") == ["Raj Patel"]


def test_a_restored_archive_is_searchable(alice, network):
    data = "".join(archive_chunks(alice)).encode()
    dana = make_user("dana@example.com")
    archive.restore(dana, data)
    assert found(dana, "regattas") == ["Raj Patel"]
    assert found(dana, "chapter") == ["Annabel Lee"]


def test_seed_demo_contacts_are_searchable(db):
    call_command("seed_demo", users=1, contacts=20, meetings=30, seed=3, stdout=io.StringIO())
    fact = GainsFact.objects.select_related("contact").order_by("pk").first()
    word = max(re.findall(r"[^\W\d_]+", fact.text), key=len)
    assert fact.contact.name in found(fact.owner, word)


# --- Privacy ------------------------------------------------------------------------------


def test_another_users_matching_contacts_never_appear(alice_client, alice, charlie, network):
    marked = Contact.objects.create(owner=charlie, name=f"{MARKER} Person", company="Harbour")
    marked.tags.add(Tag.objects.create(owner=charlie, name=MARKER))
    GainsFact.objects.create(
        owner=charlie, contact=marked, kind=GainsKind.GOAL, text=f"{MARKER} wedding regattas"
    )
    for q in [MARKER, "harbour", "wedding", "regattas", "Zqxmarkr"]:
        for url in [
            reverse("contacts:list") + f"?q={q}",
            reverse("contacts:list") + f"?q={q}&sort=name",
            reverse("contacts:list") + f"?q={q}&stage=contact",
            reverse("contacts:list") + f"?q={q}&tag={MARKER}",
            reverse("contacts:typeahead") + f"?q={q}",
        ]:
            page = alice_client.get(url).content.decode()
            assert f"{MARKER} Person" not in page  # (what was typed is echoed back)
            assert f"/{marked.pk}/" not in page
    assert found(charlie, "wedding") == [f"{MARKER} Person"]


def test_the_document_holds_only_the_owners_own_facts_and_tags(alice, charlie, network):
    """Even a row pointing at alice's contact from charlie's data stays out of it."""
    raj = network["raj"]
    GainsFact.objects.create(owner=charlie, contact=raj, kind=GainsKind.GOAL, text=MARKER)
    raj.tags.add(Tag.objects.create(owner=charlie, name=f"{MARKER}tag"))
    assert found(alice, MARKER) == []
    assert found(alice, f"{MARKER}tag") == []
    # Nor is it ever the reason shown, when the contact matches by the owner's own fact.
    GainsFact.objects.create(owner=charlie, contact=raj, kind=GainsKind.GOAL, text="Regattas!")
    [shown] = search.ranked(Contact.objects.for_user(alice), "regattas")
    assert shown.search_reason == {"kind": "interest", "text": "Races yachts at regattas"}


# --- Typeahead ----------------------------------------------------------------------------


def test_typeahead_finds_by_word_start_and_typo(alice_client, network):
    def suggested(q):
        page = alice_client.get(reverse("contacts:typeahead"), {"q": q}).content.decode()
        return [p for p in ("Annabel Lee", "Raj Patel", "Mia Chen") if p in page]

    assert suggested("ann") == ["Annabel Lee"]
    assert suggested("patel h") == ["Raj Patel"]
    assert suggested("Anabel") == ["Annabel Lee"]
    assert suggested("regattas") == []  # GAINS facts are for the list, not the picker


# --- It is one indexed query ---------------------------------------------------------------


def _plan_of_query(client, url: str, marker: str) -> str:
    """EXPLAIN of the query a page ran whose SQL contains ``marker``."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    [sql] = [
        q["sql"]
        for q in queries
        if marker in q["sql"] and "LIMIT" in q["sql"] and not q["sql"].startswith("SELECT COUNT")
    ]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_searches_read_the_gin_indexes(alice_client, alice, bob):
    Contact.objects.bulk_create(
        [Contact(owner=alice, name=f"Person {i}", company="Acme") for i in range(3000)]
        + [Contact(owner=bob, name=f"Other {i}", company="Acme") for i in range(3000)]
    )
    Contact.objects.create(owner=alice, name="Quentin Rare")
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk insert: merge the GIN indexes' pending lists.
        cursor.execute("SELECT gin_clean_pending_list('contact_search_vector_idx')")
        cursor.execute("SELECT gin_clean_pending_list('contact_search_text_idx')")
        cursor.execute("SELECT gin_clean_pending_list('contact_search_rank_idx')")
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("ANALYZE contacts_searchrank")

    # Best match: ranked on the narrow copy. Another sort or a filter: the contacts found by
    # the copy's keyed words too (only the owner's index entries), then read by id.
    url = reverse("contacts:list") + "?q=quentin"
    plan = _plan_of_query(alice_client, url, "FROM contacts_searchrank r")
    assert "contact_search_rank_idx" in plan, plan
    for query in ("?q=quentin&sort=name", "?q=quentin&stage=contact"):
        plan = _plan_of_query(alice_client, reverse("contacts:list") + query, "searchrank r")
        assert "contact_search_rank_idx" in plan, plan
        assert "contact_search_vector_idx" not in plan, plan
    # Elsewhere (no owner given) the contacts' own document and index.
    with connection.cursor() as cursor:
        sql, params = Contact.objects.for_user(alice).search("quentin").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        assert "contact_search_vector_idx" in "\n".join(row[0] for row in cursor.fetchall())
    url = reverse("contacts:typeahead") + "?q=quentin"
    assert "contact_search_text_idx" in _plan_of_query(alice_client, url, "search_text LIKE")


@pytest.mark.parametrize("size", [3, 40])
def test_query_counts_stay_flat(alice_client, alice, django_assert_max_num_queries, size):
    for i in range(size):
        person = Contact.objects.create(owner=alice, name=f"Sailor {i:02}")
        person.tags.add(Tag.objects.get_or_create(owner=alice, name="crew")[0])
        GainsFact.objects.create(
            owner=alice, contact=person, kind=GainsKind.INTEREST, text=f"Sailing {i}"
        )
    for url, ceiling in [
        (reverse("contacts:list") + "?q=sailing", 6),  # session, user, ranks, page, tags x2
        (reverse("contacts:list") + "?q=sailing&page=9", 8),  # past the end: + count, ranks
        (reverse("contacts:list") + "?q=sailing&sort=name", 6),  # ids and count, then rows
        (reverse("contacts:list") + "?q=sailng", 7),  # + the typo's count
        # session, user, the most recent contacts, all contacts (fewer than 8 there), members
        (reverse("contacts:typeahead") + "?q=sail", 5),
    ]:
        alice_client.get(url)
        with django_assert_max_num_queries(ceiling):
            assert alice_client.get(url).status_code == 200


# --- The best-match list ranks on the narrow copy ------------------------------------------


def _sailors(owner, n: int) -> list[Contact]:
    people = Contact.objects.bulk_create(
        [Contact(owner=owner, name=f"Sailor {i:02}") for i in range(n)]
    )
    GainsFact.objects.bulk_create(
        [GainsFact(owner=owner, contact=p, kind=GainsKind.INTEREST, text="Sailing") for p in people]
    )
    return people


def test_the_best_match_list_pages_through_every_match(alice_client, alice):
    _sailors(alice, 30)
    first = alice_client.get(reverse("contacts:list"), {"q": "sailing"})
    second = alice_client.get(reverse("contacts:list"), {"q": "sailing", "page": 2})
    assert listed(first) == [f"Sailor {i:02}" for i in range(25)]  # equal rank: by name
    assert listed(second) == [f"Sailor {i:02}" for i in range(25, 30)]
    assert "30 contacts" in first.content.decode()
    # Past the end: the last page; not a number: the first.
    assert listed(alice_client.get(reverse("contacts:list"), {"q": "sailing", "page": 99})) == [
        f"Sailor {i:02}" for i in range(25, 30)
    ]
    for bad in ["x", "-3", "99999999999999999999"]:
        response = alice_client.get(reverse("contacts:list"), {"q": "sailing", "page": bad})
        assert response.status_code == 200
        assert len(listed(response)) in (25, 5)


def test_a_sorted_search_pages_through_every_match(alice_client, alice):
    _sailors(alice, 30)
    url = reverse("contacts:list")
    second = alice_client.get(url, {"q": "sailing", "sort": "name", "page": 2})
    assert listed(second) == [f"Sailor {i:02}" for i in range(25, 30)]
    assert "30 contacts" in second.content.decode()
    # Past the end: the last page (its count from the page's query); not a number: the first.
    last = alice_client.get(url, {"q": "sailing", "sort": "name", "page": 99})
    assert listed(last) == listed(second) and "30 contacts" in last.content.decode()
    first = alice_client.get(url, {"q": "sailing", "sort": "name", "page": "x"})
    assert listed(first) == [f"Sailor {i:02}" for i in range(25)]


def test_a_stage_filter_follows_every_change_of_stage(alice_client, alice):
    first, second = _sailors(alice, 2)
    first.stage = Stage.CONNECTION
    first.save()
    Contact.objects.filter(pk=second.pk).update(stage=Stage.ACQUAINTANCE)  # no save()
    url = reverse("contacts:list")
    assert listed(alice_client.get(url, {"q": "sailing", "stage": "connection"})) == [first.name]
    assert listed(alice_client.get(url, {"q": "sailing", "stage": "contact"})) == []
    assert found(alice, "sailing") == [first.name, second.name]


def test_a_tag_filter_with_words_finds_the_tagged_matches_only(alice_client, alice, bob):
    first, second, third = _sailors(alice, 3)
    crew = Tag.objects.create(owner=alice, name="Crew")
    first.tags.add(crew)
    third.tags.add(crew)
    # bob's tag of the same name, on bob's contact, changes nothing for alice.
    bobs = Contact.objects.create(owner=bob, name="Sailor Bob")
    bobs.tags.add(Tag.objects.create(owner=bob, name="crew"))
    third.tags.remove(crew)
    url = reverse("contacts:list")
    assert listed(alice_client.get(url, {"q": "sailor", "tag": "crew"})) == [first.name]
    assert listed(alice_client.get(url, {"q": "sailing", "tag": "Crew", "sort": "name"})) == [
        first.name
    ]
    assert found(alice, "sailor") == [first.name, second.name, third.name]


def test_archived_contacts_are_searched_only_in_the_archive(alice_client, alice):
    kept, archived = _sailors(alice, 2)
    archived.archive()
    active = listed(alice_client.get(reverse("contacts:list"), {"q": "sailing"}))
    in_archive = listed(
        alice_client.get(reverse("contacts:list"), {"q": "sailing", "archived": "on"})
    )
    assert (active, in_archive) == ([kept.name], [archived.name])
    archived.unarchive()
    assert found(alice, "sailing") == [kept.name, archived.name]


def test_a_deleted_contact_leaves_the_copy_and_the_delete_page_does_not_mention_it(
    alice_client, alice
):
    from contacts.models import SearchRank

    person = _sailors(alice, 1)[0]
    assert SearchRank.objects.filter(contact=person).exists()
    page = alice_client.get(reverse("contacts:delete", args=[person.pk])).content.decode()
    assert "search rank" not in page.lower()
    person.delete()
    assert not SearchRank.objects.filter(contact_id=person.pk).exists()
    assert listed(alice_client.get(reverse("contacts:list"), {"q": "sailing"})) == []


def test_a_contact_moved_to_another_owner_is_ranked_for_them_only(alice, charlie):
    person = _sailors(alice, 1)[0]
    Contact.objects.filter(pk=person.pk).update(owner=charlie)
    GainsFact.objects.filter(contact=person).update(owner=charlie)
    assert found(alice, "sailing") == []
    assert found(charlie, "sailing") == [person.name]


def test_the_typeahead_looks_among_the_most_recent_first_then_everywhere(alice):
    """Its answer is the 8 most recently met matches whichever way it finds them: among
    the RECENT most recently met (a common word) or by the index (matches older than
    those)."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    people = Contact.objects.bulk_create(
        [
            Contact(
                owner=alice,
                name=f"{'Zed' if i < 5 else 'Person'} {i:03}",
                last_touched_at=now - timedelta(hours=i if i >= 5 else 1000 + i),
            )
            for i in range(search.RECENT + 10)
        ]
    )
    Contact.objects.create(owner=alice, name="Person never met")  # last, never touched
    Contact.objects.create(owner=alice, name="Person archived", is_archived=True)
    base = Contact.objects.for_user(alice).active()
    persons = sorted(
        (p for p in people if p.name.startswith("Person")),
        key=lambda p: -p.last_touched_at.timestamp(),
    )
    assert [c.name for c in search.suggestions(base, "person", 8)] == [p.name for p in persons[:8]]
    assert [c.name for c in search.suggestions(base, "zed", 8)] == [f"Zed {i:03}" for i in range(5)]
    assert [c.name for c in search.suggestions(base, "person 01", 8)] == [
        f"Person {i:03}" for i in range(10, 18)
    ]
