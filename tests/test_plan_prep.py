"""The one-to-one prep brief: GAINS known and unknown with questions, the preferred-client
questions, history both ways, open follow-ups, what to offer first; 404s and query counts."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.meetings import log_meeting
from contacts.models import Contact, GainsFact, MeetingKind, Stage
from followups.models import FollowUp
from followups.models import Status as FollowUpStatus
from plan import prep as prep_brief
from plan.models import NetworkingPlan
from referrals.models import Direction, Introduction, Referral, Spend, Status

pytestmark = pytest.mark.django_db

MARKER = "QZVPRIVATEMARK"


def person(owner, name, *, facts=(), **fields) -> Contact:
    contact = Contact.objects.create(owner=owner, name=name, **fields)
    for kind, text in facts:
        GainsFact.objects.create(owner=owner, contact=contact, kind=kind, text=text)
    return contact


def text_of(response) -> str:
    body = response.content.decode()
    text = htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))
    return re.sub(r" ([,.:)])", r"\1", text)


def url(contact, **params) -> str:
    base = reverse("plan:prep", args=[contact.pk])
    if params:
        base += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return base


@pytest.fixture
def net(alice):
    alice.skills = "Office relocation planning\nPublic speaking"
    alice.save(update_fields=["skills"])
    NetworkingPlan.objects.create(owner=alice, sphere=["Mortgage broker", "Home inspector"])
    gina = person(
        alice,
        "Gina Goals",
        profession="Architect",
        stage=Stage.ACQUAINTANCE,
        facts=[
            ("goal", "Open a second office downtown"),
            ("accomplishment", "Designed the new city library"),
        ],
    )
    larry = person(
        alice, "Larry Lease", profession="Realtor", facts=[("skill", "Commercial office leases")]
    )
    noise = person(alice, "Nina Noise", facts=[("skill", "Wedding photography")])
    archived = person(
        alice, "Arch Ived", is_archived=True, facts=[("skill", "Downtown office fit-outs")]
    )
    today = timezone.localdate()
    given = Referral.objects.create(
        owner=alice,
        direction=Direction.GIVEN,
        partner=gina,
        prospect_name="Priya Prospect",
        status=Status.WON,
        closed_on=today,
        value=Decimal("1200"),
    )
    received = Referral.objects.create(
        owner=alice,
        direction=Direction.RECEIVED,
        partner=gina,
        prospect_name="Rory Received",
        status=Status.WON,
        closed_on=today,
        value=Decimal("300"),
    )
    Introduction.objects.create(owner=alice, contact_a=gina, contact_b=noise)
    Spend.objects.create(owner=alice, contact=gina, amount=Decimal("80"), description="Plans")
    open_fu = FollowUp.objects.create(
        owner=alice, contact=gina, title="Send the brochure", due_on=today + timedelta(days=2)
    )
    FollowUp.objects.create(
        owner=alice,
        contact=gina,
        title="An old finished task",
        due_on=today - timedelta(days=9),
        status=FollowUpStatus.DONE,
        completed_at=timezone.now(),
    )
    meeting = log_meeting(
        owner=alice,
        occurred_at=timezone.now() - timedelta(days=3),
        kind=MeetingKind.COFFEE,
        attendees=[gina],
        place="Corner café",
    )
    return {
        "gina": gina,
        "larry": larry,
        "noise": noise,
        "archived": archived,
        "given": given,
        "received": received,
        "followup": open_fu,
        "meeting": meeting,
    }


@pytest.fixture
def outsider(charlie):
    """Charlie's own network, full of markers that must never show in alice's brief."""
    theirs = person(charlie, f"Charlie Contact {MARKER}", facts=[("goal", f"Goal {MARKER}")])
    helper = person(
        charlie, f"Charlie Helper {MARKER}", facts=[("skill", f"Second office downtown {MARKER}")]
    )
    fu = FollowUp.objects.create(
        owner=charlie, contact=theirs, title=f"Task {MARKER}", due_on=timezone.localdate()
    )
    meeting = log_meeting(
        owner=charlie, occurred_at=timezone.now(), kind=MeetingKind.CALL, attendees=[theirs]
    )
    return {"contact": theirs, "helper": helper, "followup": fu, "meeting": meeting}


# --- Content ---------------------------------------------------------------------------


def test_brief_shows_known_gains_and_questions_for_the_unknown_parts(alice_client, net):
    response = alice_client.get(url(net["gina"]))
    assert response.status_code == 200
    page = text_of(response)
    assert "One-to-one with Gina Goals" in page
    # Known: the facts, and one question to learn more.
    assert "Open a second office downtown" in page
    assert "Designed the new city library" in page
    # Unknown: interests, networks, skills, each with its questions.
    assert "Still unknown: interests, networks, skills." in page
    assert "What do you enjoy doing when you are not working?" in page
    assert "Which groups, associations or clubs do you belong to?" in page
    assert "What do you do especially well, better than most in your trade?" in page
    # The goal is known: its full list of questions is not asked again.
    assert "What problem would you most like to solve" not in page


def test_brief_asks_the_preferred_client_questions_with_the_sphere(alice_client, net):
    page = text_of(alice_client.get(url(net["gina"])))
    assert "Who is your ideal client?" in page
    assert "Who else solves your clients' daily problems?" in page
    assert "Who do your clients let in the door" in page
    assert "Whom do your clients trust when they need a mortgage broker?" in page
    assert "Whom do your clients trust when they need a home inspector?" in page


def test_brief_shows_history_both_ways(alice_client, net):
    page = text_of(alice_client.get(url(net["gina"])))
    assert "Referrals you gave: 1, 1 closed won ($1,200)" in page
    assert "Referrals they gave you: 1, 1 closed won ($300)" in page
    assert "1 thank-you owed" in page
    assert "You → Gina Goals: Priya Prospect" in page
    assert "Gina Goals → you: Rory Received" in page
    assert "Introductions involving them: 1" in page
    assert "Gina Goals ↔ Nina Noise" in page
    assert "Money spent with them: $80 in 1 payment" in page
    assert "Corner café" in page


def test_brief_lists_open_follow_ups_only(alice_client, net):
    page = text_of(alice_client.get(url(net["gina"])))
    assert "Send the brochure" in page
    assert "An old finished task" not in page


def test_offer_first_finds_the_contact_whose_skill_meets_their_goal(alice_client, net):
    response = alice_client.get(url(net["gina"]))
    page = text_of(response)
    assert "Introduce Larry Lease" in page
    assert "Commercial office leases" in page
    assert "<mark>office</mark>" in response.content.decode()
    # Unrelated skills, archived contacts and the contact themselves are not offered.
    assert "Introduce Nina Noise" not in page
    assert "Arch Ived" not in page
    # The user's own skill from their profile.
    assert "Your own skill: “Office relocation planning”" in page


def test_offers_rank_the_best_match_first(alice, net):
    best = person(alice, "Bea Best", facts=[("network", "Landlords of downtown office buildings")])
    offers = prep_brief.offers_for(alice, net["gina"], ["Open a second office downtown"])
    assert [o.contact for o in offers][:2] == [best, net["larry"]]
    assert {w.lower() for w in offers[0].words} == {"downtown", "office"}
    assert offers[0].label == "network"


def test_a_contact_with_no_goal_gets_no_offer_and_every_part_asked(alice_client, alice, net):
    blank = person(alice, "Blank Slate")
    page = text_of(alice_client.get(url(blank)))
    assert "Still unknown: goals, accomplishments, interests, networks, skills." in page
    assert "What would make this year a great year for your business?" in page
    assert "What are you proudest of in your work so far?" in page
    assert "Learn their goals first" in page
    assert "Nothing open with Blank Slate." in page


def test_brief_for_a_follow_up_or_a_meeting_says_what_it_is_for(alice_client, net):
    page = text_of(alice_client.get(url(net["gina"], followup=net["followup"].pk)))
    assert "For: Send the brochure" in page
    page = text_of(alice_client.get(url(net["gina"], meeting=net["meeting"].pk)))
    assert "For: Coffee on" in page and "Corner café" in page


def test_the_contact_page_follow_ups_and_meeting_edit_link_to_the_brief(alice_client, net):
    gina = net["gina"]
    detail = alice_client.get(reverse("contacts:detail", args=[gina.pk])).content.decode()
    assert reverse("plan:prep", args=[gina.pk]) in detail
    followups = alice_client.get(reverse("followups:list")).content.decode()
    assert f"{reverse('plan:prep', args=[gina.pk])}?followup={net['followup'].pk}" in followups
    edit = alice_client.get(
        reverse("contacts:meeting_edit", args=[net["meeting"].pk])
    ).content.decode()
    assert f"{reverse('plan:prep', args=[gina.pk])}?meeting={net['meeting'].pk}" in edit


# --- Isolation -------------------------------------------------------------------------


def test_another_users_contact_is_404(alice_client, outsider):
    assert alice_client.get(url(outsider["contact"])).status_code == 404


def test_another_users_follow_up_or_meeting_is_404(alice_client, net, outsider):
    gina = net["gina"]
    assert alice_client.get(url(gina, followup=outsider["followup"].pk)).status_code == 404
    assert alice_client.get(url(gina, meeting=outsider["meeting"].pk)).status_code == 404


def test_a_follow_up_or_meeting_of_another_contact_or_not_an_id_is_404(alice_client, net):
    larry = net["larry"]
    assert alice_client.get(url(larry, followup=net["followup"].pk)).status_code == 404
    assert alice_client.get(url(larry, meeting=net["meeting"].pk)).status_code == 404
    assert alice_client.get(url(net["gina"], followup="abc")).status_code == 404
    assert alice_client.get(url(net["gina"], meeting="")).status_code == 404


def test_other_users_data_never_appears(alice_client, net, outsider):
    body = alice_client.get(url(net["gina"])).content.decode()
    assert MARKER not in body
    # Charlie's "second office downtown" helper is not offered to alice.
    assert "Charlie Helper" not in body


def test_brief_needs_login_and_no_post(client, alice_client, net):
    assert alice_client.post(url(net["gina"])).status_code == 405
    client.logout()
    response = client.get(url(net["gina"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Query count -----------------------------------------------------------------------

# session, user, contact, facts, sphere (plan), ledger aggregate, last referrals, last
# introductions, their count, spend totals, last spends, last meetings, open follow-ups,
# offer candidates; + the follow-up the brief is for.
MAX_QUERIES = 15
SIZES = {"small": 1, "large": 12}


def grow(owner, contact, n: int) -> None:
    today = timezone.localdate()
    others = [
        person(owner, f"Helper {i}", facts=[("skill", f"Office skill {i}"), ("network", "Office")])
        for i in range(n)
    ]
    for i in range(n):
        GainsFact.objects.create(owner=owner, contact=contact, kind="goal", text=f"Office goal {i}")
        Referral.objects.create(
            owner=owner,
            direction=[Direction.GIVEN, Direction.RECEIVED][i % 2],
            partner=contact,
            prospect_name=f"Prospect {i}",
            status=[Status.PASSED, Status.WON][i % 2],
            closed_on=today if i % 2 else None,
            value=Decimal(10 * i) if i % 2 else None,
            currency=["USD", "EUR"][i % 2],
        )
        Introduction.objects.create(owner=owner, contact_a=contact, contact_b=others[i])
        Spend.objects.create(owner=owner, contact=contact, amount=Decimal(5 + i))
        FollowUp.objects.create(owner=owner, contact=contact, title=f"Task {i}", due_on=today)
        log_meeting(
            owner=owner,
            occurred_at=timezone.now() - timedelta(days=i),
            kind=MeetingKind.CALL,
            attendees=[contact, others[i]],
        )


@pytest.mark.parametrize("size", list(SIZES))
def test_query_count_does_not_grow(alice_client, alice, net, django_assert_max_num_queries, size):
    gina = net["gina"]
    grow(alice, gina, SIZES[size])
    page = url(gina, followup=net["followup"].pk)
    alice_client.get(page)  # warm up per-process caches and the session's idle stamp
    with django_assert_max_num_queries(MAX_QUERIES):
        response = alice_client.get(page)
    assert response.status_code == 200
    assert "Introduce Helper" in text_of(response)
