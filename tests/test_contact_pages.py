"""Contact pages: add, edit, archive, delete, GAINS, search and filters, logging meetings."""

from __future__ import annotations

import html as htmllib
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.meetings import log_meeting
from contacts.models import Contact, GainsFact, GainsKind, Meeting, MeetingKind, Stage, Tag

pytestmark = pytest.mark.django_db

ALICE_TZ = ZoneInfo("Europe/London")  # alice's time zone (tests/conftest.py)


# --- Helpers --------------------------------------------------------------------


def local_input(when) -> str:
    """A datetime as alice types it into a datetime-local input."""
    return when.astimezone(ALICE_TZ).strftime("%Y-%m-%dT%H:%M")


def to_the_minute(when):
    return when.replace(second=0, microsecond=0)


def alice_today():
    return timezone.now().astimezone(ALICE_TZ).date()


def contact_data(**overrides) -> dict:
    data = {
        "name": "Susan Planner",
        "company": "Acme Wealth",
        "profession": "Financial planner",
        "emails": "Susan@Example.com\nsusan.work@example.com",
        "phones": "+44 20 7946 0000\n(0113) 496-0000 ext. 12",
        "website": "acme.example.com",
        "city": "Leeds",
        "address": "1 High Street",
        "met_how": "Chamber breakfast",
        "tag_names": "chapter, #planner, Chapter",
        "stage": Stage.ACQUAINTANCE,
        "cadence_days": "14",
        "is_expert": "yes",
        "is_passionate": "unknown",
        "honours_referrals": "no",
        "word_of_mouth": "Raj says she is great",
        "notes": "Prefers mornings",
    }
    data.update(overrides)
    return data


def text_of(response) -> str:
    return response.content.decode()


def field_errors(page: str) -> dict[str, list[str]]:
    """{field name: [error, ...]} for each field rendered by partials/field.html with errors."""
    errors = {}
    for block in re.findall(r'<div class="field has-error">(.*?)</div>', page, re.DOTALL):
        name = re.search(r'name="([\w-]+)"', block).group(1)
        errors[name] = [
            htmllib.unescape(e)
            for e in re.findall(r'<small class="field-error" role="alert">(.*?)</small>', block)
        ]
    return errors


def listed_names(page: str) -> list[str]:
    """Contact names in the order the contact list shows them."""
    return [
        htmllib.unescape(n)
        for n in re.findall(r'<a href="/contacts/\d+/"><strong>(.*?)</strong></a>', page)
    ]


def page_link(page: str, rel: str) -> dict | None:
    """The query of the list's "next" or "prev" page link, or None when there is none."""
    match = re.search(rf'<a href="([^"]*)"[^>]*rel="{rel}"', page)
    if not match:
        return None
    return parse_qs(urlsplit(htmllib.unescape(match.group(1))).query)


def flash_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def make(owner, name, **fields) -> Contact:
    return Contact.objects.create(owner=owner, name=name, **fields)


# --- Create ---------------------------------------------------------------------


def test_add_contact_form_is_shown(alice_client):
    response = alice_client.get(reverse("contacts:create"))
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Add a contact</h1>" in page
    for name in ["name", "emails", "phones", "website", "tag_names", "cadence_days", "stage"]:
        assert f'name="{name}"' in page


def test_add_contact_saves_it_and_opens_its_page(alice_client, alice):
    response = alice_client.post(
        reverse("contacts:create"), contact_data(name="  Susan   Planner ")
    )

    contact = Contact.objects.get(owner=alice)
    assert response.status_code == 302
    assert response.url == contact.get_absolute_url()
    assert contact.name == "Susan Planner"
    assert contact.company == "Acme Wealth"
    assert contact.emails == ["susan@example.com", "susan.work@example.com"]
    assert contact.phones == ["+44 20 7946 0000", "(0113) 496-0000 ext. 12"]
    assert contact.website == "https://acme.example.com"
    assert contact.stage == Stage.ACQUAINTANCE
    assert contact.cadence_days == 14
    assert sorted(t.name for t in contact.tags.all()) == ["chapter", "planner"]
    assert contact.last_touched_at is None
    assert contact.touch_due_at == contact.created_at + timedelta(days=14)
    assert not contact.is_archived

    page = alice_client.get(response.url)
    assert "Susan Planner is in your network." in flash_messages(page)
    html = text_of(page)
    assert "<h1>Susan Planner</h1>" in html
    assert "every 14 days" in html
    assert "not met yet" in html
    assert "#chapter" in html
    assert "mailto:susan@example.com" in html


def test_add_contact_reuses_existing_tags_ignoring_case(alice_client, alice):
    chapter = Tag.objects.create(owner=alice, name="Chapter")
    alice_client.post(reverse("contacts:create"), contact_data(tag_names="chapter"))
    contact = Contact.objects.get(owner=alice)
    assert list(contact.tags.all()) == [chapter]
    assert Tag.objects.filter(owner=alice).count() == 1


# --- Edit -----------------------------------------------------------------------


def test_edit_contact_saves_changes_and_recomputes_when_a_touch_is_due(alice_client, alice):
    contact = make(alice, "Susan", cadence_days=30)
    contact.tags.add(Tag.objects.create(owner=alice, name="old"))
    url = reverse("contacts:edit", args=[contact.pk])

    form = text_of(alice_client.get(url))
    assert 'value="Susan"' in form
    assert 'value="old"' in form

    response = alice_client.post(
        url, contact_data(name="Susan P", cadence_days="7", tag_names="new")
    )
    assert response.status_code == 302
    assert response.url == contact.get_absolute_url()
    contact.refresh_from_db()
    assert contact.name == "Susan P"
    assert contact.cadence_days == 7
    assert contact.touch_due_at == contact.created_at + timedelta(days=7)
    assert [t.name for t in contact.tags.all()] == ["new"]
    assert "Saved." in flash_messages(alice_client.get(response.url))


