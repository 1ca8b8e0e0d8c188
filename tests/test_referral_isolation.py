"""A user's referrals, introductions and spends are private: outsiders get a 404, never data.

Charlie (an outsider) tries every referrals URL that takes an id of alice's, with GET and
POST (and htmx), and every list; alice's rows stay exactly as they were.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from referrals import urls as referral_urls
from referrals.models import Direction, Introduction, Referral, Spend, Status, StatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices(alice):
    """Alice's ledger: a won received referral, an open given one, an intro, a spend."""
    today = timezone.localdate()
    susan = Contact.objects.create(owner=alice, name="Susan Secretpartner", company="Acme")
    raj = Contact.objects.create(owner=alice, name="Raj Hiddenrealtor")
    won = Referral.objects.create(
        owner=alice,
        partner=susan,
        direction=Direction.RECEIVED,
        prospect_name="Priya Privateprospect",
        referred_on=today - timedelta(days=20),
        status=Status.WON,
        value=Decimal("4321"),
        closed_on=today - timedelta(days=2),
    )
    StatusChange.objects.create(referral=won, status=Status.WON, changed_on=won.closed_on)
    open_ = Referral.objects.create(
        owner=alice,
        partner=raj,
        direction=Direction.GIVEN,
        prospect_name="Oscar Openprospect",
        referred_on=today - timedelta(days=3),
    )
    StatusChange.objects.create(referral=open_, status=Status.PASSED)
    intro = Introduction.objects.create(
        owner=alice, contact_a=susan, contact_b=raj, reason_a="Secret tri-win reason"
    )
    spend = Spend.objects.create(
        owner=alice, contact=susan, amount=Decimal("987.65"), description="Secret retainer"
    )
    return SimpleNamespace(susan=susan, raj=raj, referral=won, open=open_, intro=intro, spend=spend)


SECRETS = [
    "Susan Secretpartner",
    "Raj Hiddenrealtor",
    "Priya Privateprospect",
    "Oscar Openprospect",
    "Secret tri-win reason",
    "Secret retainer",
    "4,321",
    "987.65",
]


def _snapshot(user) -> dict:
    """Everything of ``user``'s that a request could change."""
    return {
        "referrals": list(Referral.objects.filter(owner=user).order_by("pk").values()),
        "history": list(StatusChange.objects.filter(referral__owner=user).order_by("pk").values()),
        "intros": list(Introduction.objects.filter(owner=user).order_by("pk").values()),
        "spends": list(Spend.objects.filter(owner=user).order_by("pk").values()),
        "contacts": list(
            Contact.objects.filter(owner=user).order_by("pk").values("pk", "name", "is_archived")
        ),
    }


def _assert_no_secrets(response) -> None:
    html = response.content.decode()
    for secret in SECRETS:
        assert secret not in html, secret


# (url name, which of alice's objects, methods the view accepts)
ID_VIEWS = {
    "detail": ("referral", {"GET"}),
    "edit": ("referral", {"GET", "POST"}),
    "advance": ("open", {"POST"}),
    "close": ("open", {"GET", "POST"}),
    "thanks": ("referral", {"POST"}),
    "delete": ("referral", {"GET", "POST"}),
    "intro_edit": ("intro", {"GET", "POST"}),
    "intro_delete": ("intro", {"POST"}),
    "spend_delete": ("spend", {"POST"}),
}


def test_every_url_with_an_id_is_covered():
    """A new view that takes an id must be added to ID_VIEWS (and so to these tests)."""
    with_ids = {p.name for p in referral_urls.urlpatterns if "<int:pk>" in str(p.pattern)}
    assert with_ids == set(ID_VIEWS)


def _post_data(name: str, a) -> dict:
    """Valid data, so a refusal can only come from the ownership check."""
    today = timezone.localdate().isoformat()
    if name == "edit":
        return {
            "direction": Direction.GIVEN,
            "partner": a.raj.pk,
            "prospect_name": "Hijacked",
            "referred_on": today,
            "temperature": "hot",
            "status": Status.PASSED,
            "currency": "USD",
        }
    if name == "close":
        return {"status": Status.WON, "closed_on": today, "value": "1"}
    if name == "intro_edit":
        return {
            "contact_a": a.raj.pk,
            "contact_b": a.susan.pk,
            "introduced_on": today,
            "method": "email",
            "outcome": "met",
        }
    if name == "thanks":
        return {"which": "received"}
    return {}


