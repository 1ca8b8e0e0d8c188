"""A user's contacts, GAINS facts and meetings are private: outsiders get a 404, never data."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from contacts.meetings import log_meeting
from contacts.models import Contact, GainsFact, GainsKind, Meeting, MeetingKind, Stage, Tag

pytestmark = pytest.mark.django_db


def _local_input(when) -> str:
    """A datetime as a datetime-local input value in charlie's (default UTC) time zone."""
    return when.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def alices(alice):
    """Alice's network: two contacts (one tagged), a GAINS fact and a meeting with both."""
    tag = Tag.objects.create(owner=alice, name="chapter")
    contact = Contact.objects.create(
        owner=alice, name="Susan Planner", company="Acme Wealth", profession="planner"
    )
    contact.tags.add(tag)
    other = Contact.objects.create(owner=alice, name="Raj Realtor", stage=Stage.CONNECTION)
    fact = GainsFact.objects.create(
        owner=alice, contact=contact, kind=GainsKind.GOAL, text="Open a second studio"
    )
    meeting = log_meeting(
        owner=alice,
        occurred_at=timezone.now() - timedelta(days=2),
        kind=MeetingKind.COFFEE,
        attendees=[contact, other],
        place="Corner cafe",
    )
    return SimpleNamespace(contact=contact, other=other, fact=fact, meeting=meeting, tag=tag)


def _snapshot(user) -> dict:
    """Everything of ``user``'s that a request could change."""
    return {
        "contacts": list(
            Contact.objects.filter(owner=user)
            .order_by("pk")
            .values(
                "pk",
                "name",
                "company",
                "is_archived",
                "cadence_days",
                "last_touched_at",
                "touch_due_at",
                "updated_at",
            )
        ),
        "facts": list(
            GainsFact.objects.filter(owner=user).order_by("pk").values("pk", "text", "learned_on")
        ),
        "meetings": list(
            Meeting.objects.filter(owner=user)
            .order_by("pk")
            .values("pk", "kind", "occurred_at", "place", "notes")
        ),
        "attendees": sorted(
            Meeting.attendees.through.objects.filter(meeting__owner=user).values_list(
                "meeting_id", "contact_id"
            )
        ),
        "tags": sorted(
            Contact.tags.through.objects.filter(contact__owner=user).values_list(
                "contact_id", "tag_id"
            )
        ),
    }


def _post_data() -> dict:
    """Valid form data for every view, so a missing owner check would change something."""
    today = timezone.localdate().isoformat()
    return {
        "name": "Taken over",
        "stage": Stage.CONTACT,
        "cadence_days": "7",
        "is_expert": "unknown",
        "is_passionate": "unknown",
        "honours_referrals": "unknown",
        "tag_names": "stolen",
        "text": "Written by an outsider",
        "learned_on": today,
        "kind": MeetingKind.CALL,
        "occurred_at": _local_input(timezone.now() - timedelta(hours=1)),
        "place": "Somewhere else",
        "notes": "outsider",
    }


# (name, how to build the URL from alice's data, methods the view accepts)
ROUTES = [
    ("detail", lambda d: reverse("contacts:detail", args=[d.contact.pk]), ["get"]),
    (
        "panel",
        lambda d: reverse("contacts:panel", args=[d.contact.pk, "reciprocity"]),
        ["get"],
    ),
    ("edit", lambda d: reverse("contacts:edit", args=[d.contact.pk]), ["get", "post"]),
    ("archive", lambda d: reverse("contacts:archive", args=[d.contact.pk]), ["post"]),
    ("delete", lambda d: reverse("contacts:delete", args=[d.contact.pk]), ["get", "post"]),
    (
        "gains_add",
        lambda d: reverse("contacts:gains_add", args=[d.contact.pk, GainsKind.GOAL]),
        ["get", "post"],
    ),
    (
        "gains_edit",
        lambda d: reverse("contacts:gains_edit", args=[d.contact.pk, d.fact.pk]),
        ["get", "post"],
    ),
    (
        "gains_delete",
        lambda d: reverse("contacts:gains_delete", args=[d.contact.pk, d.fact.pk]),
        ["post"],
    ),
    ("pick", lambda d: reverse("contacts:pick", args=[d.contact.pk]), ["get"]),
    (
        "meeting_edit",
        lambda d: reverse("contacts:meeting_edit", args=[d.meeting.pk]),
        ["get", "post"],
    ),
    ("meeting_delete", lambda d: reverse("contacts:meeting_delete", args=[d.meeting.pk]), ["post"]),
    (
        "meeting_log",
        lambda d: reverse("contacts:meeting_log") + f"?contact={d.contact.pk}",
        ["get", "post"],
    ),
]