def test_edit_contact_with_no_cadence_is_never_due(alice_client, alice):
    contact = make(alice, "Susan", cadence_days=30, created_at=timezone.now() - timedelta(days=60))
    assert contact.is_stalled
    alice_client.post(reverse("contacts:edit", args=[contact.pk]), contact_data(cadence_days=""))
    contact.refresh_from_db()
    assert contact.cadence_days is None
    assert contact.touch_due_at is None
    assert not contact.is_stalled
    assert "no cadence" in text_of(alice_client.get(contact.get_absolute_url()))


# --- Archive, unarchive, delete ---------------------------------------------------


def test_archive_hides_a_contact_from_the_list_and_unarchive_brings_it_back(alice_client, alice):
    susan = make(alice, "Susan Planner")
    make(alice, "Raj Realtor")
    archive_url = reverse("contacts:archive", args=[susan.pk])
    list_url = reverse("contacts:list")

    assert alice_client.get(archive_url).status_code == 405
    response = alice_client.post(archive_url)
    assert response.status_code == 302
    assert response.url == susan.get_absolute_url()
    susan.refresh_from_db()
    assert susan.is_archived
    page = alice_client.get(response.url)
    assert any("archived" in m for m in flash_messages(page))
    assert ">Unarchive</button>" in text_of(page)

    assert listed_names(text_of(alice_client.get(list_url))) == ["Raj Realtor"]
    assert listed_names(text_of(alice_client.get(list_url, {"archived": "on"}))) == [
        "Susan Planner"
    ]
    typeahead = text_of(alice_client.get(reverse("contacts:typeahead"), {"q": "Susan"}))
    assert "Susan Planner" not in typeahead

    response = alice_client.post(archive_url)
    susan.refresh_from_db()
    assert not susan.is_archived
    assert "Susan Planner is back in your network." in flash_messages(
        alice_client.get(response.url)
    )
    assert listed_names(text_of(alice_client.get(list_url))) == ["Raj Realtor", "Susan Planner"]


def test_delete_shows_a_confirmation_page_first(alice_client, alice):
    susan = make(alice, "Susan Planner")
    GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.GOAL, text="A studio")
    log_meeting(owner=alice, occurred_at=timezone.now(), kind=MeetingKind.CALL, attendees=[susan])

    response = alice_client.get(reverse("contacts:delete", args=[susan.pk]))

    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Delete Susan Planner?</h1>" in page
    assert "<li>1 GAINS fact</li>" in page
    assert "removes them from 1 meeting" in page
    assert "Delete for good" in page
    assert Contact.objects.filter(pk=susan.pk).exists()


def test_delete_removes_the_contact_and_their_gains(alice_client, alice):
    susan = make(alice, "Susan Planner")
    raj = make(alice, "Raj Realtor")
    GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.GOAL, text="A studio")
    GainsFact.objects.create(owner=alice, contact=raj, kind=GainsKind.SKILL, text="Staging")
    meeting = log_meeting(
        owner=alice, occurred_at=timezone.now(), kind=MeetingKind.CALL, attendees=[susan, raj]
    )

    response = alice_client.post(reverse("contacts:delete", args=[susan.pk]))

    assert response.status_code == 302
    assert response.url == reverse("contacts:list")
    assert not Contact.objects.filter(pk=susan.pk).exists()
    assert list(GainsFact.objects.values_list("text", flat=True)) == ["Staging"]
    assert list(meeting.attendees.all()) == [raj]
    assert "Susan Planner and their GAINS profile are deleted." in flash_messages(
        alice_client.get(response.url)
    )


# --- Bad input keeps what was typed -------------------------------------------------

BAD_CONTACT_INPUT = [
    pytest.param({"name": ""}, "name", "This field is required.", id="empty-name"),
    pytest.param({"name": "   "}, "name", "", id="blank-name"),
    pytest.param({"name": "N" * 121}, "name", "at most 120 characters", id="long-name"),
    pytest.param(
        {"emails": "susan@example.com\nnot-an-email"},
        "emails",
        "Not a valid e-mail address: not-an-email",
        id="bad-email",
    ),
    pytest.param({"phones": "call me maybe"}, "phones", "Not a phone number", id="bad-phone"),
    pytest.param({"website": "not a url"}, "website", "Enter a valid URL.", id="bad-url"),
    pytest.param(
        {"tag_names": "chapter, " + "t" * 41}, "tag_names", "at most 40 characters", id="long-tag"
    ),
    pytest.param({"cadence_days": "0"}, "cadence_days", "greater than or equal to 1", id="zero"),
    pytest.param({"cadence_days": "-5"}, "cadence_days", "greater than or equal to", id="negative"),
]


@pytest.mark.parametrize(("bad", "field", "message"), BAD_CONTACT_INPUT)
@pytest.mark.parametrize("mode", ["create", "edit"])
def test_bad_contact_input_keeps_what_was_typed_and_marks_the_field(
    alice_client, alice, bad, field, message, mode
):
    if mode == "edit":
        contact = make(alice, "Original Name", company="Original Co", cadence_days=30)
        url = reverse("contacts:edit", args=[contact.pk])
    else:
        url = reverse("contacts:create")
    before = list(Contact.objects.values())

    response = alice_client.post(url, contact_data(**bad))

    assert response.status_code == 200
    page = text_of(response)
    assert "Please correct the fields marked below" in page
    errors = field_errors(page)
    assert list(errors) == [field]
    assert errors[field]
    assert any(message in e for e in errors[field]), errors
    # What was typed, good and bad, is still in the form.
    for kept in ["Acme Wealth", "Financial planner", "Chamber breakfast", "Prefers mornings"]:
        assert kept in page
    if bad[field].strip():
        assert htmllib.escape(bad[field]) in page
    assert list(Contact.objects.values()) == before


