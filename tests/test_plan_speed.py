"""The plan pages within budget for a big network: introduction suggestions, the sphere's
coverage and the brief's offers are computed by a refresh task and stored
(plan.precompute); pages read them by index, with a fixed number of queries."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, GainsFact, Stage
from plan import gaps, precompute, prep, steps, tasks
from plan.models import NetworkingPlan, StoredSuggestion, SuggestionDismissal, SuggestionState
from plan.suggestions import suggest
from referralcrm.celery import app as celery_app
from referrals.models import Direction, Introduction, Referral, Status
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

MARKER = "QZVSPEEDMARKER"
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE = reverse("plan:introductions")


def person(owner, name, *, facts=(), **fields) -> Contact:
    fields.setdefault("emails", [f"{name.split()[0].lower()}@example.com"])
    contact = Contact.objects.create(owner=owner, name=name, **fields)
    for kind, text in facts:
        GainsFact.objects.create(owner=owner, contact=contact, kind=kind, text=text)
    return contact


@pytest.fixture
def network(alice):
    """Ann's goal meets Bob's skill; Gwen's goal meets Lars's; a sphere pair of professions."""
    NetworkingPlan.objects.create(owner=alice, sphere=["Mortgage broker", "Home inspector"])
    return {
        "ann": person(alice, "Ann Archer", facts=[("goal", "Find a commercial lease downtown")]),
        "bob": person(alice, "Bob Baker", facts=[("skill", "Commercial leases and offices")]),
        "gwen": person(alice, "Gwen Goal", facts=[("goal", "Hire a payroll bookkeeper")]),
        "lars": person(alice, "Lars Ledger", facts=[("skill", "Payroll bookkeeper")]),
        "mia": person(alice, "Mia Broker", profession="Mortgage broker", stage=Stage.CONNECTION),
        "ian": person(alice, "Ian Inspector", profession="Home inspector"),
    }


def shown(client) -> set[frozenset]:
    """The pairs on the introductions page (by the rows' ids)."""
    html = client.get(PAGE).content.decode()
    pairs = set()
    for chunk in html.split('id="suggestion-')[1:]:
        low, high = chunk.split('"', 1)[0].split("-")
        pairs.add(frozenset((int(low), int(high))))
    return pairs


def pair(a, b) -> frozenset:
    return frozenset((a.pk, b.pk))


def summary(found) -> list[tuple]:
    return [
        (s.a.pk, s.b.pk, s.kind, s.reason, s.a_text, s.b_text, s.b_label, s.highlights)
        for s in found
    ]


# --- The stored suggestions are today's ---------------------------------------------------


def test_stored_suggestions_equal_the_freshly_computed_ones(alice, network):
    assert precompute.refresh(alice.pk) is True
    stored, ready = precompute.current(alice, precompute.STORED)
    fresh = suggest(alice, limit=precompute.STORED)
    assert ready and stored
    assert summary(stored) == summary(fresh)
    assert [s.score for s in stored] == pytest.approx([s.score for s in fresh])
    kinds = {s.kind for s in stored}
    assert {"goal_skill", "same_sphere"} <= kinds
    state = SuggestionState.objects.get(owner=alice)
    assert state.computed_version == state.version and state.stale_since is None
    # Nothing changed since: a second refresh (the sweep, a page's kick) stores nothing.
    assert precompute.refresh(alice.pk) is False


def test_the_page_reads_the_stored_list_until_a_refresh(alice_client, alice, network):
    precompute.refresh(alice.pk)
    assert pair(network["ann"], network["bob"]) in shown(alice_client)
    dora = person(alice, "Dora Dentist", facts=[("skill", "Payroll bookkeeper and audits")])
    # Not refreshed yet: the page shows what the last refresh found.
    assert pair(network["gwen"], dora) not in shown(alice_client)
    precompute.stale_now([alice.pk])  # what the commit of that fact does
    assert tasks.refresh_suggestions.apply(args=[alice.pk]).get() is True
    assert pair(network["gwen"], dora) in shown(alice_client)


@pytest.mark.django_db(transaction=True)
def test_each_commit_marks_the_suggestions_stale_and_the_first_enqueues_a_refresh():
    """Committed changes (transaction=True), no worker: what waits in the real broker."""
    owner = make_user("speed-stale@example.com")
    gwen = person(owner, "Gwen Goal", facts=[("goal", "Hire a payroll bookkeeper")])
    lars = person(owner, "Lars Ledger", facts=[("skill", "Payroll bookkeeper")])
    assert queued_refreshes(owner.pk) == 1
    assert precompute.refresh(owner.pk)
    before = SuggestionState.objects.get(owner=owner)
    assert before.stale_since is None

    ian = person(owner, "Ian Inspector")
    GainsFact.objects.create(owner=owner, contact=ian, kind="skill", text="Payroll audits")
    after = SuggestionState.objects.get(owner=owner)
    assert after.version > before.version and after.stale_since is not None
    assert queued_refreshes(owner.pk) == 2  # one more, for the first change only
    lars.archive()
    again = SuggestionState.objects.get(owner=owner)
    assert again.version > after.version and again.stale_since == after.stale_since
    assert queued_refreshes(owner.pk) == 2

    assert precompute.refresh(owner.pk)
    assert SuggestionState.objects.get(owner=owner).stale_since is None
    found = precompute.current(owner, 40)[0]
    assert [(s.a, s.b) for s in found] == [(gwen, ian)]  # Lars is archived


@pytest.mark.parametrize("how", ["dismissal", "introduction"])
def test_a_dismissal_or_an_introduction_disappears_at_once(alice_client, alice, network, how):
    precompute.refresh(alice.pk)
    ann, bob = network["ann"], network["bob"]
    assert pair(ann, bob) in shown(alice_client)
    if how == "dismissal":
        url = reverse("plan:dismiss_suggestion", args=[ann.pk, bob.pk])
        assert alice_client.post(url, **HTMX).status_code == 200
    else:
        url = reverse("plan:introduce", args=[ann.pk, bob.pk])
        assert alice_client.post(url).status_code == 302
    # No refresh has run: the row went in the request.
    assert pair(ann, bob) not in shown(alice_client)
    assert "Introduce Ann Archer" not in steps_fragment(alice_client)
    # And the refresh that follows agrees.
    precompute.stale_now([alice.pk])
    precompute.refresh(alice.pk)
    assert pair(ann, bob) not in shown(alice_client)
    assert pair(network["gwen"], network["lars"]) in shown(alice_client)


def test_a_refresh_never_brings_back_a_pair_dismissed_while_it_ran(alice, network):
    ann, bob = network["ann"], network["bob"]
    found = suggest(alice, limit=precompute.STORED)  # computed before the click ...
    low, high = sorted((ann.pk, bob.pk))
    SuggestionDismissal.objects.create(owner=alice, contact_low_id=low, contact_high_id=high)
    rows = precompute._rows(alice, found)  # ... stored after it
    assert {(r.a_id, r.b_id) for r in rows}.isdisjoint({(ann.pk, bob.pk), (bob.pk, ann.pk)})
    assert [r.position for r in rows] == list(range(len(rows)))


def steps_fragment(client) -> str:
    return client.get(reverse("plan:step_introduction"), **HTMX).content.decode()


def test_the_dashboard_step_reads_the_stored_list(alice_client, alice, network):
    precompute.refresh(alice.pk)
    best = precompute.current(alice, 1)[0][0]
    assert f"Introduce {best.a.name} to {best.b.name}" in steps_fragment(alice_client)


# --- Before the first refresh ----------------------------------------------------------------


def test_a_small_network_is_matched_in_the_request_before_the_first_refresh(
    alice_client, alice, network
):
    assert not SuggestionState.objects.filter(owner=alice).exists()
    assert pair(network["ann"], network["bob"]) in shown(alice_client)
    assert not SuggestionState.objects.filter(owner=alice).exists()  # no write on GET


def test_a_big_network_shows_finding_suggestions_and_polls_until_stored(
    alice_client, alice, network, monkeypatch
):
    monkeypatch.setattr(precompute, "SYNC_FACTS", 2)
    html = alice_client.get(PAGE).content.decode()
    assert "Finding suggestions…" in html
    assert 'hx-trigger="every 2s"' in html and f'hx-get="{PAGE}?poll=1"' in html
    poll = alice_client.get(PAGE, {"poll": "1"}, **HTMX).content.decode()
    assert "Finding suggestions…" in poll and "<html" not in poll
    assert not SuggestionState.objects.filter(owner=alice).exists()  # no write on GET

    precompute.refresh(alice.pk)
    poll = alice_client.get(PAGE, {"poll": "1"}, **HTMX).content.decode()
    assert 'id="intro-list"' in poll and "hx-trigger" not in poll  # polling stops
    assert f"suggestion-{min(network['ann'].pk, network['bob'].pk)}-" in poll


def test_a_network_with_nothing_to_suggest_says_so_once_refreshed(alice_client, alice):
    person(alice, "Only Interests", facts=[("interest", "Golf")])
    precompute.refresh(alice.pk)
    html = alice_client.get(PAGE).content.decode()
    assert "No introductions to suggest yet." in html and "Finding" not in html


# --- Privacy ----------------------------------------------------------------------------------


def test_another_users_suggestions_never_appear(alice_client, alice, charlie, network):
    theirs_a = person(charlie, f"Carl {MARKER}", facts=[("goal", "Find a commercial lease")])
    theirs_b = person(charlie, f"Cleo {MARKER}", facts=[("skill", "Commercial leases")])
    precompute.refresh(alice.pk)
    precompute.refresh(charlie.pk)
    assert StoredSuggestion.objects.filter(owner=charlie).exists()
    # Even a row of alice's naming charlie's contacts (it cannot happen) shows nothing of his.
    StoredSuggestion.objects.create(
        owner=alice, position=0, a_id=theirs_a.pk, b_id=theirs_b.pk, kind="goal_skill",
        score=999, reason=f"{MARKER}", a_text=MARKER, b_text=MARKER,
    )  # fmt: skip
    for body in (
        alice_client.get(PAGE),
        alice_client.get(reverse("plan:step_introduction"), **HTMX),
    ):
        assert MARKER not in body.content.decode()
    # His ids are refused and his stored rows untouched.
    for name in ("plan:introduce", "plan:dismiss_suggestion"):
        response = alice_client.post(reverse(name, args=[theirs_a.pk, theirs_b.pk]))
        assert response.status_code == 404
    assert StoredSuggestion.objects.filter(owner=charlie, a_id=theirs_a.pk).exists()
    assert not Introduction.objects.exists() and not SuggestionDismissal.objects.exists()


def test_the_refresh_reads_only_the_users_own_network(alice, charlie, network):
    person(charlie, f"Carl {MARKER}", facts=[("skill", "Commercial leases downtown")])
    precompute.refresh(alice.pk)
    mine = {c.pk for c in network.values()}
    rows = StoredSuggestion.objects.filter(owner=alice)
    assert rows and all({r.a_id, r.b_id} <= mine for r in rows)
    assert all(MARKER not in r.reason for r in rows)


# --- The sphere's coverage and the brief's offers ---------------------------------------------


@pytest.fixture
def sphere(alice):
    NetworkingPlan.objects.create(
        owner=alice, sphere=["Mortgage broker", "Bookkeeper", "Home inspector"]
    )
    return {
        "bob": person(alice, "Bob Broker", profession="Loan officer", stage=Stage.CONNECTION),
        "carol": person(alice, "Carol Books", profession="Bookkeeping services"),
        "dan": person(alice, "Dan Flowers", profession="Florist", stage=Stage.CONNECTION),
    }


def gap_summary(found) -> list[tuple]:
    return [(g.key, g.kind, g.contact.pk if g.contact else None, g.step) for g in found]


def test_the_stored_sphere_coverage_gives_the_same_gaps(alice, sphere):
    live = gaps.gaps(alice, live=True)
    precompute.refresh(alice.pk)
    assert gap_summary(gaps.gaps(alice)) == gap_summary(live)
    assert SuggestionState.objects.get(owner=alice).sphere_known["bookkeeper"] == {
        "best": sphere["carol"].pk,
        "connected": False,
    }


def test_a_profession_added_to_the_sphere_is_read_at_once(alice_client, alice, sphere):
    precompute.refresh(alice.pk)
    person(alice, "Fay Florist", profession="Florist")
    plan = NetworkingPlan.objects.get(owner=alice)
    plan.sphere = [*plan.sphere, "Realtor"]
    plan.save()
    body = alice_client.get(reverse("plan:plan")).content.decode()
    assert "No Realtor in your network" in body
    assert "No Home inspector in your network" in body  # still from the stored coverage


def test_the_briefs_offers_are_the_same_stored_or_live(alice, network):
    larry = person(alice, "Larry Lease", facts=[("network", "Landlords of downtown offices")])
    goals = ["Find a commercial lease downtown"]
    live = prep.offers_for(alice, network["ann"], goals, stored=False)
    precompute.refresh(alice.pk)
    stored = prep.offers_for(alice, network["ann"], goals, stored=True)
    assert [(o.contact.pk, o.text, o.words, o.goal) for o in stored] == [
        (o.contact.pk, o.text, o.words, o.goal) for o in live
    ]
    assert {o.contact.pk for o in stored} == {network["bob"].pk, larry.pk}
    assert prep.offers_for(alice, network["ann"], goals) == stored  # asks by itself


# --- Fixed queries at two sizes --------------------------------------------------------------


def grow(owner, n: int) -> None:
    for i in range(n):
        person(owner, f"Goal {i}", facts=[("goal", f"Find a florist for event {i}")])
        person(owner, f"Skill {i}", profession="Florist", facts=[("skill", f"Florist {i}")])
        person(owner, f"Broker {i}", profession="Mortgage broker", stage=Stage.CONNECTION)


def page_queries(client, url, **extra) -> int:
    from django.test.utils import CaptureQueriesContext

    client.get(url, **extra)  # warm up
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **extra).status_code == 200
    return len(queries)