CASES = [
    pytest.param(name, url, method, id=f"{name}-{method}")
    for name, url, methods in ROUTES
    for method in methods
]
GET_CASES = [pytest.param(name, url, id=name) for name, url, methods in ROUTES if "get" in methods]


@pytest.mark.parametrize(("name", "url"), GET_CASES)
def test_owner_can_open_it(alice_client, alices, name, url):
    """The URLs below are right: the owner gets the page, so a 404 means 'not yours'."""
    response = alice_client.get(url(alices))
    assert response.status_code == 200
    html = response.content.decode()
    ledger_link = f"?partner={alices.contact.pk}"  # the reciprocity panel's, of this contact
    shown = (alices.contact.name, alices.fact.text, ledger_link)
    assert any(marker in html for marker in shown)


@pytest.mark.parametrize(("name", "url", "method"), CASES)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_other_user_gets_404(charlie_client, charlie, alices, name, url, method, htmx):
    # Charlie has a contact of his own, so a form that would accept it is not the reason.
    own = Contact.objects.create(owner=charlie, name="Charlie's friend")
    before = _snapshot(alices.contact.owner)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    if method == "get":
        response = charlie_client.get(url(alices), **headers)
    else:
        data = {**_post_data(), "attendees": [own.pk]}
        response = charlie_client.post(url(alices), data, **headers)

    assert response.status_code == 404
    html = response.content.decode()
    assert alices.contact.name not in html
    assert alices.fact.text not in html
    assert _snapshot(alices.contact.owner) == before
    assert not Meeting.objects.filter(owner=charlie).exists()
    assert not GainsFact.objects.filter(owner=charlie).exists()