def test_contact_name_of_120_characters_is_accepted(alice_client, alice):
    alice_client.post(reverse("contacts:create"), contact_data(name="N" * 120))
    assert Contact.objects.get(owner=alice).name == "N" * 120


# --- GAINS facts ----------------------------------------------------------------


def test_add_gains_fact_from_the_inline_form(alice_client, alice):
    susan = make(alice, "Susan Planner")
    # Exactly what the inline form on the contact page sends: the text and nothing else.
    response = alice_client.post(
        reverse("contacts:gains_add", args=[susan.pk, GainsKind.GOAL]),
        {"text": "  Wants to open   a second studio "},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    fact = GainsFact.objects.get(contact=susan)
    assert (fact.kind, fact.text, fact.owner) == (
        GainsKind.GOAL,
        "Wants to open a second studio",
        alice,
    )
    assert fact.learned_on == alice_today()


def test_add_gains_fact_with_htmx_returns_the_updated_section(alice_client, alice):
    susan = make(alice, "Susan Planner")
    GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.GOAL, text="Hire")
    response = alice_client.post(
        reverse("contacts:gains_add", args=[susan.pk, GainsKind.GOAL]),
        {"text": "  Wants to open   a second studio ", "learned_on": alice_today().isoformat()},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    page = text_of(response)
    assert "<html" not in page
    assert page.strip().startswith('<section id="gains-goal"')
    assert "Wants to open a second studio" in page
    assert "Hire" in page
    fact = GainsFact.objects.get(contact=susan, text="Wants to open a second studio")
    assert (fact.kind, fact.owner, fact.learned_on) == (GainsKind.GOAL, alice, alice_today())


def test_add_gains_fact_without_htmx_goes_back_to_the_section(alice_client, alice):
    susan = make(alice, "Susan Planner")
    response = alice_client.post(
        reverse("contacts:gains_add", args=[susan.pk, GainsKind.SKILL]),
        {"text": "Home staging", "learned_on": alice_today().isoformat()},
    )
    assert response.status_code == 302
    assert response.url == f"{susan.get_absolute_url()}#gains-skill"
    assert GainsFact.objects.get(contact=susan).kind == GainsKind.SKILL
    assert "Home staging" in text_of(alice_client.get(susan.get_absolute_url()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"text": ""}, "", id="empty"),
        pytest.param({"text": "    "}, "", id="blank"),
        pytest.param({"text": "x" * 281}, "at most 280 characters", id="too-long"),
    ],
)
def test_bad_gains_fact_with_htmx_returns_the_section_with_the_error(
    alice_client, alice, data, message
):
    susan = make(alice, "Susan Planner")
    response = alice_client.post(
        reverse("contacts:gains_add", args=[susan.pk, GainsKind.GOAL]),
        {**data, "learned_on": alice_today().isoformat()},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    page = text_of(response)
    assert "<html" not in page
    assert page.strip().startswith('<section id="gains-goal"')
    assert "<details open>" in page
    assert 'aria-invalid="true"' in page
    errors = re.findall(r'<small class="field-error" role="alert">(.*?)</small>', page)
    assert errors
    assert any(message in e for e in errors)
    if data["text"].strip():
        assert f'value="{data["text"]}"' in page
    assert not GainsFact.objects.exists()


def test_empty_gains_fact_without_htmx_says_why(alice_client, alice):
    susan = make(alice, "Susan Planner")
    response = alice_client.post(
        reverse("contacts:gains_add", args=[susan.pk, GainsKind.GOAL]),
        {"text": "", "learned_on": alice_today().isoformat()},
        follow=True,
    )
    assert response.redirect_chain == [(susan.get_absolute_url(), 302)]
    assert flash_messages(response)
    assert not GainsFact.objects.exists()


def test_gains_fact_learned_in_the_future_is_refused(alice_client, alice):
    susan = make(alice, "Susan Planner")
    response = alice_client.post(
        reverse("contacts:gains_add", args=[susan.pk, GainsKind.GOAL]),
        {"text": "Later", "learned_on": (alice_today() + timedelta(days=5)).isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert not GainsFact.objects.exists()


def test_unknown_gains_kind_gets_404(alice_client, alice):
    susan = make(alice, "Susan Planner")
    url = reverse("contacts:gains_add", args=[susan.pk, "gossip"])
    assert alice_client.post(url, {"text": "x"}, HTTP_HX_REQUEST="true").status_code == 404
    assert not GainsFact.objects.exists()


def test_each_gains_section_and_fact_links_to_its_own_routes(alice_client, alice):
    susan = make(alice, "Susan Planner")
    goal = GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.GOAL, text="Hire")
    skill = GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.SKILL, text="Yoga")
    pages = [text_of(alice_client.get(susan.get_absolute_url()))]
    # The section alone, as htmx gets it after an add: the same links.
    section = reverse("contacts:gains_add", args=[susan.pk, GainsKind.SKILL])
    pages.append(text_of(alice_client.get(section, HTTP_HX_REQUEST="true")))
    for kind in GainsKind.values:
        add = reverse("contacts:gains_add", args=[susan.pk, kind])
        assert f'action="{add}"' in pages[0] and f'hx-post="{add}"' in pages[0]
    for fact, html in ((goal, pages[0]), (skill, pages[0]), (skill, pages[1])):
        edit = reverse("contacts:gains_edit", args=[susan.pk, fact.pk])
        assert f'href="{edit}"' in html and f'hx-get="{edit}"' in html
    assert f'action="{section}"' in pages[1]


def test_edit_and_delete_a_gains_fact(alice_client, alice):
    susan = make(alice, "Susan Planner")
    fact = GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.GOAL, text="Hire")
    edit_url = reverse("contacts:gains_edit", args=[susan.pk, fact.pk])

    fragment = text_of(alice_client.get(edit_url, HTTP_HX_REQUEST="true"))
    assert fragment.strip().startswith(f'<li id="fact-{fact.pk}"')
    assert 'value="Hire"' in fragment

    response = alice_client.post(
        edit_url,
        {"text": "Hire two trainers", "learned_on": "2024-03-01"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert text_of(response).strip().startswith('<section id="gains-goal"')
    assert "Hire two trainers" in text_of(response)
    fact.refresh_from_db()
    assert (fact.text, fact.kind, fact.learned_on.isoformat()) == (
        "Hire two trainers",
        GainsKind.GOAL,
        "2024-03-01",
    )

    response = alice_client.post(
        reverse("contacts:gains_delete", args=[susan.pk, fact.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Hire two trainers" not in text_of(response)
    assert "Nothing yet." in text_of(response)
    assert not GainsFact.objects.exists()


def test_edit_gains_fact_without_htmx(alice_client, alice):
    susan = make(alice, "Susan Planner")
    fact = GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.GOAL, text="Hire")
    url = reverse("contacts:gains_edit", args=[susan.pk, fact.pk])
    assert "Edit a fact about Susan Planner" in text_of(alice_client.get(url))

    response = alice_client.post(url, {"text": "", "learned_on": "2024-03-01"})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in text_of(response)
    fact.refresh_from_db()
    assert fact.text == "Hire"

    response = alice_client.post(url, {"text": "Hire more", "learned_on": "2024-03-01"})
    assert response.status_code == 302
    fact.refresh_from_db()
    assert fact.text == "Hire more"


def test_bad_gains_fact_edit_with_htmx_keeps_the_section(alice_client, alice):
    susan = make(alice, "Susan Planner")
    fact = GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.GOAL, text="Hire")
    GainsFact.objects.create(owner=alice, contact=susan, kind=GainsKind.GOAL, text="Expand")
    response = alice_client.post(
        reverse("contacts:gains_edit", args=[susan.pk, fact.pk]),
        {"text": "", "learned_on": "2024-03-01"},
        HTTP_HX_REQUEST="true",
    )
    page = text_of(response)
    assert 'role="alert"' in page
    # The edit form targets #gains-goal with outerHTML: the answer must be that section
    # (still listing the other facts), or retarget the swap to the fact's own <li>.
    retarget = response.headers.get("HX-Retarget")
    assert retarget == f"#fact-{fact.pk}" or (
        page.strip().startswith('<section id="gains-goal"') and "Expand" in page
    )


# --- Meetings: validation ---------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_meeting_more_than_a_day_ahead_is_refused(alice_client, alice, htmx):
    susan = make(alice, "Susan Planner")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = alice_client.post(
        reverse("contacts:meeting_log"),
        {
            "attendees": [susan.pk],
            "kind": MeetingKind.COFFEE,
            "occurred_at": local_input(timezone.now() + timedelta(days=1, hours=2)),
            "place": "Corner cafe",
            "fact_0_text": "Wants a studio",
        },
        **headers,
    )

    assert response.status_code == (422 if htmx else 200)
    page = text_of(response)
    assert "A meeting can&#x27;t be logged more than a day ahead." in page
    assert field_errors(page)["occurred_at"]
    assert 'value="Corner cafe"' in page
    assert 'value="Wants a studio"' in page
    assert f'<span class="chip" data-contact="{susan.pk}">' in page
    assert not Meeting.objects.exists()
    assert not GainsFact.objects.exists()
    susan.refresh_from_db()
    assert susan.last_touched_at is None


def test_meeting_later_today_is_accepted(alice_client, alice):
    susan = make(alice, "Susan Planner")
    response = alice_client.post(
        reverse("contacts:meeting_log"),
        {
            "attendees": [susan.pk],
            "kind": MeetingKind.CALL,
            "occurred_at": local_input(timezone.now() + timedelta(hours=20)),
        },
    )
    assert response.status_code == 302
    assert Meeting.objects.count() == 1


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_meeting_with_no_attendees_is_refused(alice_client, alice, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = alice_client.post(
        reverse("contacts:meeting_log"),
        {
            "kind": MeetingKind.EVENT,
            "occurred_at": local_input(timezone.now() - timedelta(hours=1)),
            "place": "Chamber breakfast",
            "notes": "Good crowd",
            "fact_0_kind": GainsKind.NETWORK,
            "fact_0_text": "Knows the mayor",
        },
        **headers,
    )

    assert response.status_code == (422 if htmx else 200)
    page = text_of(response)
    assert '<div class="form-errors" role="alert">' in page
    assert "Pick at least one person you met." in page
    assert 'value="Chamber breakfast"' in page
    assert "Good crowd</textarea>" in page
    assert 'value="Knows the mayor"' in page
    assert '<option value="network" selected>' in page
    assert not Meeting.objects.exists()
    assert not GainsFact.objects.exists()


def test_editing_a_meeting_into_the_far_future_is_refused(alice_client, alice):
    susan = make(alice, "Susan Planner")
    when = to_the_minute(timezone.now() - timedelta(days=2))
    meeting = log_meeting(owner=alice, occurred_at=when, kind=MeetingKind.CALL, attendees=[susan])
    response = alice_client.post(
        reverse("contacts:meeting_edit", args=[meeting.pk]),
        {"kind": MeetingKind.CALL, "occurred_at": local_input(timezone.now() + timedelta(days=3))},
    )
    assert response.status_code == 200
    assert field_errors(text_of(response))["occurred_at"]
    meeting.refresh_from_db()
    assert meeting.occurred_at == when


# --- HTML escaping ----------------------------------------------------------------

XSS_NAME = "<script>alert(1)</script>"
XSS_FACT = "<script>alert(2)</script> likes <b>bold</b>"


def test_html_in_names_and_facts_is_escaped_everywhere(alice_client, alice):
    evil = make(alice, XSS_NAME, company="<i>Acme</i>", profession="<u>Planner</u>")
    evil.tags.add(Tag.objects.create(owner=alice, name="<em>tag</em>"))
    GainsFact.objects.create(owner=alice, contact=evil, kind=GainsKind.INTEREST, text=XSS_FACT)
    meeting = log_meeting(
        owner=alice,
        occurred_at=timezone.now() - timedelta(hours=1),
        kind=MeetingKind.COFFEE,
        attendees=[evil],
        place="<img src=x onerror=alert(3)>",
        notes="<script>alert(4)</script>",
    )
    escaped_name = "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = {
        "list": reverse("contacts:list"),
        "detail": evil.get_absolute_url(),
        "dashboard": reverse("dashboard"),
        "typeahead": reverse("contacts:typeahead") + "?q=script",
        "pick": reverse("contacts:pick", args=[evil.pk]),
        "edit": reverse("contacts:edit", args=[evil.pk]),
        "delete": reverse("contacts:delete", args=[evil.pk]),
        "meeting_edit": reverse("contacts:meeting_edit", args=[meeting.pk]),
        "meeting_log": reverse("contacts:meeting_log") + f"?contact={evil.pk}",
    }
    for name, url in pages.items():
        response = alice_client.get(url)
        assert response.status_code == 200, name
        page = text_of(response)
        assert XSS_NAME not in page, name
        assert escaped_name in page, name
        for raw in ["<i>Acme</i>", "<u>Planner</u>", "<em>tag</em>", "<img src=x", "alert(4)</"]:
            assert raw not in page, (name, raw)

    detail = text_of(alice_client.get(evil.get_absolute_url()))
    assert "<script>alert(2)</script>" not in detail
    assert "&lt;script&gt;alert(2)&lt;/script&gt; likes &lt;b&gt;bold&lt;/b&gt;" in detail
    assert "&lt;img src=x onerror=alert(3)&gt;" in detail


def test_typeahead_escapes_what_was_typed(alice_client):
    response = alice_client.get(
        reverse("contacts:typeahead"), {"q": "<script>alert(5)</script>", "new": "1"}
    )
    page = text_of(response)
    assert "<script>alert(5)</script>" not in page
    assert "+ Add “&lt;script&gt;alert(5)&lt;/script&gt;” as a new contact" in page


# --- Contact list: search, filters, sort, pages -------------------------------------


@pytest.fixture
def network(alice, bob):
    """Five of alice's contacts, one of bob's, with distinct searchable words."""
    now = timezone.now()
    susan = make(
        alice,
        "Susan Planner",
        company="Acme Wealth",
        profession="Financial planner",
        stage=Stage.ACQUAINTANCE,
    )
    susan.tags.add(Tag.objects.create(owner=alice, name="chapter"))
    log_meeting(
        owner=alice,
        occurred_at=now - timedelta(days=3),
        kind=MeetingKind.COFFEE,
        attendees=[susan],
    )
    raj = make(
        alice,
        "Raj Patel",
        company="Patel Homes",
        profession="Realtor",
        stage=Stage.CONNECTION,
        created_at=now - timedelta(days=45),  # cadence 30: stalled for 15 days
    )
    raj.tags.add(Tag.objects.create(owner=alice, name="property"))
    GainsFact.objects.create(
        owner=alice, contact=raj, kind=GainsKind.INTEREST, text="Races yachts at regattas"
    )
    mia = make(
        alice,
        "Mia Chen",
        company="Fit Studio",
        profession="Personal trainer",
        cadence_days=None,
        created_at=now - timedelta(days=400),
    )
    old = make(alice, "Olga Archived", profession="Realtor", created_at=now - timedelta(days=90))
    old.archive()
    make(bob, "Raj Bob's", profession="Realtor", created_at=now - timedelta(days=90))
    return {"susan": susan, "raj": raj, "mia": mia, "old": old}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("susan", ["Susan Planner"], id="name"),
        pytest.param("Patel Homes", ["Raj Patel"], id="company"),
        pytest.param("trainer", ["Mia Chen"], id="profession"),
        pytest.param("chapter", ["Susan Planner"], id="tag"),
        pytest.param("#property", ["Raj Patel"], id="hash-tag"),
        pytest.param("regattas", ["Raj Patel"], id="gains-fact"),
        pytest.param("realtor", ["Raj Patel"], id="not-archived-nor-others"),
        pytest.param("nobody-matches-this", [], id="nothing"),
    ],
)
def test_search_finds_contacts_by_any_of_their_words(alice_client, network, q, expected):
    response = alice_client.get(reverse("contacts:list"), {"q": q})
    assert response.status_code == 200
    page = text_of(response)
    assert listed_names(page) == expected
    if not expected:
        assert "No contacts match." in page


def test_search_with_htmx_returns_only_the_results(alice_client, network):
    response = alice_client.get(
        reverse("contacts:list"),
        {"q": "regattas"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="contact-results",
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "<html" not in page
    assert page.strip().startswith('<div id="contact-results">')
    assert listed_names(page) == ["Raj Patel"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, ["Mia Chen", "Raj Patel", "Susan Planner"], id="default"),
        pytest.param({"stage": Stage.CONNECTION}, ["Raj Patel"], id="stage"),
        pytest.param({"stage": Stage.CONTACT}, ["Mia Chen"], id="stage-contact"),
        pytest.param({"tag": "CHAPTER"}, ["Susan Planner"], id="tag"),
        pytest.param({"stalled": "on"}, ["Raj Patel"], id="stalled"),
        pytest.param({"archived": "on"}, ["Olga Archived"], id="archived"),
        pytest.param({"stalled": "on", "stage": Stage.ACQUAINTANCE}, [], id="none"),
    ],
)
def test_filters_narrow_the_list(alice_client, network, query, expected):
    page = text_of(alice_client.get(reverse("contacts:list"), query))
    assert listed_names(page) == expected
    if not expected:
        assert "No contacts match." in page
        assert "Clear the filters" in page


def test_stalled_contacts_are_marked_in_the_list(alice_client, network):
    page = text_of(alice_client.get(reverse("contacts:list")))
    assert page.count('<span class="badge badge-warn">stalled</span>') == 1
    cards = page.split("<li>")
    raj_card = next(c for c in cards if "Raj Patel" in c)
    assert "stalled" in raj_card


def test_empty_list_invites_to_add_the_first_contact(alice_client):
    page = text_of(alice_client.get(reverse("contacts:list")))
    assert "Your network starts here" in page


@pytest.fixture
def sortable(alice):
    now = timezone.now()
    make(
        alice,
        "Ann",
        stage=Stage.CONTACT,
        last_touched_at=now - timedelta(days=10),
        cadence_days=30,
    )  # due in 20 days
    make(
        alice,
        "Bea",
        stage=Stage.CONNECTION,
        last_touched_at=now - timedelta(days=1),
        cadence_days=7,
    )  # due in 6 days
    make(
        alice,
        "Cal",
        stage=Stage.ACQUAINTANCE,
        created_at=now - timedelta(days=40),
        cadence_days=30,
    )  # never touched, due 10 days ago
    make(alice, "Dan", stage=Stage.CONTACT, cadence_days=None)  # never touched, never due


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        pytest.param("", ["Ann", "Bea", "Cal", "Dan"], id="default"),
        pytest.param("name", ["Ann", "Bea", "Cal", "Dan"], id="name"),
        pytest.param("-last_touched", ["Bea", "Ann", "Cal", "Dan"], id="recent-first"),
        pytest.param("last_touched", ["Cal", "Dan", "Ann", "Bea"], id="longest-ago-first"),
        pytest.param("overdue", ["Cal", "Bea", "Ann", "Dan"], id="overdue"),
        # Closest relationships first: connection, acquaintance, then contacts by name.
        pytest.param("stage", ["Bea", "Cal", "Ann", "Dan"], id="stage"),
    ],
)
def test_sort_options(alice_client, sortable, sort, expected):
    page = text_of(alice_client.get(reverse("contacts:list"), {"sort": sort}))
    assert listed_names(page) == expected
    if sort:
        assert f'<option value="{sort}" selected>' in page


