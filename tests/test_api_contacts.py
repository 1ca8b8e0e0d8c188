"""The REST API for contacts, GAINS facts, tags and meetings: owner scoping (other users'
ids are 404 in URLs and field errors in bodies), tokens and scopes, strict validation,
filters, cursor pagination, logging a meeting in one call, and fixed query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import ApiToken
from contacts.meetings import FactInput, log_meeting
from contacts.models import Contact, GainsFact, GainsKind, Meeting, MeetingKind, Stage, Tag

pytestmark = pytest.mark.django_db

MARKER = "ZQXMARKERCHARLIE"  # planted in charlie's data; never in alice's responses
BASE = "/api/v1"


@pytest.fixture
def write_token(alice) -> str:
    return ApiToken.issue(alice, name="write", scope="write")[1]


@pytest.fixture
def read_token(alice) -> str:
    return ApiToken.issue(alice, name="read", scope="read")[1]


@pytest.fixture
def api(client, write_token):
    """Call the API as alice with a read-write token: ``api("get", url, data=None)``."""

    def call(method: str, url: str, data=None, token: str | None = write_token, **extra):
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        if method in {"get", "delete"}:
            return getattr(client, method)(url, data, **extra)
        return getattr(client, method)(url, data, content_type="application/json", **extra)

    return call


@pytest.fixture
def charlies(charlie):
    """Charlie's contact, fact, tag and meeting, each carrying the marker."""
    tag = Tag.objects.create(owner=charlie, name=f"{MARKER}-tag")
    contact = Contact.objects.create(
        owner=charlie, name=f"{MARKER} Person", notes=MARKER, company="Acme"
    )
    contact.tags.add(tag)
    meeting = log_meeting(
        owner=charlie,
        occurred_at=timezone.now() - timedelta(days=1),
        kind=MeetingKind.COFFEE,
        attendees=[contact],
        notes=MARKER,
        facts=[FactInput(kind=GainsKind.GOAL, text=f"{MARKER} wants clients")],
    )
    return {
        "contact": contact,
        "fact": GainsFact.objects.get(contact=contact),
        "tag": tag,
        "meeting": meeting,
    }


def make_contact(owner, name: str, **fields) -> Contact:
    return Contact.objects.create(owner=owner, name=name, **fields)


# --- Owner scoping --------------------------------------------------------------------


def test_lists_show_only_the_users_own_data(api, alice, charlies):
    contact = make_contact(alice, "Susan Realtor", company="Acme")
    GainsFact.objects.create(owner=alice, contact=contact, kind="goal", text="More clients")
    log_meeting(
        owner=alice,
        occurred_at=timezone.now(),
        kind=MeetingKind.CALL,
        attendees=[contact],
    )
    urls = [
        f"{BASE}/contacts/",
        f"{BASE}/contacts/?archived=all",
        f"{BASE}/contacts/?q=Acme",
        f"{BASE}/contacts/?q={MARKER}",
        f"{BASE}/contacts/?tag={MARKER}-tag",
        f"{BASE}/contacts/?updated_since=2000-01-01T00:00:00Z&archived=all",
        f"{BASE}/gains-facts/",
        f"{BASE}/gains-facts/?contact={charlies['contact'].pk}",
        f"{BASE}/meetings/",
        f"{BASE}/meetings/?contact={charlies['contact'].pk}",
        f"{BASE}/tags/",
    ]
    for url in urls:
        response = api("get", url)
        assert response.status_code == 200, url
        assert MARKER not in response.content.decode(), url
    assert [c["name"] for c in api("get", f"{BASE}/contacts/").json()["results"]] == [
        "Susan Realtor"
    ]
    assert len(api("get", f"{BASE}/meetings/").json()["results"]) == 1


@pytest.mark.parametrize("area", ["contact", "fact", "tag", "meeting"])
def test_other_users_ids_are_404_and_nothing_changes(api, charlies, area):
    path = {"contact": "contacts", "fact": "gains-facts", "tag": "tags", "meeting": "meetings"}
    url = f"{BASE}/{path[area]}/{charlies[area].pk}/"
    assert api("get", url).status_code == 404
    if area != "meeting":
        for method in ("patch", "put"):
            response = api(method, url, {"name": "Mine now", "text": "Mine now"})
            assert response.status_code == 404, method
            assert MARKER not in response.content.decode()
    assert api("delete", url).status_code == 404
    charlies[area].refresh_from_db()  # still there, unchanged