# Stored: session, user, state, the stored rows, their contacts.
INTRODUCTIONS_QUERIES = 5
# Stored: session, user, plan, goals, helpers, connections, coverage, its contacts, follow-ups.
PLAN_QUERIES = 9


def test_stored_pages_run_a_fixed_number_of_queries(alice_client, alice, network):
    brief = reverse("plan:prep", args=[network["ann"].pk])

    def measure() -> dict:
        precompute.stale_now([alice.pk])
        precompute.refresh(alice.pk)
        return {
            "introductions": page_queries(alice_client, PAGE),
            "step": page_queries(alice_client, reverse("plan:step_introduction"), **HTMX),
            "plan": page_queries(alice_client, reverse("plan:plan")),
            "event": page_queries(alice_client, reverse("plan:event_prep")),
            "brief": page_queries(alice_client, brief),
        }

    grow(alice, 2)
    small = measure()
    assert small["introductions"] <= INTRODUCTIONS_QUERIES
    assert small["plan"] <= PLAN_QUERIES
    grow(alice, 25)
    assert measure() == small


def test_the_thanks_step_reads_its_partial_index(alice):
    partner = person(alice, "Tina Thanks")
    for i in range(3):
        Referral.objects.create(
            owner=alice, direction=Direction.RECEIVED, partner=partner, prospect_name=f"P{i}",
            status=Status.WON, closed_on=timezone.localdate() - timedelta(days=i),
        )  # fmt: skip
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        step = steps.thanks_step(alice, set())
    assert step.referral.prospect_name == "P2"  # the oldest
    [query] = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {query['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "plan_thanks_owed_idx" in plan


# --- The queue ----------------------------------------------------------------------------------


def queued_refreshes(owner_id: int) -> int:
    """How many refreshes of ``owner_id`` wait in the (real) test broker."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    count = 0
    for raw in broker.lrange("celery", 0, -1):
        headers = json.loads(raw)["headers"]
        if (
            headers["task"] == "plan.refresh_suggestions"
            and headers["argsrepr"] == f"({owner_id},)"
        ):
            count += 1
    return count


def test_beat_sweeps_lost_refreshes_and_refreshes_everyone_nightly(alice, network):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"plan.sweep_suggestions", "plan.refresh_all_suggestions"} <= tasks_scheduled
    precompute.refresh(alice.pk)
    # A refresh whose task was lost (the broker was down at commit) is found by the sweep.
    long_ago = timezone.now() - precompute.SWEEP_AFTER - timedelta(minutes=1)
    SuggestionState.objects.filter(owner=alice).update(stale_since=long_ago)
    before = queued_refreshes(alice.pk)
    assert tasks.sweep_suggestions.apply().get() == 1
    assert queued_refreshes(alice.pk) == before + 1
    # Nightly: everyone is stale (scores include recency) and enqueued.
    SuggestionState.objects.filter(owner=alice).update(stale_since=None)
    version = SuggestionState.objects.get(owner=alice).version
    assert tasks.refresh_all_suggestions.apply().get() == 1
    state = SuggestionState.objects.get(owner=alice)
    assert state.version == version + 1 and state.stale_since is not None
    assert queued_refreshes(alice.pk) == before + 2
    assert precompute.refresh(alice.pk) is True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_is_one_refresh_by_a_real_worker(monkeypatch):
    """Committed changes (transaction=True): each commit marks the owner stale, only the
    first enqueues; a real worker then stores what ``suggest`` finds."""
    monkeypatch.setattr(precompute, "DEBOUNCE", 0)
    owner = make_user("speed-worker@example.com")
    ann = person(owner, "Ann Archer", facts=[("goal", "Find a commercial lease downtown")])
    assert queued_refreshes(owner.pk) == 1  # the first commit
    bob = person(owner, "Bob Baker", facts=[("skill", "Commercial leases")])
    person(owner, "Cat Cole", facts=[("skill", "Sourdough baking")])
    assert queued_refreshes(owner.pk) == 1  # later commits only bumped the version
    assert SuggestionState.objects.get(owner=owner).version > 3

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = SuggestionState.objects.get(owner=owner)
            if state.stale_since is None and state.computed_at is not None:
                break
            time.sleep(0.2)
    state = SuggestionState.objects.get(owner=owner)
    assert state.computed_version == state.version and state.stale_since is None
    stored = [
        (r.a_id, r.b_id) for r in StoredSuggestion.objects.filter(owner=owner).order_by("position")
    ]
    assert stored == [(s.a.pk, s.b.pk) for s in suggest(owner, limit=precompute.STORED)]
    assert stored[0] == (ann.pk, bob.pk)


def test_the_refresh_command_stores_everyones_suggestions(alice, charlie, network):
    from io import StringIO

    from django.core.management import CommandError, call_command

    person(charlie, "Cleo Goal", facts=[("goal", "Find a commercial lease")])
    person(charlie, "Carl Skill", facts=[("skill", "Commercial leases")])
    out = StringIO()
    call_command("refresh_suggestions", stdout=out)
    assert "refreshed for 2 users" in out.getvalue()
    assert StoredSuggestion.objects.filter(owner=alice).exists()
    assert StoredSuggestion.objects.filter(owner=charlie).exists()
    call_command("refresh_suggestions", "--user", "alice@example.com", stdout=out)
    assert "refreshed for 1 users" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("refresh_suggestions", "--user", "nobody@example.com")