def test_list_shows_25_contacts_a_page_and_keeps_the_filters(alice_client, alice):
    Contact.objects.bulk_create(
        [Contact(owner=alice, name=f"Contact {i:02}", stage=Stage.ACQUAINTANCE) for i in range(30)]
        + [Contact(owner=alice, name=f"Other {i:02}") for i in range(3)]
    )
    url = reverse("contacts:list")

    first = text_of(alice_client.get(url, {"stage": Stage.ACQUAINTANCE, "sort": "name"}))
    assert listed_names(first) == [f"Contact {i:02}" for i in range(25)]
    assert "30 contacts" in first
    assert "Page 1 of 2" in first
    assert page_link(first, "next") == {"stage": ["acquaintance"], "sort": ["name"], "page": ["2"]}
    assert page_link(first, "prev") is None

    second = text_of(
        alice_client.get(url, {"stage": Stage.ACQUAINTANCE, "sort": "name", "page": 2})
    )
    assert listed_names(second) == [f"Contact {i:02}" for i in range(25, 30)]
    assert "Page 2 of 2" in second
    assert page_link(second, "prev") == {
        "stage": ["acquaintance"],
        "sort": ["name"],
        "page": ["1"],
    }
    assert page_link(second, "next") is None

    assert listed_names(text_of(alice_client.get(url, {"page": 99})))[-1] == "Other 02"
    assert len(listed_names(text_of(alice_client.get(url, {"page": "x"})))) == 25