@pytest.mark.parametrize("route", ["gains_edit", "gains_delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_other_users_fact_under_own_contact_gets_404(
    charlie_client, charlie, alices, route, method
):
    """Pairing one's own contact id with someone else's fact id does not reach the fact."""
    own = Contact.objects.create(owner=charlie, name="Charlie's friend")
    url = reverse(f"contacts:{route}", args=[own.pk, alices.fact.pk])
    before = _snapshot(alices.contact.owner)
    if method == "get":
        response = charlie_client.get(url)
        expected = 405 if route == "gains_delete" else 404
    else:
        response = charlie_client.post(url, _post_data())
        expected = 404
    assert response.status_code == expected
    assert _snapshot(alices.contact.owner) == before


def test_fact_of_another_own_contact_gets_404(alice_client, alice, alices):
    """A fact is reached only through the contact it belongs to."""
    url = reverse("contacts:gains_delete", args=[alices.other.pk, alices.fact.pk])
    assert alice_client.post(url).status_code == 404
    assert GainsFact.objects.filter(pk=alices.fact.pk).exists()


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_other_users_contact_as_attendee_is_refused(charlie_client, charlie, alices, htmx):
    own = Contact.objects.create(owner=charlie, name="Charlie's friend")
    before = _snapshot(alices.contact.owner)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = charlie_client.post(
        reverse("contacts:meeting_log"),
        {
            "attendees": [own.pk, alices.contact.pk],
            "kind": MeetingKind.COFFEE,
            "occurred_at": _local_input(timezone.now() - timedelta(hours=1)),
            "fact_0_kind": GainsKind.GOAL,
            "fact_0_text": "Planted by an outsider",
        },
        **headers,
    )

    assert response.status_code == (422 if htmx else 200)
    html = response.content.decode()
    assert "One of the people picked is not in your contacts." in html
    assert alices.contact.name not in html
    assert not Meeting.objects.filter(owner=charlie).exists()
    assert not GainsFact.objects.filter(text="Planted by an outsider").exists()
    assert _snapshot(alices.contact.owner) == before
    own.refresh_from_db()
    assert own.last_touched_at is None


def test_typeahead_never_suggests_other_users_contacts(client, alice, charlie, alices):
    Contact.objects.create(owner=charlie, name="Susan Someone-else")
    client.force_login(charlie)
    for q in ["Susan", "Acme", "Raj", "a"]:
        response = client.get(reverse("contacts:typeahead"), {"q": q})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Susan Planner" not in html
        assert "Raj Realtor" not in html
        assert reverse("contacts:pick", args=[alices.contact.pk]) not in html
        assert reverse("contacts:pick", args=[alices.other.pk]) not in html
    assert "Susan Someone-else" in client.get(reverse("contacts:typeahead"), {"q": "Susan"}).text

    # The owner does get them: the queries above would have matched.
    client.force_login(alice)
    html = client.get(reverse("contacts:typeahead"), {"q": "Susan"}).content.decode()
    assert "Susan Planner" in html
    assert "Susan Someone-else" not in html


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({}, id="default"),
        pytest.param({"archived": "on"}, id="archived"),
        pytest.param({"stalled": "on"}, id="stalled"),
        pytest.param({"stage": Stage.CONNECTION}, id="stage"),
        pytest.param({"tag": "chapter"}, id="tag"),
        pytest.param({"sort": "-last_touched"}, id="sorted"),
        pytest.param({"q": "Susan"}, id="search"),
    ],
)
def test_contact_list_never_shows_other_users_contacts(client, alice, charlie, alices, query):
    # Make alice's contacts match every filter above.
    archived = Contact.objects.create(owner=alices.contact.owner, name="Archie Archived")
    archived.archive()
    Contact.objects.filter(pk=alices.other.pk).update(
        touch_due_at=timezone.now() - timedelta(days=3)
    )
    theirs = ["Susan Planner", "Raj Realtor", "Archie Archived"]
    mine = Contact.objects.create(owner=charlie, name="Charlie's friend")
    Tag.objects.create(owner=charlie, name="chapter")

    client.force_login(charlie)
    response = client.get(reverse("contacts:list"), query)
    assert response.status_code == 200
    html = response.content.decode()
    for contact in Contact.objects.filter(owner=alices.contact.owner):
        assert contact.name not in html
        assert contact.get_absolute_url() not in html
    if not query:
        assert mine.name in html.replace("&#x27;", "'")

    # The owner sees them with the same filters.
    client.force_login(alice)
    owner_html = client.get(reverse("contacts:list"), query).content.decode()
    assert any(name in owner_html for name in theirs)


def test_tag_filter_lists_only_own_tags(client, charlie, alices):
    client.force_login(charlie)
    html = client.get(reverse("contacts:list")).content.decode()
    assert '<option value="chapter"' not in html


def test_dashboard_never_shows_other_users_data(client, charlie, alices):
    client.force_login(charlie)
    html = client.get(reverse("dashboard")).content.decode()
    assert "Susan Planner" not in html
    assert "Raj Realtor" not in html


@pytest.mark.parametrize("model", [Contact, GainsFact, Meeting, Tag])
@pytest.mark.parametrize("user", [AnonymousUser(), None], ids=["anonymous", "none"])
def test_for_user_without_a_signed_in_user_is_empty(alices, model, user):
    assert model.objects.exists()
    assert list(model.objects.for_user(user)) == []


def test_for_user_returns_only_own_rows(alice, charlie, alices):
    Contact.objects.create(owner=charlie, name="Charlie's friend")
    assert set(Contact.objects.for_user(alice)) == {alices.contact, alices.other}
    assert [c.name for c in Contact.objects.for_user(charlie)] == ["Charlie's friend"]


@pytest.mark.parametrize(("name", "url"), GET_CASES)
def test_anonymous_is_sent_to_log_in(client, alices, name, url):
    response = client.get(url(alices))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