def test_another_users_contact_in_a_body_is_a_field_error_that_reveals_nothing(
    api, charlies, alice
):
    mine = make_contact(alice, "Mine")
    theirs, missing = charlies["contact"].pk, 999_999_999
    answers = []
    for pk in (theirs, missing):
        response = api("post", f"{BASE}/gains-facts/", {"contact": pk, "kind": "goal", "text": "x"})
        assert response.status_code == 400
        assert list(response.json()) == ["contact"]
        answers.append(response.json()["contact"][0].replace(str(pk), "ID"))
    assert answers[0] == answers[1]  # the same answer as for an id that doesn't exist

    response = api(
        "post",
        f"{BASE}/meetings/",
        {"attendees": [mine.pk, theirs], "occurred_at": timezone.now().isoformat()},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["attendees"]
    assert MARKER not in response.content.decode()
    assert not Meeting.objects.filter(owner=alice).exists()
    assert GainsFact.objects.filter(owner=alice).count() == 0


# --- Authentication and scopes ------------------------------------------------------


@pytest.mark.parametrize("path", ["contacts", "gains-facts", "meetings", "tags"])
def test_anonymous_and_bad_tokens_get_401(api, path):
    url = f"{BASE}/{path}/"
    for token in (None, "rcrm_not-a-real-token"):
        response = api("get", url, token=token)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert api("post", url, {}, token=None).status_code == 401


def test_a_read_token_reads_but_cannot_write(api, alice, read_token):
    contact = make_contact(alice, "Susan")
    fact = GainsFact.objects.create(owner=alice, contact=contact, kind="goal", text="Grow")
    tag = Tag.objects.create(owner=alice, name="chapter")
    for path in ("contacts", "gains-facts", "meetings", "tags"):
        assert api("get", f"{BASE}/{path}/", token=read_token).status_code == 200
    writes = [
        ("post", f"{BASE}/contacts/", {"name": "New"}),
        ("patch", f"{BASE}/contacts/{contact.pk}/", {"name": "Renamed"}),
        ("delete", f"{BASE}/contacts/{contact.pk}/", None),
        ("post", f"{BASE}/gains-facts/", {"contact": contact.pk, "kind": "goal", "text": "x"}),
        ("delete", f"{BASE}/gains-facts/{fact.pk}/", None),
        ("post", f"{BASE}/tags/", {"name": "new"}),
        ("patch", f"{BASE}/tags/{tag.pk}/", {"name": "renamed"}),
        (
            "post",
            f"{BASE}/meetings/",
            {"attendees": [contact.pk], "occurred_at": timezone.now().isoformat()},
        ),
    ]
    for method, url, data in writes:
        assert api(method, url, data, token=read_token).status_code == 403, (method, url)
    contact.refresh_from_db()
    assert contact.name == "Susan"
    assert Contact.objects.filter(owner=alice).count() == 1
    assert not Meeting.objects.exists()
    assert GainsFact.objects.filter(pk=fact.pk).exists()


# --- Contacts: create, read, update, delete ---------------------------------------------


def test_a_write_token_creates_a_contact_reusing_tags_whatever_their_case(api, alice):
    chapter = Tag.objects.create(owner=alice, name="Chapter")
    response = api(
        "post",
        f"{BASE}/contacts/",
        {
            "name": "  Susan   Realtor ",
            "company": "Acme Homes",
            "emails": ["Susan@Example.com", "susan@example.com"],
            "phones": ["+44 113 496 0000"],
            "website": "https://acme.example",
            "tags": ["chapter", "Realtor", "#realtor"],
            "stage": "acquaintance",
            "cadence_days": 14,
            "is_expert": "yes",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Susan Realtor"
    assert body["emails"] == ["susan@example.com"]
    assert body["tags"] == ["Chapter", "Realtor"]
    assert body["gains"] == []
    assert body["last_touched_at"] is None
    contact = Contact.objects.get(pk=body["id"], owner=alice)
    assert set(contact.tags.all()) == set(Tag.objects.filter(owner=alice))
    assert chapter in contact.tags.all()
    assert Tag.objects.filter(owner=alice).count() == 2
    assert contact.touch_due_at == contact.created_at + timedelta(days=14)


def test_retrieve_shows_tags_and_gains(api, alice):
    contact = make_contact(alice, "Susan")
    contact.tags.add(Tag.objects.create(owner=alice, name="realtor"))
    fact = GainsFact.objects.create(owner=alice, contact=contact, kind="skill", text="Staging")
    body = api("get", f"{BASE}/contacts/{contact.pk}/").json()
    assert body["tags"] == ["realtor"]
    assert body["gains"] == [
        {"id": fact.pk, "kind": "skill", "text": "Staging", "learned_on": str(fact.learned_on)}
    ]


def test_patch_changes_only_what_is_sent_and_put_replaces(api, alice):
    contact = make_contact(alice, "Susan", company="Acme", city="Leeds")
    contact.tags.add(Tag.objects.create(owner=alice, name="realtor"))
    url = f"{BASE}/contacts/{contact.pk}/"

    response = api("patch", url, {"company": "Acme Homes", "cadence_days": None})
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["realtor"]
    contact.refresh_from_db()
    assert (contact.company, contact.city, contact.cadence_days) == ("Acme Homes", "Leeds", None)
    assert contact.touch_due_at is None

    # PUT needs the required fields (name); as in DRF, optional ones left out are kept.
    assert list(api("put", url, {"company": "Acme"}).json()) == ["name"]
    response = api("put", url, {"name": "Susan B", "company": "", "tags": []})
    assert response.status_code == 200, response.json()
    contact.refresh_from_db()
    assert (contact.name, contact.company, list(contact.tags.all())) == ("Susan B", "", [])

    response = api("patch", url, {"is_archived": True})
    assert response.json()["is_archived"] is True


def test_delete_removes_the_contact_and_meetings_where_they_were_alone(api, alice):
    contact, other = make_contact(alice, "Susan"), make_contact(alice, "Tom")
    now = timezone.now()
    alone = log_meeting(owner=alice, occurred_at=now, kind="call", attendees=[contact])
    shared = log_meeting(owner=alice, occurred_at=now, kind="event", attendees=[contact, other])
    assert api("delete", f"{BASE}/contacts/{contact.pk}/").status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Meeting.objects.filter(pk=alone.pk).exists()
    assert list(Meeting.objects.get(pk=shared.pk).attendees.all()) == [other]


# --- Validation ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/contacts/", "/meetings/", "/tags/"])
def test_a_format_parameter_is_ignored_not_a_404(api, alice, path):
    """JSON is the only format: ``?format=`` (any value) is an unknown parameter."""
    Contact.objects.create(owner=alice, name="Ann")
    for value in ("true", "json", "xml"):
        response = api("get", f"{BASE}{path}", {"format": value})
        assert response.status_code == 200, (path, value, response.content[:200])
        assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("contacts", {"name": "Susan", "nickname": "Sue"}),
        ("tags", {"name": "x", "nickname": "Sue"}),
        ("gains-facts", {"kind": "goal", "text": "x", "nickname": "Sue"}),
        ("meetings", {"attendees": [1], "occurred_at": "2024-01-01T10:00Z", "nickname": "Sue"}),
    ],
)
def test_an_unknown_field_is_a_400_naming_it(api, path, body):
    response = api("post", f"{BASE}/{path}/", body)
    assert response.status_code == 400
    assert response.json()["nickname"] == ["Unknown field."]


def test_an_unknown_field_inside_a_meeting_fact_is_named(api, alice):
    contact = make_contact(alice, "Susan")
    response = api(
        "post",
        f"{BASE}/meetings/",
        {
            "attendees": [contact.pk],
            "occurred_at": timezone.now().isoformat(),
            "facts": [{"kind": "goal", "text": "x", "colour": "red"}],
        },
    )
    assert response.status_code == 400
    assert response.json() == {"facts": [{"colour": ["Unknown field."]}]}


def test_wrong_types_are_reported_field_by_field(api, alice):
    response = api(
        "post",
        f"{BASE}/contacts/",
        {
            "name": "   ",
            "emails": "susan@example.com",
            "phones": ["call me"],
            "cadence_days": "often",
            "stage": "friend",
            "tags": [["nested"]],
            "website": "not a url",
            "is_archived": "perhaps",
        },
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {
        "name",
        "emails",
        "phones",
        "cadence_days",
        "stage",
        "tags",
        "website",
        "is_archived",
    }
    assert not Contact.objects.filter(owner=alice).exists()


def test_bounds_from_the_model_and_forms_apply(api, alice):
    url = f"{BASE}/contacts/"
    assert api("post", url, {"name": "x" * 121}).status_code == 400
    assert api("post", url, {"name": "Sue", "cadence_days": 0}).status_code == 400
    assert api("post", url, {"name": "Sue", "cadence_days": 100_000}).status_code == 400
    assert api("post", url, {"name": "Sue", "tags": ["t" * 41]}).status_code == 400
    assert api("post", url, {"name": "Sue", "tags": ["#"]}).json() == {
        "tags": {"0": ["A tag needs a name."]}
    }
    assert api("post", url, {"name": "Sue", "emails": ["a@b.example"] * 21}).status_code == 400
    assert not Contact.objects.filter(owner=alice).exists()


def test_invalid_json_and_a_list_body_are_400(api, client, write_token):
    response = client.post(
        f"{BASE}/contacts/",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {write_token}",
    )
    assert response.status_code == 400
    assert api("post", f"{BASE}/contacts/", [1, 2]).status_code == 400


# --- Filters and pagination --------------------------------------------------------------


def _names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return sorted(c["name"] for c in response.json()["results"])


def test_contact_filters(api, alice):
    realtor = Tag.objects.create(owner=alice, name="Realtor")
    susan = make_contact(alice, "Susan", stage=Stage.CONNECTION)
    susan.tags.add(realtor)
    tom = make_contact(alice, "Tom", stage=Stage.ACQUAINTANCE)
    GainsFact.objects.create(owner=alice, contact=tom, kind="interest", text="Sea kayaking")
    old = make_contact(alice, "Olga", is_archived=True)
    Contact.objects.filter(pk__in=[tom.pk, old.pk]).update(
        updated_at=timezone.now() - timedelta(days=10)
    )
    url = f"{BASE}/contacts/"
    assert _names(api("get", url)) == ["Susan", "Tom"]
    assert _names(api("get", url, {"stage": "connection"})) == ["Susan"]
    assert _names(api("get", url, {"tag": "realtor"})) == ["Susan"]
    assert _names(api("get", url, {"tag": "#REALTOR"})) == ["Susan"]
    assert _names(api("get", url, {"q": "kayak"})) == ["Tom"]  # a word of a GAINS fact
    # Words with the other filters: the owner's keyed words, archived or not, and the stage.
    GainsFact.objects.create(owner=alice, contact=old, kind="interest", text="Kayak races")
    assert _names(api("get", url, {"q": "kayak", "archived": "all"})) == ["Olga", "Tom"]
    assert _names(api("get", url, {"q": "kayak", "archived": "true"})) == ["Olga"]
    assert _names(api("get", url, {"q": "kayak", "stage": "connection"})) == []
    assert _names(api("get", url, {"q": "kay", "stage": "acquaintance"})) == ["Tom"]
    tom.tags.add(realtor)
    assert _names(api("get", url, {"q": "kayak", "tag": "#realtor"})) == ["Tom"]
    assert _names(api("get", url, {"q": "kayak", "tag": "Realtor", "archived": "all"})) == ["Tom"]
    assert _names(api("get", url, {"archived": "true"})) == ["Olga"]
    assert _names(api("get", url, {"archived": "all"})) == ["Olga", "Susan", "Tom"]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert _names(api("get", url, {"updated_since": since})) == ["Susan"]
    assert _names(api("get", url, {"updated_since": since, "archived": "all"})) == ["Susan"]


def test_invalid_filters_are_field_errors(api):
    response = api(
        "get", f"{BASE}/contacts/", {"updated_since": "yesterday", "stage": "x", "archived": "no"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"updated_since", "stage", "archived"}
    response = api("get", f"{BASE}/meetings/", {"contact": "abc", "since": "soon"})
    assert set(response.json()) == {"contact", "since"}
    assert api("get", f"{BASE}/gains-facts/", {"kind": "hobby"}).status_code == 400
    assert list(api("get", f"{BASE}/contacts/", {"cursor": "garbage"}).json()) == ["cursor"]


def _walk(api, url: str, params: dict) -> list[dict]:
    rows, response = [], api("get", url, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        if not body["next"]:
            return rows
        response = api("get", body["next"])


def test_the_cursor_walks_every_contact_once(api, alice):
    made = [make_contact(alice, f"Person {i}").pk for i in range(7)]
    rows = _walk(api, f"{BASE}/contacts/", {"page_size": 3})
    assert [r["id"] for r in rows] == sorted(made, reverse=True)


def test_a_sync_walk_is_in_order_of_change_and_sees_a_contact_changed_mid_walk(api, alice):
    start = timezone.now() - timedelta(hours=1)
    people = [make_contact(alice, f"Person {i}") for i in range(5)]
    for i, person in enumerate(people):
        Contact.objects.filter(pk=person.pk).update(updated_at=start + timedelta(minutes=i))
    url = f"{BASE}/contacts/"
    first = api("get", url, {"updated_since": start.isoformat(), "page_size": 2}).json()
    assert [r["id"] for r in first["results"]] == [people[0].pk, people[1].pk]
    # Changed while the client walks: it comes again, at the end.
    assert api("patch", f"{url}{people[0].pk}/", {"city": "York"}).status_code == 200
    rows = first["results"]
    response = api("get", first["next"])
    while True:
        rows += response.json()["results"]
        if not response.json()["next"]:
            break
        response = api("get", response.json()["next"])
    ids = [r["id"] for r in rows]
    assert ids == [p.pk for p in people] + [people[0].pk]
    assert rows[-1]["city"] == "York"


def test_fact_and_meeting_changes_bring_a_contact_back_into_a_sync(api, alice):
    contact = make_contact(alice, "Susan")
    old = timezone.now() - timedelta(days=3)
    Contact.objects.filter(pk=contact.pk).update(updated_at=old)
    since = {"updated_since": (old + timedelta(days=1)).isoformat()}
    assert _names(api("get", f"{BASE}/contacts/", since)) == []
    response = api(
        "post", f"{BASE}/gains-facts/", {"contact": contact.pk, "kind": "goal", "text": "x"}
    )
    assert response.status_code == 201
    assert _names(api("get", f"{BASE}/contacts/", since)) == ["Susan"]


# --- GAINS facts ---------------------------------------------------------------------


def test_gains_facts_create_list_update_delete(api, alice):
    susan, tom = make_contact(alice, "Susan"), make_contact(alice, "Tom")
    url = f"{BASE}/gains-facts/"
    response = api(
        "post",
        url,
        {
            "contact": susan.pk,
            "kind": "accomplishment",
            "text": " Won  an award ",
            "learned_on": "2024-05-01",
        },
    )
    assert response.status_code == 201, response.json()
    fact = response.json()
    assert (fact["text"], fact["learned_on"], fact["meeting"]) == (
        "Won an award",
        "2024-05-01",
        None,
    )
    api("post", url, {"contact": tom.pk, "kind": "skill", "text": "Carpentry"})
    listed = api("get", url, {"contact": susan.pk}).json()["results"]
    assert [f["text"] for f in listed] == ["Won an award"]
    assert [f["text"] for f in api("get", url, {"kind": "skill"}).json()["results"]] == [
        "Carpentry"
    ]

    response = api("patch", f"{url}{fact['id']}/", {"text": "Won two awards"})
    assert response.status_code == 200
    assert GainsFact.objects.get(pk=fact["id"]).text == "Won two awards"
    tomorrow_plus = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = api("patch", f"{url}{fact['id']}/", {"learned_on": tomorrow_plus})
    assert list(response.json()) == ["learned_on"]
    assert api("patch", f"{url}{fact['id']}/", {"text": "  "}).status_code == 400
    assert api("delete", f"{url}{fact['id']}/").status_code == 204
    assert not GainsFact.objects.filter(pk=fact["id"]).exists()


# --- Meetings -------------------------------------------------------------------------


def test_logging_a_meeting_touches_every_attendee_and_records_the_facts(api, alice):
    susan, tom = make_contact(alice, "Susan"), make_contact(alice, "Tom")
    when = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    response = api(
        "post",
        f"{BASE}/meetings/",
        {
            "attendees": [susan.pk, tom.pk],
            "kind": "coffee",
            "occurred_at": when.isoformat(),
            "place": "Café Nero",
            "notes": "Talked about the chapter",
            "facts": [
                {"kind": "goal", "text": "Ten new clients"},
                {"contact": tom.pk, "kind": "skill", "text": "Woodwork"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert sorted(body["attendees"]) == sorted([susan.pk, tom.pk])
    assert body["kind"] == "coffee"
    assert sorted((f["contact"], f["text"]) for f in body["facts"]) == sorted(
        [(susan.pk, "Ten new clients"), (tom.pk, "Ten new clients"), (tom.pk, "Woodwork")]
    )
    for person in (susan, tom):
        person.refresh_from_db()
        assert person.last_touched_at == when
        assert person.touch_due_at == when + timedelta(days=person.cadence_days)
    meeting = Meeting.objects.get(pk=body["id"], owner=alice)
    assert meeting.gains_facts.count() == 3
    assert set(GainsFact.objects.filter(contact=tom).values_list("text", flat=True)) == {
        "Ten new clients",
        "Woodwork",
    }
    assert api("get", f"{BASE}/meetings/{meeting.pk}/").json() == body


def test_meeting_input_is_checked(api, alice):
    susan, tom = make_contact(alice, "Susan"), make_contact(alice, "Tom")
    archived = make_contact(alice, "Olga", is_archived=True)
    url, now = f"{BASE}/meetings/", timezone.now()
    cases = [
        ({"attendees": [], "occurred_at": now.isoformat()}, "attendees"),
        ({"attendees": [archived.pk], "occurred_at": now.isoformat()}, "attendees"),
        ({"attendees": ["x"], "occurred_at": now.isoformat()}, "attendees"),
        (
            {"attendees": [susan.pk], "occurred_at": (now + timedelta(days=2)).isoformat()},
            "occurred_at",
        ),
        ({"attendees": [susan.pk], "occurred_at": "1850-01-01T00:00:00Z"}, "occurred_at"),
        ({"attendees": [susan.pk], "occurred_at": now.isoformat(), "kind": "lunch"}, "kind"),
        (
            {
                "attendees": [susan.pk],
                "occurred_at": now.isoformat(),
                "facts": [{"contact": tom.pk, "kind": "goal", "text": "x"}],
            },
            "facts",
        ),
        (
            {"attendees": [susan.pk], "occurred_at": now.isoformat(), "facts": [{"text": "x"}]},
            "facts",
        ),
    ]
    for body, field in cases:
        response = api("post", url, body)
        assert response.status_code == 400, body
        assert list(response.json()) == [field], body
    assert not Meeting.objects.exists()
    susan.refresh_from_db()
    assert susan.last_touched_at is None


def test_meeting_filters_and_delete_moves_the_last_touch_back(api, alice):
    susan, tom = make_contact(alice, "Susan"), make_contact(alice, "Tom")
    now = timezone.now()
    earlier = log_meeting(
        owner=alice, occurred_at=now - timedelta(days=9), kind="call", attendees=[susan]
    )
    latest = log_meeting(
        owner=alice, occurred_at=now - timedelta(days=1), kind="coffee", attendees=[susan, tom]
    )
    url = f"{BASE}/meetings/"

    def ids(params):
        response = api("get", url, params)
        assert response.status_code == 200, response.json()
        return [m["id"] for m in response.json()["results"]]

    assert ids({"contact": tom.pk}) == [latest.pk]
    assert ids({"since": (now - timedelta(days=3)).isoformat()}) == [latest.pk]
    assert ids({"until": (now - timedelta(days=3)).isoformat()}) == [earlier.pk]
    assert sorted(ids({})) == sorted([earlier.pk, latest.pk])
    assert api("patch", f"{url}{latest.pk}/", {"notes": "x"}).status_code == 405

    assert api("delete", f"{url}{latest.pk}/").status_code == 204
    susan.refresh_from_db()
    tom.refresh_from_db()
    assert susan.last_touched_at == earlier.occurred_at
    assert tom.last_touched_at is None


# --- Tags ----------------------------------------------------------------------------


def test_tags_create_rename_delete_and_names_stay_unique_whatever_the_case(api, alice, charlie):
    Tag.objects.create(owner=charlie, name="chapter")  # another user's name is no clash
    url = f"{BASE}/tags/"
    response = api("post", url, {"name": "#Chapter"})
    assert response.status_code == 201, response.json()
    tag = response.json()
    assert tag["name"] == "Chapter"
    response = api("post", url, {"name": "CHAPTER"})
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    other = api("post", url, {"name": "realtor"}).json()
    assert api("patch", f"{url}{other['id']}/", {"name": "chapter"}).status_code == 400
    assert api("patch", f"{url}{tag['id']}/", {"name": "chapter"}).json()["name"] == "chapter"
    assert api("delete", f"{url}{tag['id']}/").status_code == 204
    assert list(Tag.objects.filter(owner=alice).values_list("name", flat=True)) == ["realtor"]


# --- Query counts --------------------------------------------------------------------


def _network(owner, size: int) -> None:
    tags = [Tag.objects.create(owner=owner, name=f"tag-{i}") for i in range(3)]
    people = []
    for i in range(size):
        person = make_contact(owner, f"Person {i}")
        person.tags.set(tags[: 1 + i % 3])
        people.append(person)
        GainsFact.objects.bulk_create(
            GainsFact(owner=owner, contact=person, kind=kind, text=f"{kind} {i}")
            for kind in ("goal", "skill")
        )
    now = timezone.now()
    for i in range(size):
        log_meeting(
            owner=owner,
            occurred_at=now - timedelta(days=i),
            kind=MeetingKind.COFFEE,
            attendees=people[i : i + 3],
            facts=[FactInput(kind=GainsKind.INTEREST, text=f"Interest {i}")],
        )


# token lookup + the rows + their prefetches (tags and GAINS facts; attendees and facts)
LIST_QUERIES = {"contacts": 4, "meetings": 4, "gains-facts": 2, "tags": 2}


@pytest.mark.parametrize("size", [3, 40])
@pytest.mark.parametrize("path", sorted(LIST_QUERIES))
def test_lists_run_a_fixed_number_of_queries(api, alice, django_assert_max_num_queries, size, path):
    _network(alice, size)
    api("get", f"{BASE}/tags/")  # the token's last-used stamp is written once, here
    with django_assert_max_num_queries(LIST_QUERIES[path]):
        response = api("get", f"{BASE}/{path}/", {"page_size": 200})
    assert response.status_code == 200
    facts = GainsFact.objects.filter(owner=alice).count()
    expected = {"contacts": size, "meetings": size, "gains-facts": min(facts, 200), "tags": 3}
    assert len(response.json()["results"]) == expected[path]


# --- Schema --------------------------------------------------------------------------


def test_the_schema_documents_the_filters_and_the_meeting_body(client):
    document = client.get(f"{BASE}/openapi.json").json()
    params = {
        path: {p["name"] for p in document["paths"][f"{BASE}/{path}/"]["get"]["parameters"]}
        for path in ("contacts", "gains-facts", "meetings")
    }
    assert {"updated_since", "stage", "tag", "q", "archived", "cursor"} <= params["contacts"]
    assert {"contact", "kind"} <= params["gains-facts"]
    assert {"contact", "since", "until"} <= params["meetings"]
    create = document["paths"][f"{BASE}/meetings/"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/MeetingCreateRequest")
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Meeting"
    )
    contact = document["components"]["schemas"]["Contact"]["properties"]
    assert contact["last_touched_at"]["nullable"] is True
    assert contact["cadence_days"]["nullable"] is True