# --- Logging meetings ---------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_logging_a_meeting_touches_every_attendee_and_adds_facts(alice_client, alice, htmx):
    susan = make(alice, "Susan Planner", cadence_days=30)
    raj = make(alice, "Raj Patel", cadence_days=14)
    mia = make(alice, "Mia Chen", cadence_days=None)
    when = to_the_minute(timezone.now() - timedelta(hours=3))
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = alice_client.post(
        reverse("contacts:meeting_log"),
        {
            "attendees": [susan.pk, raj.pk, mia.pk],
            "new_attendees": ["  Nina   Newcomer ", ""],
            "kind": MeetingKind.COFFEE,
            "occurred_at": local_input(when),
            "place": "Corner cafe",
            "notes": "Talked about referrals",
            "fact_0_kind": GainsKind.GOAL,
            "fact_0_text": "Wants a second   studio",
            "fact_1_kind": GainsKind.NETWORK,
            "fact_1_text": "Knows every realtor in town",
            "fact_2_kind": GainsKind.SKILL,
            "fact_2_text": "   ",
        },
        **headers,
    )

    def summary_names(text: str) -> set[str]:
        match = re.search(r"Logged coffee with (.*?)\.", text)
        assert match, text
        return set(match.group(1).split(", "))

    everyone = {"Susan Planner", "Raj Patel", "Mia Chen", "Nina Newcomer"}
    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "meetingLogged"
        page = text_of(response)
        assert "<html" not in page
        assert summary_names(page) == everyone
        assert 'value="Corner cafe"' not in page  # a fresh form for the next one
        assert "data-contact=" not in page
    else:
        assert response.status_code == 302
        assert response.url == reverse("dashboard")
        [message] = flash_messages(alice_client.get(response.url))
        assert summary_names(message) == everyone

    meeting = Meeting.objects.get(owner=alice)
    assert (meeting.kind, meeting.occurred_at, meeting.place) == (
        MeetingKind.COFFEE,
        when,
        "Corner cafe",
    )
    nina = Contact.objects.get(owner=alice, name="Nina Newcomer")
    assert set(meeting.attendees.all()) == {susan, raj, mia, nina}
    for contact, cadence in [(susan, 30), (raj, 14), (mia, None), (nina, 30)]:
        contact.refresh_from_db()
        assert contact.last_touched_at == when, contact
        expected_due = when + timedelta(days=cadence) if cadence else None
        assert contact.touch_due_at == expected_due, contact
        facts = sorted(
            contact.gains_facts.values_list("kind", "text", "meeting", "learned_on", "owner")
        )
        assert facts == [
            (
                GainsKind.GOAL,
                "Wants a second studio",
                meeting.pk,
                when.astimezone(ALICE_TZ).date(),
                alice.pk,
            ),
            (
                GainsKind.NETWORK,
                "Knows every realtor in town",
                meeting.pk,
                when.astimezone(ALICE_TZ).date(),
                alice.pk,
            ),
        ], contact
    assert GainsFact.objects.count() == 8