CASES = [
    pytest.param(name, method, id=f"{name}-{method}")
    for name, (_, methods) in ID_VIEWS.items()
    for method in sorted(methods)
]


@pytest.mark.parametrize(("name", "method"), CASES)
def test_outsider_gets_404(charlie_client, alice, alices, name, method):
    obj = getattr(alices, ID_VIEWS[name][0])
    url = reverse(f"referrals:{name}", args=[obj.pk])
    before = _snapshot(alice)

    if method == "GET":
        response = charlie_client.get(url)
    else:
        response = charlie_client.post(url, _post_data(name, alices))

    assert response.status_code == 404
    _assert_no_secrets(response)
    assert _snapshot(alice) == before


@pytest.mark.parametrize("name", [n for n, (_, m) in ID_VIEWS.items() if "POST" in m])
def test_outsider_gets_404_with_htmx_too(charlie_client, alice, alices, name):
    obj = getattr(alices, ID_VIEWS[name][0])
    before = _snapshot(alice)

    response = charlie_client.post(
        reverse(f"referrals:{name}", args=[obj.pk]),
        _post_data(name, alices),
        headers={"HX-Request": "true", "HX-Target": f"referral-{obj.pk}"},
    )

    assert response.status_code == 404
    _assert_no_secrets(response)
    assert _snapshot(alice) == before


@pytest.mark.parametrize("name", [n for n, (_, m) in ID_VIEWS.items() if "GET" not in m])
def test_post_only_views_refuse_get_without_data(charlie_client, alice, alices, name):
    obj = getattr(alices, ID_VIEWS[name][0])
    before = _snapshot(alice)

    response = charlie_client.get(reverse(f"referrals:{name}", args=[obj.pk]))

    assert response.status_code == 405
    _assert_no_secrets(response)
    assert _snapshot(alice) == before


@pytest.mark.parametrize(("name", "method"), CASES)
def test_owner_can_use_every_url_with_an_id(alice_client, alices, name, method):
    """The same requests succeed for alice: the 404s above are about ownership."""
    obj = getattr(alices, ID_VIEWS[name][0])
    url = reverse(f"referrals:{name}", args=[obj.pk])

    if method == "GET":
        response = alice_client.get(url)
        assert response.status_code == 200
    else:
        response = alice_client.post(url, _post_data(name, alices))
        assert response.status_code == 302


def test_owner_post_changes_what_the_outsider_could_not(alice_client, alice, alices):
    alice_client.post(reverse("referrals:advance", args=[alices.open.pk]))
    alice_client.post(reverse("referrals:spend_delete", args=[alices.spend.pk]))

    alices.open.refresh_from_db()
    assert alices.open.status == Status.CONTACTED
    assert not Spend.objects.filter(owner=alice).exists()


@pytest.mark.parametrize(
    ("url_name", "param"),
    [
        ("referrals:create", "partner"),
        ("referrals:ledger", "partner"),
        ("referrals:intro_create", "contact"),
        ("referrals:spend_create", "contact"),
    ],
)
def test_prefilling_with_another_users_contact_is_404(
    charlie_client, alice, alices, url_name, param
):
    before = _snapshot(alice)

    response = charlie_client.get(reverse(url_name), {param: alices.susan.pk})

    assert response.status_code == 404
    _assert_no_secrets(response)
    assert _snapshot(alice) == before


def test_ledger_filtered_by_an_unknown_partner_id_is_404(alice_client, alices):
    response = alice_client.get(reverse("referrals:ledger"), {"partner": 2_147_483_647})
    assert response.status_code == 404


