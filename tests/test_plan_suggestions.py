"""Introduction suggestions: who should meet whom, and turning a suggestion into an
Introduction (with a drafted e-mail) or dismissing it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, GainsFact
from plan.models import NetworkingPlan, SuggestionDismissal
from plan.suggestions import _fallback_matches, match_facts, segments, suggest
from referrals.models import Introduction

MARKER = "ZQXMARKER"


def person(owner, name, *, facts=(), **fields) -> Contact:
    fields.setdefault("emails", [f"{name.split()[0].lower()}@example.com"])
    contact = Contact.objects.create(owner=owner, name=name, **fields)
    for kind, text in facts:
        GainsFact.objects.create(owner=owner, contact=contact, kind=kind, text=text)
    return contact


def pairs(found) -> list[set]:
    return [{s.a.name, s.b.name} for s in found]


@pytest.fixture
def network(alice):
    """Ann wants a commercial lease; Bob knows commercial leases; the rest is noise."""
    return {
        "ann": person(alice, "Ann Archer", facts=[("goal", "Find a commercial lease for a second office")]),
        "bob": person(alice, "Bob Baker", facts=[("skill", "Commercial leases and negotiation")]),
        "cat": person(alice, "Cat Cole", facts=[("skill", "Sourdough baking"), ("interest", "Commercial radio")]),
        "dan": person(alice, "Dan Drew", facts=[("goal", "Run a marathon"), ("network", "Knows every dentist in town")]),
        "eve": person(alice, "Eve Evans", facts=[("interest", "Commercial lease law podcasts")]),
    }  # fmt: skip


# --- Suggestion quality --------------------------------------------------------------


def test_the_obvious_goal_skill_match_ranks_first_and_names_the_words(alice, network):
    found = suggest(alice)
    assert found, "no suggestion at all"
    top = found[0]
    assert (top.a, top.b) == (network["ann"], network["bob"])
    assert top.kind == "goal_skill"
    assert "commercial" in top.reason.lower() and "lease" in top.reason.lower()
    assert "Ann Archer's goal" in top.reason and "Bob Baker's skill" in top.reason
    assert {w.lower() for w in top.highlights["a"]} == {"commercial", "lease"}
    assert {w.lower() for w in top.highlights["b"]} == {"commercial", "leases"}
    # Interests are not offers: Eve's podcast and Cat's radio never match Ann's goal.
    assert {"Ann Archer", "Eve Evans"} not in pairs(found)
    assert {"Ann Archer", "Cat Cole"} not in pairs(found)


def test_a_trusted_connection_ranks_above_a_plain_match(alice):
    newbie = person(
        alice, "Nora New", stage="contact", facts=[("goal", "Hire a payroll bookkeeper")]
    )
    plain = person(
        alice, "Paul Plain", stage="acquaintance", facts=[("skill", "Payroll bookkeeper")]
    )
    trusted = person(
        alice, "Tess Trust", stage="connection", honours_referrals="yes",
        facts=[("skill", "Payroll bookkeeper")],
    )  # fmt: skip
    found = suggest(alice)
    assert [(s.a, s.b) for s in found[:2]] == [(newbie, trusted), (newbie, plain)]
    assert found[0].kind == "trusted_helper"
    assert "trusted connection" in found[0].reason and "payroll" in found[0].reason.lower()
    assert found[1].kind == "goal_skill"


def test_a_network_fact_answers_a_goal_too(alice):
    ann = person(alice, "Ann Archer", facts=[("goal", "Meet more dentists")])
    dan = person(alice, "Dan Drew", facts=[("network", "Knows every dentist in town")])
    found = suggest(alice)
    assert [(s.a, s.b) for s in found] == [(ann, dan)]
    assert "network" in found[0].reason and found[0].b_label == "network"


def test_stronger_and_recently_touched_pairs_rank_higher(alice):
    ann = person(alice, "Ann Archer", facts=[("goal", "Open a yoga studio")])
    weak = person(alice, "Will Weak", facts=[("skill", "Yoga studio fit-outs")])
    strong = person(
        alice, "Sam Strong", last_touched_at=timezone.now() - timedelta(days=2),
        facts=[("skill", "Yoga studio fit-outs")],
    )  # fmt: skip
    Contact.objects.filter(pk=strong.pk).update(strength=90)
    Contact.objects.filter(pk=weak.pk).update(strength=5)
    assert [(s.a, s.b) for s in suggest(alice)] == [(ann, strong), (ann, weak)]


def test_same_sphere_pairs_appear(alice):
    NetworkingPlan.objects.create(owner=alice, sphere=["Mortgage broker", "Home inspector"])
    broker = person(alice, "Mia Broker", profession="Mortgage Broker")
    inspector = person(alice, "Ian Inspector", profession="home inspector")
    person(alice, "Gus Gardener", profession="Xylophone tuner")
    found = [s for s in suggest(alice) if s.kind == "same_sphere"]
    assert {frozenset((s.a.pk, s.b.pk)) for s in found} >= {frozenset((broker.pk, inspector.pk))}
    sphere = next(s for s in found if {s.a, s.b} == {broker, inspector})
    assert "same clients" in sphere.reason
    assert all("Gus Gardener" not in (s.a.name, s.b.name) for s in found if s.kind == "same_sphere")


def test_archived_dismissed_and_introduced_pairs_never_appear(alice):
    goal = person(alice, "Ann Archer", facts=[("goal", "Find a commercial lease")])
    person(alice, "Arch Ived", is_archived=True, facts=[("skill", "Commercial leases")])
    dismissed = person(alice, "Dee Missed", facts=[("skill", "Commercial leases")])
    introduced = person(alice, "Ivy Intro", facts=[("skill", "Commercial leases")])
    reverse_intro = person(alice, "Rex Reverse", facts=[("skill", "Commercial leases")])
    colleague = person(alice, "Col League", facts=[("skill", "Commercial leases")])
    Contact.objects.filter(pk__in=[goal.pk, colleague.pk]).update(company="Acme Realty")
    person(alice, "Kay Kept", facts=[("skill", "Commercial leases")])
    low, high = sorted((goal.pk, dismissed.pk))
    SuggestionDismissal.objects.create(owner=alice, contact_low_id=low, contact_high_id=high)
    Introduction.objects.create(owner=alice, contact_a=goal, contact_b=introduced)
    Introduction.objects.create(owner=alice, contact_a=reverse_intro, contact_b=goal)
    # A contact never pairs with themselves, even with a goal and a matching skill.
    person(
        alice, "Sol Self", facts=[("goal", "Learn pottery glazing"), ("skill", "Pottery glazing")]
    )

    names = {n for pair in pairs(suggest(alice)) for n in pair}
    assert "Kay Kept" in names
    assert names.isdisjoint(
        {"Arch Ived", "Dee Missed", "Ivy Intro", "Rex Reverse", "Col League", "Sol Self"}
    )


def test_no_pairs_across_users(alice, charlie, network):
    person(charlie, f"Carl {MARKER}", facts=[("skill", f"Commercial leases {MARKER}")])
    person(charlie, "Cleo Other", facts=[("goal", "Find a commercial lease for a shop")])
    mine = {c.pk for c in network.values()}
    for s in suggest(alice):
        assert {s.a.pk, s.b.pk} <= mine
        assert MARKER not in s.reason
    theirs = suggest(charlie)
    assert theirs and all(s.a.owner_id == charlie.pk == s.b.owner_id for s in theirs)
    assert all({s.a.pk, s.b.pk}.isdisjoint(mine) for s in theirs)


def test_charlies_data_never_shows_on_alices_page(alice_client, charlie, network):
    person(charlie, f"Carl {MARKER}", facts=[("skill", f"Commercial leases {MARKER}")])
    response = alice_client.get(reverse("plan:introductions"))
    assert response.status_code == 200
    assert MARKER not in response.content.decode()


# --- The page --------------------------------------------------------------------------


def test_page_shows_reasons_with_the_matching_words_marked(alice_client, network):
    response = alice_client.get(reverse("plan:introductions"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ann Archer" in html and "Bob Baker" in html
    assert "<mark>commercial</mark> <mark>lease</mark>" in html
    assert "<mark>Commercial</mark> <mark>leases</mark>" in html
    assert reverse("plan:introduce", args=[network["ann"].pk, network["bob"].pk]) in html


def test_fact_text_is_escaped_on_the_page(alice_client, alice):
    person(alice, "Ann Archer", facts=[("goal", "Find <script>x</script> commercial leases")])
    person(alice, "Bob Baker", facts=[("skill", "Commercial leases")])
    html = alice_client.get(reverse("plan:introductions")).content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html


def test_empty_state_asks_for_goals_and_skills(alice_client, alice):
    person(alice, "Ann Archer", facts=[("interest", "Golf")])
    html = alice_client.get(reverse("plan:introductions")).content.decode()
    assert "Add goals and skills to your contacts" in html


def test_page_needs_a_login(client):
    response = client.get(reverse("plan:introductions"))
    assert response.status_code == 302 and "login" in response["Location"]


def grow(owner, n: int, offset: int = 0) -> None:
    for i in range(offset, offset + n):
        person(owner, f"Goal {i}", facts=[("goal", f"Find a florist for event {i}")])
        person(owner, f"Skill {i}", facts=[("skill", f"Florist for events {i}")])


def test_page_query_count_does_not_grow(alice_client, alice, django_assert_max_num_queries):
    NetworkingPlan.objects.create(owner=alice, sphere=["Florist", "Caterer"])
    grow(alice, 3)
    person(alice, "Flo", profession="Florist")
    person(alice, "Cat", profession="Caterer")
    with django_assert_max_num_queries(16) as small:
        assert alice_client.get(reverse("plan:introductions")).status_code == 200
    grow(alice, 30, offset=3)
    for i in range(10):
        person(alice, f"Flo {i}", profession="Florist")
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = alice_client.get(reverse("plan:introductions")).content.decode()
    assert html.count('class="intro-suggestion"') == 20


# --- Introduce them ---------------------------------------------------------------------


def test_introduce_creates_one_introduction_and_drafts_the_email(alice_client, alice, network):
    ann, bob = network["ann"], network["bob"]
    url = reverse("plan:introduce", args=[ann.pk, bob.pk])
    first = alice_client.post(url)
    intro = Introduction.objects.get(owner=alice)
    assert first.status_code == 302
    assert first["Location"] == reverse("plan:introduction_email", args=[intro.pk])
    # The helper is contact_a: what Bob can do for Ann is reason_a.
    assert (intro.contact_a, intro.contact_b) == (bob, ann)
    assert "Commercial leases" in intro.reason_a and "commercial lease" in intro.reason_a
    assert intro.reason_b

    again = alice_client.post(reverse("plan:introduce", args=[bob.pk, ann.pk]))
    assert again["Location"] == first["Location"]
    assert Introduction.objects.filter(owner=alice).count() == 1

    page = alice_client.get(first["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        'href="mailto:bob@example.com,ann@example.com?subject=Introduction%3A%20Bob%20Baker' in html
    )
    assert "data-select-on-focus" in html and "<textarea" in html
    assert "Ann, meet Bob Baker" in html
    body = unquote(html.split("&amp;body=", 1)[1].split('"', 1)[0])
    assert body.startswith("Hi Bob and Ann,")

    # Accepted: no longer suggested, and on both contacts' timelines.
    assert {"Ann Archer", "Bob Baker"} not in pairs(suggest(alice))
    for contact in (ann, bob):
        detail = alice_client.get(contact.get_absolute_url()).content.decode()
        assert "<strong>Introduction</strong>" in detail
        assert "Ann Archer" in detail and "Bob Baker" in detail


def test_introduce_without_a_current_match_still_saves(alice_client, alice):
    a = person(alice, "Ann Archer", emails=[])
    b = person(alice, "Bob Baker")
    response = alice_client.post(reverse("plan:introduce", args=[a.pk, b.pk]))
    intro = Introduction.objects.get(owner=alice)
    assert {intro.contact_a, intro.contact_b} == {a, b}
    html = alice_client.get(response["Location"]).content.decode()
    assert "No e-mail address saved for" in html


def test_introduce_and_dismiss_need_post(alice_client, network):
    args = [network["ann"].pk, network["bob"].pk]
    assert alice_client.get(reverse("plan:introduce", args=args)).status_code == 405
    assert alice_client.get(reverse("plan:dismiss_suggestion", args=args)).status_code == 405
    assert not Introduction.objects.exists() and not SuggestionDismissal.objects.exists()


# --- Not a fit --------------------------------------------------------------------------


def test_dismiss_is_remembered(alice_client, alice, network):
    ann, bob = network["ann"], network["bob"]
    url = reverse("plan:dismiss_suggestion", args=[bob.pk, ann.pk])
    response = alice_client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.content == b""
    assert alice_client.post(url).status_code == 302  # twice is fine, no JS is fine
    dismissal = SuggestionDismissal.objects.get(owner=alice)
    assert (dismissal.contact_low_id, dismissal.contact_high_id) == tuple(sorted((ann.pk, bob.pk)))
    assert {"Ann Archer", "Bob Baker"} not in pairs(suggest(alice))
    html = alice_client.get(reverse("plan:introductions")).content.decode()
    assert f"suggestion-{dismissal.contact_low_id}-{dismissal.contact_high_id}" not in html


# --- Ownership -------------------------------------------------------------------------


def test_other_users_ids_get_404(charlie_client, alice, network):
    ann, bob = network["ann"], network["bob"]
    for name in ("plan:introduce", "plan:dismiss_suggestion"):
        assert charlie_client.post(reverse(name, args=[ann.pk, bob.pk])).status_code == 404
    intro = Introduction.objects.create(owner=alice, contact_a=ann, contact_b=bob)
    response = charlie_client.get(reverse("plan:introduction_email", args=[intro.pk]))
    assert response.status_code == 404
    assert Introduction.objects.count() == 1 and not SuggestionDismissal.objects.exists()


def test_mixing_own_and_other_users_contacts_gets_404(alice_client, charlie, network):
    theirs = person(charlie, "Carl Other")
    response = alice_client.post(reverse("plan:introduce", args=[network["ann"].pk, theirs.pk]))
    assert response.status_code == 404
    same = reverse("plan:introduce", args=[network["ann"].pk, network["ann"].pk])
    assert alice_client.post(same).status_code == 404
    assert not Introduction.objects.exists()


# --- The fallback matcher (the embedded SQLite default) ----------------------------------


def test_fallback_matcher_on_plain_data():
    rows = match_facts(
        [
            (1, "goal", "Looking for a commercial lease downtown"),
            (2, "skill", "Commercial leases"),
            (3, "skill", "Bakes sourdough"),
            (4, "interest", "Commercial radio"),
            (5, "network", "Knows the downtown business association"),
            (1, "skill", "Commercial leasing law"),  # never matched with itself
        ]
    )
    found = [(r["goal_contact"], r["offer_contact"]) for r in rows]
    assert found[0] == (1, 2)
    assert rows[0]["goal_words"] == ["commercial", "lease"]
    assert rows[0]["offer_words"] == ["Commercial", "leases"]
    assert (1, 5) in found and (1, 3) not in found and (1, 4) not in found
    assert all(goal != offer for goal, offer in found)
    assert match_facts([]) == []


def test_fallback_query_reads_only_the_users_active_facts(alice, charlie, network):
    person(charlie, "Carl Other", facts=[("skill", "Commercial leases")])
    person(alice, "Arch Ived", is_archived=True, facts=[("skill", "Commercial leases")])
    rows = _fallback_matches(alice, 20, timezone.now(), None)
    ids = {c.pk for c in network.values()}
    assert rows and all({r["goal_contact"], r["offer_contact"]} <= ids for r in rows)


def test_segments_mark_whole_words_only():
    assert segments("Commercial leases, lease-back", ["leases", "commercial"]) == [
        ("Commercial", True),
        (" ", False),
        ("leases", True),
        (", lease-back", False),
    ]
    assert segments("plain", []) == [("plain", False)]