def test_logging_a_meeting_with_one_person_opens_their_page(alice_client, alice):
    susan = make(alice, "Susan Planner")
    response = alice_client.post(
        reverse("contacts:meeting_log"),
        {
            "attendees": [susan.pk],
            "kind": MeetingKind.ONE_TO_ONE,
            "occurred_at": local_input(timezone.now()),
        },
    )
    assert response.status_code == 302
    assert response.url == susan.get_absolute_url()
    page = alice_client.get(response.url)
    assert "Logged one-to-one with Susan Planner." in flash_messages(page)
    assert 'class="timeline-meeting"' in text_of(page)


def test_logging_a_meeting_with_only_a_new_person_creates_them(alice_client, alice):
    response = alice_client.post(
        reverse("contacts:meeting_log"),
        {
            "new_attendees": ["Nina Newcomer"],
            "kind": MeetingKind.EVENT,
            "occurred_at": local_input(timezone.now() - timedelta(hours=1)),
        },
    )
    nina = Contact.objects.get(owner=alice)
    assert nina.name == "Nina Newcomer"
    assert response.url == nina.get_absolute_url()
    assert nina.last_touched_at is not None
    assert list(nina.meetings.all()) == list(Meeting.objects.all())


def test_an_archived_contacts_page_offers_no_quick_log(alice_client, alice):
    susan = make(alice, "Susan Planner")
    susan.archive()
    page = text_of(alice_client.get(susan.get_absolute_url()))
    assert f'name="attendees" value="{susan.pk}"' not in page
    assert "Unarchive them to log meetings" in page
    response = alice_client.get(reverse("contacts:meeting_log"), {"contact": susan.pk})
    assert response.status_code == 404