def test_charlie_cannot_create_with_alices_contacts(charlie_client, alice, alices):
    today = timezone.localdate().isoformat()
    before = _snapshot(alice)

    responses = [
        charlie_client.post(
            reverse("referrals:create"),
            {
                "direction": Direction.GIVEN,
                "partner": alices.susan.pk,
                "prospect_name": "Sneaky",
                "referred_on": today,
                "temperature": "warm",
                "status": Status.PASSED,
                "currency": "USD",
            },
        ),
        charlie_client.post(
            reverse("referrals:intro_create"),
            {
                "contact_a": alices.susan.pk,
                "contact_b": alices.raj.pk,
                "introduced_on": today,
                "method": "email",
                "outcome": "pending",
            },
        ),
        charlie_client.post(
            reverse("referrals:spend_create"),
            {"contact": alices.susan.pk, "spent_on": today, "amount": "5", "currency": "USD"},
        ),
    ]

    for response in responses:
        assert response.status_code == 200
        assert "That person is not in your contacts." in response.content.decode()
        _assert_no_secrets(response)
    assert not Referral.objects.exclude(owner=alice).exists()
    assert not Introduction.objects.exclude(owner=alice).exists()
    assert not Spend.objects.exclude(owner=alice).exists()
    assert _snapshot(alice) == before


def test_charlie_cannot_confirm_alices_import(client, alice, charlie, alices):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice)
    client.post(
        reverse("referrals:spend_import"),
        {
            "file": SimpleUploadedFile(
                "s.csv", b"date,payee,amount\n2024-01-02,Acme,10\n", content_type="text/csv"
            ),
            "currency": "USD",
        },
    )
    token = client.session["spend_import"]["token"]
    client.force_login(charlie)

    response = client.post(
        reverse("referrals:spend_import_confirm"),
        {"token": token, "payee_0": alices.susan.pk},
        follow=True,
    )

    assert "That import has expired" in response.content.decode()
    assert Spend.objects.count() == 1  # only alice's own, from the fixture


@pytest.fixture
def charlies(charlie):
    """Charlie's own, visible data, so his lists are not empty pages."""
    gus = Contact.objects.create(owner=charlie, name="Gus Charliespartner")
    Referral.objects.create(
        owner=charlie, partner=gus, direction=Direction.GIVEN, prospect_name="Charlies Prospect"
    )
    Spend.objects.create(owner=charlie, contact=gus, amount=Decimal("12"), description="Lunch")
    other = Contact.objects.create(owner=charlie, name="Hal Charliesother")
    Introduction.objects.create(owner=charlie, contact_a=gus, contact_b=other)
    return SimpleNamespace(gus=gus)


@pytest.mark.parametrize(
    ("url_name", "own"),
    [
        ("referrals:ledger", "Charlies Prospect"),
        ("referrals:intros", "Hal Charliesother"),
        ("referrals:spends", "Lunch"),
        ("referrals:who_to_ask", "Gus Charliespartner"),
        ("dashboard", "Charlies Prospect"),
    ],
)
def test_lists_never_show_another_users_data(charlie_client, alices, charlies, url_name, own):
    response = charlie_client.get(reverse(url_name))

    assert response.status_code == 200
    assert own in response.content.decode()
    _assert_no_secrets(response)


def test_lists_with_only_another_users_data_are_empty(charlie_client, alices):
    for url_name in ["referrals:ledger", "referrals:intros", "referrals:spends"]:
        response = charlie_client.get(reverse(url_name))
        assert response.status_code == 200
        assert not response.context["page"].object_list
        _assert_no_secrets(response)
    response = charlie_client.get(reverse("referrals:ledger"))
    assert response.context["totals"]["given"] == 0
    assert response.context["totals"]["received_value"] == "0"
    assert charlie_client.get(reverse("referrals:who_to_ask")).context["rows"] == []


def test_charlies_contact_page_counts_only_his_referrals(charlie_client, alices, charlies):
    # A row of alice's pointing at charlie's contact (impossible through the forms) is ignored.
    Referral.objects.create(
        owner=alices.susan.owner,
        partner=charlies.gus,
        direction=Direction.RECEIVED,
        prospect_name="Priya Privateprospect",
        status=Status.WON,
        value=Decimal("4321"),
        closed_on=timezone.localdate(),
    )

    page = charlie_client.get(charlies.gus.get_absolute_url())
    panel = charlie_client.get(reverse("contacts:panel", args=[charlies.gus.pk, "reciprocity"]))

    assert page.status_code == panel.status_code == 200
    assert "You have sent Gus 1 referral; Gus has sent you 0." in panel.content.decode()
    for response in (page, panel):
        assert "Priya Privateprospect" not in response.content.decode()
