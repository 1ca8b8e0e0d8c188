"""My networking plan: the sphere table, editing the plan, gaps turned into follow-ups, event
prep and capture; isolation and fixed query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, GainsFact, Meeting, MeetingKind, Stage
from followups.models import FollowUp
from plan import spheres
from plan.gaps import gaps
from plan.models import BusinessGoal, GoalHelper, NetworkingPlan

from .conftest import make_user

pytestmark = pytest.mark.django_db

PLAN = reverse("plan:plan")


def contact(owner, name, profession="", stage=Stage.CONTACT, strength=0, **extra):
    person = Contact.objects.create(
        owner=owner, name=name, profession=profession, stage=stage, **extra
    )
    if strength:
        Contact.objects.filter(pk=person.pk).update(strength=strength)
        person.strength = strength
    return person


def plan_for(owner, sphere=(), **extra) -> NetworkingPlan:
    return NetworkingPlan.objects.create(owner=owner, sphere=list(sphere), **extra)


# --- The sphere table -----------------------------------------------------------------


def test_the_table_has_sixty_professions_and_every_sphere_profession_is_known():
    assert len(spheres.SPHERES) >= 60
    for profession, sphere in spheres.SPHERES.items():
        assert len(sphere) >= 3, profession
        assert profession not in sphere
        unknown = [p for p in sphere if p not in spheres.SPHERES]
        assert unknown == [], profession
    assert all(name in spheres.SPHERES for name in spheres.SYNONYMS.values())


def test_sensible_spheres():
    realtor = spheres.sphere_for("realtor")
    assert {"mortgage broker", "home inspector", "home stager", "mover"} <= set(realtor)
    assert {"bookkeeper", "financial planner", "banker"} <= set(spheres.sphere_for("Accountant"))
    assert {"photographer", "florist", "caterer"} <= set(spheres.sphere_for("wedding planner"))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Real Estate Agent", "realtor"),
        ("real-estate agents", "realtor"),
        ("Licensed realtor", "realtor"),
        ("CPA", "accountant"),
        ("Financial Advisor", "financial planner"),
        ("Wedding & event planners", "wedding planner"),
        ("Mortgage loan officer", "mortgage broker"),
        ("Commercial real estate agent", "commercial real estate agent"),
        ("Physiotherapist", "physical therapist"),
    ],
)
def test_synonyms_case_and_plurals(typed, meant):
    assert spheres.canonical(typed) == meant
    assert spheres.sphere_for(typed) == spheres.SPHERES[meant]


def test_an_unknown_profession_gives_nothing():
    assert spheres.sphere_for("astronaut") == []
    assert spheres.sphere_for("") == []


def test_loose_profession_matching():
    assert spheres.matches("bookkeeper", "Bookkeeping services")
    assert spheres.matches("mortgage broker", "Loan officer")
    assert spheres.matches("home inspector", "Certified Home Inspectors")
    assert not spheres.matches("it support", "Electrician")
    assert not spheres.matches("bookkeeper", "")


# --- The plan page ------------------------------------------------------------------------


def test_first_visit_suggests_the_sphere_from_my_profession_without_saving(client, alice):
    alice.profession = "Real estate agent"
    alice.save()
    client.force_login(alice)
    response = client.get(PLAN)
    assert response.status_code == 200
    body = response.content.decode()
    for heading in ("My preferred client", "My contact sphere", "My business goals"):
        assert heading in body
    assert "Gaps and next steps" in body
    assert "mortgage broker\nhome inspector" in body  # the textarea, pre-filled
    assert "Suggested from your profession" in body
    assert not NetworkingPlan.objects.exists()  # no write on GET


def test_unknown_profession_asks_to_pick_professions(client, alice):
    alice.profession = "Astronaut"
    alice.save()
    client.force_login(alice)
    body = client.get(PLAN).content.decode()
    assert "pick the professions yourself" in body


def test_save_preferred_client_and_tags(alice_client, alice):
    response = alice_client.post(
        reverse("plan:plan_client"),
        {
            "preferred_client": " First-time buyers in Leeds ",
            "client_tags": "young, families, young",
        },
    )
    assert response.status_code == 302
    plan = NetworkingPlan.objects.get(owner=alice)
    assert plan.preferred_client == "First-time buyers in Leeds"
    assert plan.client_tags == ["young", "families"]
    body = alice_client.get(PLAN).content.decode()
    assert "First-time buyers in Leeds" in body


def test_preferred_client_bounds_rerender_with_input(alice_client, alice):
    response = alice_client.post(
        reverse("plan:plan_client"),
        {"preferred_client": "x" * 1001, "client_tags": "kept-word"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "at most 1000 characters" in body
    assert "kept-word" in body
    assert not NetworkingPlan.objects.filter(owner=alice).exists()
    many = ", ".join(f"tag{i}" for i in range(13))
    response = alice_client.post(reverse("plan:plan_client"), {"client_tags": many})
    assert response.status_code == 400
    assert "At most 12 describing words" in response.content.decode()


def test_edit_the_sphere(alice_client, alice):
    response = alice_client.post(
        reverse("plan:plan_sphere"), {"sphere": "Bookkeeper\n\n  banker \nbookkeeper\nLandscaper"}
    )
    assert response.status_code == 302
    assert NetworkingPlan.objects.get(owner=alice).sphere == ["Bookkeeper", "banker", "Landscaper"]
    too_many = "\n".join(f"profession {i}" for i in range(21))
    response = alice_client.post(reverse("plan:plan_sphere"), {"sphere": too_many})
    assert response.status_code == 400
    assert "profession 20" in response.content.decode()  # input intact
    assert NetworkingPlan.objects.get(owner=alice).sphere == ["Bookkeeper", "banker", "Landscaper"]


def test_goals_add_edit_remove(alice_client, alice):
    body = alice_client.get(PLAN).content.decode()
    assert "Get one referral a month from my contact sphere" in body  # suggested goals
    alice_client.post(reverse("plan:goal_add"), {"new-text": "Open a second office"})
    alice_client.post(reverse("plan:goal_add"), {"new-text": "Get one referral a month"})
    goals = list(BusinessGoal.objects.filter(owner=alice))
    assert [g.text for g in goals] == ["Open a second office", "Get one referral a month"]

    response = alice_client.post(reverse("plan:goal_add"), {"new-text": "   "})
    assert response.status_code == 400
    assert BusinessGoal.objects.filter(owner=alice).count() == 2
    response = alice_client.post(reverse("plan:goal_add"), {"new-text": "y" * 241})
    assert response.status_code == 400
    assert "y" * 241 in response.content.decode()

    first = goals[0]
    alice_client.post(
        reverse("plan:goal_edit", args=[first.pk]), {f"goal{first.pk}-text": "Open a shop"}
    )
    first.refresh_from_db()
    assert first.text == "Open a shop"
    response = alice_client.post(
        reverse("plan:goal_edit", args=[first.pk]), {f"goal{first.pk}-text": ""}
    )
    assert response.status_code == 400
    first.refresh_from_db()
    assert first.text == "Open a shop"

    alice_client.post(reverse("plan:goal_delete", args=[first.pk]))
    assert list(BusinessGoal.objects.filter(owner=alice)) == [goals[1]]


def test_goal_edit_and_delete_are_post_only(alice_client, alice):
    goal = BusinessGoal.objects.create(owner=alice, text="Grow")
    assert alice_client.get(reverse("plan:goal_delete", args=[goal.pk])).status_code == 405
    assert alice_client.get(reverse("plan:goal_edit", args=[goal.pk])).status_code == 405
    assert BusinessGoal.objects.filter(pk=goal.pk).exists()


def test_helpers_contact_or_placeholder(alice_client, alice, charlie):
    goal = BusinessGoal.objects.create(owner=alice, text="Open a second office")
    ann = contact(alice, "Ann Banker", "Banker", Stage.CONNECTION)
    url = reverse("plan:helper_add", args=[goal.pk])
    prefix = f"helper{goal.pk}"

    body = alice_client.get(PLAN).content.decode()
    assert f'<option value="{ann.pk}">Ann Banker (Banker)</option>' in body

    alice_client.post(url, {f"{prefix}-contact": ann.pk})
    alice_client.post(url, {f"{prefix}-placeholder": " commercial   landlord "})
    helpers = list(GoalHelper.objects.filter(goal=goal))
    assert [(h.contact, h.placeholder) for h in helpers] == [
        (ann, ""),
        (None, "commercial landlord"),
    ]

    response = alice_client.post(url, {f"{prefix}-placeholder": ""})
    assert response.status_code == 400
    assert "Pick one of your contacts, or say who you are looking for." in response.content.decode()

    theirs = contact(charlie, "Charlie's Secret Contact")
    response = alice_client.post(
        url, {f"{prefix}-contact": theirs.pk, f"{prefix}-placeholder": "kept text"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "That person is not in your contacts." in body
    assert "kept text" in body
    assert "Charlie&#x27;s Secret Contact" not in body and "Charlie's Secret Contact" not in body
    response = alice_client.post(url, {f"{prefix}-placeholder": "z" * 121})
    assert response.status_code == 400
    assert GoalHelper.objects.filter(goal=goal).count() == 2

    alice_client.post(reverse("plan:helper_delete", args=[helpers[1].pk]))
    assert list(GoalHelper.objects.filter(goal=goal)) == [helpers[0]]


# --- Gaps and next steps ----------------------------------------------------------------------


@pytest.fixture
def network(alice):
    """alice's sphere: a mortgage broker she is connected to, a bookkeeper she only knows, no
    home inspector at all; Dan the florist is her strongest connection."""
    plan_for(alice, ["Mortgage broker", "Bookkeeper", "Home inspector"])
    bob = contact(alice, "Bob Broker", "Loan officer", Stage.CONNECTION, strength=50)
    carol = contact(alice, "Carol Books", "Bookkeeping services", Stage.ACQUAINTANCE, strength=70)
    dan = contact(alice, "Dan Flowers", "Florist", Stage.CONNECTION, strength=80)
    contact(alice, "Old Inspector", "Home inspector", Stage.CONNECTION, is_archived=True)
    helped = BusinessGoal.objects.create(owner=alice, text="Find a new office", position=1)
    GoalHelper.objects.create(owner=alice, goal=helped, contact=bob)
    wanted = BusinessGoal.objects.create(owner=alice, text="Win corporate clients", position=2)
    GoalHelper.objects.create(owner=alice, goal=wanted, placeholder="HR director")
    lonely = BusinessGoal.objects.create(owner=alice, text="Write a book", position=3)
    return {"bob": bob, "carol": carol, "dan": dan, "wanted": wanted, "lonely": lonely}


def test_gaps_on_a_hand_built_network(alice, network):
    found = {gap.key: gap for gap in gaps(alice)}
    assert set(found) == {
        "sphere:bookkeeper",
        "sphere:home inspector",
        f"goal:{network['wanted'].pk}",
        f"goal:{network['lonely'].pk}",
    }
    bookkeeper = found["sphere:bookkeeper"]
    assert bookkeeper.kind == "not_connected"
    assert bookkeeper.contact == network["carol"]
    assert bookkeeper.step == "Book a one-to-one with Carol Books (Bookkeeper)."

    inspector = found["sphere:home inspector"]
    assert inspector.kind == "unknown"  # the archived inspector does not count
    assert inspector.contact == network["dan"]  # the strongest connection
    assert inspector.title == "Ask Dan Flowers which Home inspector they use and trust"

    wanted = found[f"goal:{network['wanted'].pk}"]
    assert "HR director" in wanted.text
    assert wanted.title.startswith("Ask Dan Flowers to introduce me to a HR director")
    assert (
        found[f"goal:{network['lonely'].pk}"].title
        == "Ask Dan Flowers who could help me Write a book"
    )


def test_a_gap_becomes_a_follow_up_once(alice_client, alice, network):
    url = reverse("plan:gap_step")
    response = alice_client.post(url, {"key": "sphere:home inspector"})
    assert response.status_code == 302
    followup = FollowUp.objects.get(owner=alice)
    assert followup.contact == network["dan"]
    assert followup.title == "Ask Dan Flowers which Home inspector they use and trust"
    assert followup.due_on == timezone.localdate() + timedelta(days=3)

    alice_client.post(url, {"key": "sphere:home inspector"})  # a second click
    assert FollowUp.objects.filter(owner=alice).count() == 1

    body = alice_client.get(PLAN).content.decode()
    assert reverse("followups:edit", args=[followup.pk]) in body
    assert body.count("Make it a follow-up") == 3  # the other three gaps

    # The ranking changes (Bob becomes the strongest): still the same gap, no second one.
    Contact.objects.filter(pk=network["bob"].pk).update(strength=99)
    alice_client.post(url, {"key": "sphere:home inspector"})
    assert FollowUp.objects.filter(owner=alice).count() == 1

    # Once done, the gap may be asked again.
    followup.mark_done()
    alice_client.post(url, {"key": "sphere:home inspector"})
    assert FollowUp.objects.filter(owner=alice).count() == 2


def test_acquaintance_gap_follow_up_is_with_them(alice_client, alice, network):
    alice_client.post(reverse("plan:gap_step"), {"key": "sphere:bookkeeper"})
    followup = FollowUp.objects.get(owner=alice)
    assert followup.contact == network["carol"]
    assert followup.title == "Book a one-to-one with Carol Books (Bookkeeper)"


def test_no_connections_no_button(alice_client, alice):
    plan_for(alice, ["Bookkeeper"])
    body = alice_client.get(PLAN).content.decode()
    assert "Look for a Bookkeeper at your next event." in body
    assert "Make it a follow-up" not in body
    response = alice_client.post(reverse("plan:gap_step"), {"key": "sphere:bookkeeper"})
    assert response.status_code == 404
    assert not FollowUp.objects.exists()


def test_gap_step_requires_post(alice_client, network):
    assert alice_client.get(reverse("plan:gap_step")).status_code == 405
    assert not FollowUp.objects.exists()


# --- Event prep and capture ---------------------------------------------------------------------


def test_event_prep_lists_whom_to_look_for(alice_client, network):
    response = alice_client.get(reverse("plan:event_prep"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Home inspector" in body and "Bookkeeper" in body
    assert "someone who is a HR director" in body
    assert "Write a book" in body


def _capture_form(alice_client) -> dict:
    response = alice_client.get(reverse("plan:event_capture"))
    assert response.status_code == 200
    token = response.context["form"].initial["token"]
    data = {
        "token": token,
        "event": "Chamber breakfast",
        "date": timezone.localdate().isoformat(),
        "people-TOTAL_FORMS": "6",
        "people-INITIAL_FORMS": "0",
        "people-MIN_NUM_FORMS": "0",
        "people-MAX_NUM_FORMS": "6",
    }
    for i in range(6):
        data.update(
            {
                f"people-{i}-name": "",
                f"people-{i}-profession": "",
                f"people-{i}-fact_kind": "",
                f"people-{i}-fact_text": "",
            }
        )
    return data


def test_event_capture_adds_people_meeting_facts_and_follow_ups(alice_client, alice):
    data = _capture_form(alice_client)
    data.update(
        {
            "people-0-name": "Erin Stager",
            "people-0-profession": "Home stager",
            "people-0-fact_kind": "goal",
            "people-0-fact_text": "Wants to work with more realtors",
            "people-3-name": "Frank Mover",
            "people-3-profession": "Mover",
        }
    )
    response = alice_client.post(reverse("plan:event_capture"), data)
    assert response.status_code == 302

    people = list(Contact.objects.filter(owner=alice).order_by("name"))
    assert [p.name for p in people] == ["Erin Stager", "Frank Mover"]
    day = timezone.localdate()
    assert all(p.met_how == f"Met at Chamber breakfast on {day:%-d %B %Y}" for p in people)
    assert all(p.last_touched_at is not None for p in people)

    meeting = Meeting.objects.get(owner=alice)
    assert meeting.kind == MeetingKind.EVENT
    assert meeting.place == "Chamber breakfast"
    assert set(meeting.attendees.all()) == set(people)

    fact = GainsFact.objects.get(owner=alice)
    assert (fact.contact.name, fact.kind, fact.text) == (
        "Erin Stager",
        "goal",
        "Wants to work with more realtors",
    )
    followups = FollowUp.objects.filter(owner=alice)
    assert {f.contact.name for f in followups} == {"Erin Stager", "Frank Mover"}
    assert {(f.title, f.due_on) for f in followups} == {
        ("Follow up within 48 hours", day + timedelta(days=2))
    }

    # The same form posted again (a double click, the back button): nothing twice.
    alice_client.post(reverse("plan:event_capture"), data)
    assert Contact.objects.filter(owner=alice).count() == 2
    assert Meeting.objects.filter(owner=alice).count() == 1
    assert FollowUp.objects.filter(owner=alice).count() == 2


def test_event_capture_same_people_with_a_fresh_token_is_not_duplicated(alice_client, alice):
    data = _capture_form(alice_client)
    data.update({"people-0-name": "Gina Florist"})
    alice_client.post(reverse("plan:event_capture"), data)
    again = _capture_form(alice_client)
    again.update({"people-0-name": "Gina Florist"})
    alice_client.post(reverse("plan:event_capture"), again)
    assert Contact.objects.filter(owner=alice).count() == 1


def test_event_capture_row_errors_keep_input(alice_client, alice):
    data = _capture_form(alice_client)
    data.update(
        {
            "people-0-name": "Hana Designer",
            "people-1-profession": "Printer",  # no name
            "people-2-name": "Ivan",
            "people-2-fact_text": "Loves sailing",  # no GAINS letter
        }
    )
    response = alice_client.post(reverse("plan:event_capture"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Add a name, or clear this row." in body
    assert "Which GAINS letter is it?" in body
    assert "Hana Designer" in body and "Loves sailing" in body and "Printer" in body
    assert not Contact.objects.exists()

    empty = _capture_form(alice_client)
    response = alice_client.post(reverse("plan:event_capture"), empty)
    assert response.status_code == 400
    assert "Add at least one person you met." in response.content.decode()

    future = _capture_form(alice_client)
    future.update(
        {
            "people-0-name": "Jo",
            "date": (timezone.localdate() + timedelta(days=3)).isoformat(),
        }
    )
    assert alice_client.post(reverse("plan:event_capture"), future).status_code == 400
    assert not Contact.objects.exists()


# --- Isolation --------------------------------------------------------------------------------


def test_it_checks_ownership(client, alice, charlie, network):
    NetworkingPlan.objects.filter(owner=alice).update(
        preferred_client="MARKER-CLIENT", client_tags=["MARKER-TAG"]
    )
    helper = GoalHelper.objects.filter(owner=alice).first()
    goal = network["wanted"]
    client.force_login(charlie)
    assert (
        client.post(
            reverse("plan:goal_edit", args=[goal.pk]), {f"goal{goal.pk}-text": "x"}
        ).status_code
        == 404
    )
    assert client.post(reverse("plan:goal_delete", args=[goal.pk])).status_code == 404
    assert (
        client.post(
            reverse("plan:helper_add", args=[goal.pk]), {f"helper{goal.pk}-placeholder": "x"}
        ).status_code
        == 404
    )
    assert client.post(reverse("plan:helper_delete", args=[helper.pk])).status_code == 404
    assert client.post(reverse("plan:gap_step"), {"key": f"goal:{goal.pk}"}).status_code == 404
    assert BusinessGoal.objects.filter(owner=alice).count() == 3
    assert GoalHelper.objects.filter(owner=alice).count() == 2
    assert not FollowUp.objects.exists()

    markers = ["MARKER", "Win corporate clients", "HR director", "Dan Flowers", "Carol Books"]
    for url in (PLAN, reverse("plan:event_prep"), reverse("plan:event_capture")):
        body = client.get(url).content.decode()
        assert [m for m in markers if m in body] == [], url


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(PLAN)
    assert response.status_code == 302
    assert "login" in response.url


# --- Query counts ---------------------------------------------------------------------------


def _grow(owner, n: int) -> None:
    professions = ["Bookkeeper", "Mover", "Florist", "Home stager", "Banker"]
    stages = [Stage.CONNECTION, Stage.ACQUAINTANCE, Stage.CONTACT]
    people = [
        contact(owner, f"Person {i}", professions[i % 5], stages[i % 3], strength=i % 100)
        for i in range(n)
    ]
    plan_for(owner, ["Bookkeeper", "Mover", "Home inspector", "Title agent", "Appraiser"])
    for g in range(max(2, n // 10)):
        goal = BusinessGoal.objects.create(owner=owner, text=f"Goal {g}", position=g)
        GoalHelper.objects.create(owner=owner, goal=goal, contact=people[g % len(people)])
        GoalHelper.objects.create(owner=owner, goal=goal, placeholder=f"someone {g}")
    for i, person in enumerate(people[: n // 3]):
        FollowUp.objects.create(
            owner=owner, contact=person, title=f"Call {i}", due_on=timezone.localdate()
        )


PLAN_QUERIES = 9  # session, user, plan, goals, helpers, connections, 3 for the gaps
PREP_QUERIES = 8


@pytest.mark.parametrize("size", [3, 40])
def test_plan_pages_run_a_fixed_number_of_queries(client, size, django_assert_max_num_queries):
    owner = make_user(f"size{size}@example.com", profession="Realtor")
    _grow(owner, size)
    client.force_login(owner)
    with django_assert_max_num_queries(PLAN_QUERIES):
        assert client.get(PLAN).status_code == 200
    with django_assert_max_num_queries(PREP_QUERIES):
        assert client.get(reverse("plan:event_prep")).status_code == 200