def test_htmx_quick_log_from_a_contact_page_keeps_them_picked(alice_client, alice):
    susan = make(alice, "Susan Planner")
    response = alice_client.post(
        f"{reverse('contacts:meeting_log')}?contact={susan.pk}",
        {
            "attendees": [susan.pk],
            "kind": MeetingKind.CALL,
            "occurred_at": local_input(timezone.now()),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Meeting.objects.count() == 1
    assert f'name="attendees" value="{susan.pk}"' in text_of(response)


def test_deleting_a_contact_removes_meetings_left_with_no_one(alice_client, alice):
    susan = make(alice, "Susan Planner")
    tom = make(alice, "Tom Two")
    log_meeting(owner=alice, occurred_at=timezone.now(), kind=MeetingKind.CALL, attendees=[susan])
    shared = log_meeting(
        owner=alice, occurred_at=timezone.now(), kind=MeetingKind.EVENT, attendees=[susan, tom]
    )
    alice_client.post(reverse("contacts:delete", args=[susan.pk]))
    assert list(Meeting.objects.all()) == [shared]
    assert list(shared.attendees.all()) == [tom]


def test_an_invalid_sort_keeps_the_search(alice_client, alice):
    make(alice, "Susan Planner")
    make(alice, "Tom Two")
    page = text_of(alice_client.get(reverse("contacts:list"), {"q": "Susan", "sort": "bogus"}))
    assert "Susan Planner" in page
    assert "Tom Two" not in page


def test_meeting_log_page_can_start_with_a_contact_picked(alice_client, alice):
    susan = make(alice, "Susan Planner")
    page = text_of(alice_client.get(reverse("contacts:meeting_log"), {"contact": susan.pk}))
    assert f'<input type="hidden" name="attendees" value="{susan.pk}">' in page


def test_an_older_meeting_does_not_move_the_last_touch_back(alice_client, alice):
    susan = make(alice, "Susan Planner", cadence_days=30)
    recent = to_the_minute(timezone.now() - timedelta(days=1))
    log_meeting(owner=alice, occurred_at=recent, kind=MeetingKind.CALL, attendees=[susan])

    alice_client.post(
        reverse("contacts:meeting_log"),
        {
            "attendees": [susan.pk],
            "kind": MeetingKind.COFFEE,
            "occurred_at": local_input(timezone.now() - timedelta(days=20)),
        },
    )

    assert Meeting.objects.count() == 2
    susan.refresh_from_db()
    assert susan.last_touched_at == recent
    assert susan.touch_due_at == recent + timedelta(days=30)


def test_deleting_a_meeting_moves_the_last_touch_back(alice_client, alice):
    susan = make(alice, "Susan Planner", cadence_days=30)
    raj = make(alice, "Raj Patel", cadence_days=7)
    older = log_meeting(
        owner=alice,
        occurred_at=to_the_minute(timezone.now() - timedelta(days=10)),
        kind=MeetingKind.CALL,
        attendees=[susan],
    )
    newer = log_meeting(
        owner=alice,
        occurred_at=to_the_minute(timezone.now() - timedelta(days=1)),
        kind=MeetingKind.COFFEE,
        attendees=[susan, raj],
    )

    response = alice_client.post(
        reverse("contacts:meeting_delete", args=[newer.pk]), {"next": susan.get_absolute_url()}
    )

    assert response.status_code == 302
    assert response.url == susan.get_absolute_url()
    assert "Meeting deleted." in flash_messages(alice_client.get(response.url))
    assert list(Meeting.objects.all()) == [older]
    susan.refresh_from_db()
    raj.refresh_from_db()
    assert susan.last_touched_at == older.occurred_at
    assert susan.touch_due_at == older.occurred_at + timedelta(days=30)
    assert raj.last_touched_at is None
    assert raj.touch_due_at == raj.created_at + timedelta(days=7)


def test_deleting_a_meeting_never_redirects_off_site(alice_client, alice):
    susan = make(alice, "Susan Planner")
    meeting = log_meeting(
        owner=alice, occurred_at=timezone.now(), kind=MeetingKind.CALL, attendees=[susan]
    )
    response = alice_client.post(
        reverse("contacts:meeting_delete", args=[meeting.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("dashboard")


def test_editing_a_meeting_date_recomputes_the_last_touch(alice_client, alice):
    susan = make(alice, "Susan Planner", cadence_days=30)
    older = log_meeting(
        owner=alice,
        occurred_at=to_the_minute(timezone.now() - timedelta(days=10)),
        kind=MeetingKind.CALL,
        attendees=[susan],
    )
    newer = log_meeting(
        owner=alice,
        occurred_at=to_the_minute(timezone.now() - timedelta(days=2)),
        kind=MeetingKind.COFFEE,
        attendees=[susan],
    )
    url = reverse("contacts:meeting_edit", args=[newer.pk])
    form = text_of(alice_client.get(url, {"next": susan.get_absolute_url()}))
    assert f'value="{local_input(newer.occurred_at)}"' in form
    assert f'name="next" value="{susan.get_absolute_url()}"' in form

    # Moved before the other meeting: the last touch falls back to that one.
    earlier = to_the_minute(timezone.now() - timedelta(days=20))
    response = alice_client.post(
        url,
        {
            "kind": MeetingKind.COFFEE,
            "occurred_at": local_input(earlier),
            "place": "Moved",
            "next": susan.get_absolute_url(),
        },
    )
    assert response.status_code == 302
    assert response.url == susan.get_absolute_url()
    newer.refresh_from_db()
    assert (newer.occurred_at, newer.place) == (earlier, "Moved")
    susan.refresh_from_db()
    assert susan.last_touched_at == older.occurred_at
    assert susan.touch_due_at == older.occurred_at + timedelta(days=30)

    # Moved to just now: it is the last touch again.
    latest = to_the_minute(timezone.now() - timedelta(minutes=5))
    alice_client.post(url, {"kind": MeetingKind.COFFEE, "occurred_at": local_input(latest)})
    susan.refresh_from_db()
    assert susan.last_touched_at == latest
    assert susan.touch_due_at == latest + timedelta(days=30)


# --- Stalled --------------------------------------------------------------------------


def test_stalled_is_active_contacts_past_their_cadence(alice, bob):
    now = timezone.now()
    never_met = make(alice, "Never met", created_at=now - timedelta(days=40))
    lapsed = make(alice, "Lapsed", last_touched_at=now - timedelta(days=20), cadence_days=7)
    make(alice, "Recent", last_touched_at=now - timedelta(days=5), cadence_days=30)
    make(alice, "New", created_at=now)
    make(alice, "No cadence", created_at=now - timedelta(days=400), cadence_days=None)
    archived = make(alice, "Archived", created_at=now - timedelta(days=40))
    archived.archive()
    bobs = make(bob, "Bob's lapsed", created_at=now - timedelta(days=40))

    assert set(Contact.objects.stalled()) == {never_met, lapsed, bobs}
    assert set(Contact.objects.for_user(alice).stalled()) == {never_met, lapsed}
    assert {c for c in Contact.objects.for_user(alice) if c.is_stalled} == {never_met, lapsed}
    in_a_month = now + timedelta(days=31)
    assert {c.name for c in Contact.objects.for_user(alice).stalled(now=in_a_month)} == {
        "Never met",
        "Lapsed",
        "Recent",
        "New",
    }


def test_a_meeting_takes_a_contact_out_of_stalled(alice_client, alice):
    susan = make(alice, "Susan Planner", created_at=timezone.now() - timedelta(days=40))
    assert list(Contact.objects.stalled()) == [susan]
    alice_client.post(
        reverse("contacts:meeting_log"),
        {
            "attendees": [susan.pk],
            "kind": MeetingKind.CALL,
            "occurred_at": local_input(timezone.now()),
        },
    )
    assert list(Contact.objects.stalled()) == []


def test_phone_links_are_valid_tel_uris(alice_client, alice):
    from contacts.templatetags.contact_links import tel_href

    assert tel_href("+1 (415) 555-0101") == "tel:+14155550101"
    assert tel_href("415.555.0101 ext. 12") == "tel:4155550101,12"
    susan = make(alice, "Susan Planner", phones=["+44 20 7946 0958"])
    page = alice_client.get(susan.get_absolute_url()).content.decode()
    assert 'href="tel:+442079460958"' in page


def test_the_contact_page_lists_their_tags_by_name_linking_to_the_filtered_list(
    alice_client, alice, charlie
):
    susan = make(alice, "Susan Planner")
    susan.tags.set([Tag.objects.create(owner=alice, name=n) for n in ("zeta", "b&b", "chapter")])
    other = Contact.objects.create(owner=charlie, name="Charlie's")
    other.tags.set([Tag.objects.create(owner=charlie, name="charlies-secret-tag")])

    html = text_of(alice_client.get(susan.get_absolute_url()))

    links = re.findall(r'<a class="badge badge-muted" href="([^"]+)">#([^<]+)</a>', html)
    assert links == [
        ("/contacts/?tag=b%26b", "b&amp;b"),
        ("/contacts/?tag=chapter", "chapter"),
        ("/contacts/?tag=zeta", "zeta"),
    ]
    assert "charlies-secret-tag" not in html
