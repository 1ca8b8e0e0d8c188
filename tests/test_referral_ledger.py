"""The ledger's arithmetic: totals per direction and currency, status history, reciprocity.

Money is a Decimal with a currency; amounts in different currencies are listed side by side
("€500 + $1,000"), never added up.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from referrals import charts, reciprocity
from referrals.models import (
    Direction,
    Introduction,
    Referral,
    Spend,
    Status,
    StatusChange,
)
from referrals.money import format_money, format_totals, parse_amount
from referrals.views import _totals

pytestmark = pytest.mark.django_db


def _today() -> date:
    return timezone.localdate()


def make_referral(owner, partner, direction=Direction.GIVEN, **fields) -> Referral:
    fields.setdefault("prospect_name", "Prospect")
    fields.setdefault("referred_on", _today() - timedelta(days=10))
    if fields.get("status") in (Status.WON, Status.LOST, Status.NOT_A_FIT):
        fields.setdefault("closed_on", _today() - timedelta(days=1))
    return Referral.objects.create(owner=owner, partner=partner, direction=direction, **fields)


@pytest.fixture
def susan(alice) -> Contact:
    return Contact.objects.create(owner=alice, name="Susan Park", company="Park Planning")


@pytest.fixture
def raj(alice) -> Contact:
    return Contact.objects.create(owner=alice, name="Raj Realtor")


@pytest.fixture
def charlies_contact(charlie) -> Contact:
    return Contact.objects.create(owner=charlie, name="Susan Elsewhere")


def _parts(total: str) -> set[str]:
    return set(total.split(" + "))


# --- Totals -----------------------------------------------------------------------------


@pytest.fixture
def mixed_ledger(alice, susan, raj, charlie, charlies_contact):
    """Alice: 3 given (USD and EUR won, one open), 2 received (one won, one lost)."""
    make_referral(alice, susan, Direction.GIVEN, status=Status.WON, value=Decimal("1000"))
    make_referral(
        alice, raj, Direction.GIVEN, status=Status.WON, value=Decimal("500"), currency="EUR"
    )
    make_referral(alice, susan, Direction.GIVEN, status=Status.CONTACTED)
    make_referral(alice, susan, Direction.RECEIVED, status=Status.WON, value=Decimal("2500"))
    make_referral(alice, raj, Direction.RECEIVED, status=Status.LOST)
    # Charlie's figures must never reach alice's totals.
    make_referral(
        charlie, charlies_contact, Direction.GIVEN, status=Status.WON, value=Decimal("7777")
    )


def test_totals_count_both_directions_and_won_value_per_currency(alice, mixed_ledger):
    totals = _totals(Referral.objects.for_user(alice))

    assert totals["given"] == 3
    assert totals["received"] == 2
    assert totals["open"] == 1
    assert totals["won"] == 3
    assert _parts(totals["given_value"]) == {"$1,000", "€500"}
    assert totals["given_value"] == "€500 + $1,000"  # ordered by currency code
    assert totals["received_value"] == "$2,500"


def test_totals_never_add_different_currencies(alice, susan):
    make_referral(alice, susan, status=Status.WON, value=Decimal("1000"))
    make_referral(alice, susan, status=Status.WON, value=Decimal("500"), currency="EUR")
    make_referral(alice, susan, status=Status.WON, value=Decimal("250.50"))

    totals = _totals(Referral.objects.for_user(alice))

    assert _parts(totals["given_value"]) == {"$1,250.50", "€500"}
    assert "1,500" not in totals["given_value"]
    assert "1,750" not in totals["given_value"]


def test_totals_without_closed_business_are_zero(alice, susan):
    make_referral(alice, susan, status=Status.PASSED, value=Decimal("900"))
    make_referral(alice, susan, Direction.RECEIVED, status=Status.LOST)

    totals = _totals(Referral.objects.for_user(alice))

    assert totals == {
        "given": 1,
        "received": 1,
        "open": 1,
        "won": 0,
        "given_value": "0",
        "received_value": "0",
    }


def test_ledger_page_shows_the_totals(alice_client, mixed_ledger):
    response = alice_client.get(reverse("referrals:ledger"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="stat">3</span> given' in html
    assert '<span class="stat">2</span> received' in html
    assert '<span class="stat">1</span> open' in html
    assert '<span class="stat money">€500 + $1,000</span> closed from yours' in html
    assert '<span class="stat money">$2,500</span> closed for you' in html
    assert "$1,500" not in html
    assert "7,777" not in html
    assert "Susan Elsewhere" not in html


def test_ledger_totals_follow_the_filters(alice_client, mixed_ledger, susan):
    response = alice_client.get(reverse("referrals:ledger"), {"direction": "received"})
    html = response.content.decode()
    assert '<span class="stat">0</span> given' in html
    assert '<span class="stat">2</span> received' in html
    assert '<span class="stat money">0</span> closed from yours' in html
    assert '<span class="stat money">$2,500</span> closed for you' in html

    response = alice_client.get(reverse("referrals:ledger"), {"partner": susan.pk})
    html = response.content.decode()
    assert "Referrals with Susan Park" in html
    assert '<span class="stat">2</span> given' in html
    assert '<span class="stat">1</span> received' in html
    assert '<span class="stat money">$1,000</span> closed from yours' in html
    assert "Raj Realtor" not in html

    response = alice_client.get(reverse("referrals:ledger"), {"status": "open"})
    html = response.content.decode()
    assert '<span class="stat">1</span> given' in html
    assert '<span class="stat">0</span> received' in html


def test_dashboard_month_widget_counts_this_month(alice_client, alice, susan):
    make_referral(alice, susan, Direction.RECEIVED, referred_on=_today())
    make_referral(
        alice,
        susan,
        Direction.RECEIVED,
        referred_on=_today(),
        status=Status.WON,
        value=Decimal("300"),
        closed_on=_today(),
    )
    make_referral(alice, susan, Direction.GIVEN, referred_on=_today() - timedelta(days=400))

    html = alice_client.get(reverse("dashboard")).content.decode()

    assert "This month" in html
    assert '<span class="stat">0</span> given' in html
    assert '<span class="stat">2</span> received' in html
    assert '<span class="stat money">$300</span> closed for you' in html


# --- Status history -----------------------------------------------------------------------


def _form_data(partner, **overrides) -> dict:
    data = {
        "direction": Direction.RECEIVED,
        "partner": partner.pk,
        "prospect_name": "Dana Prospect",
        "prospect_reach": "dana@example.com",
        "need": "A bigger office",
        "referred_on": _today().isoformat(),
        "temperature": "warm",
        "status": Status.PASSED,
        "value": "",
        "currency": "USD",
        "closed_on": "",
    }
    data.update(overrides)
    return data


def test_creating_a_referral_records_its_first_status(alice_client, alice, susan):
    response = alice_client.post(reverse("referrals:create"), _form_data(susan))

    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == referral.get_absolute_url()
    assert referral.owner == alice
    assert referral.partner == susan
    assert referral.direction == Direction.RECEIVED
    assert referral.status == Status.PASSED
    assert referral.closed_on is None
    assert list(referral.history.values_list("status", "changed_on")) == [(Status.PASSED, _today())]


def test_creating_a_referral_already_won_records_the_closing(alice_client, susan):
    closed = _today() - timedelta(days=2)
    data = _form_data(
        susan,
        referred_on=(_today() - timedelta(days=20)).isoformat(),
        status=Status.WON,
        value="1234.50",
        currency="EUR",
        closed_on=closed.isoformat(),
    )
    alice_client.post(reverse("referrals:create"), data)

    referral = Referral.objects.get()
    assert referral.status == Status.WON
    assert referral.value == Decimal("1234.50")
    assert referral.currency == "EUR"
    assert referral.closed_on == closed
    assert list(referral.history.values_list("status", "changed_on")) == [(Status.WON, closed)]


def test_editing_without_changing_the_status_adds_no_history(alice_client, susan):
    alice_client.post(reverse("referrals:create"), _form_data(susan))
    referral = Referral.objects.get()

    alice_client.post(
        reverse("referrals:edit", args=[referral.pk]),
        _form_data(susan, prospect_name="Dana P. Prospect"),
    )
    alice_client.post(
        reverse("referrals:edit", args=[referral.pk]),
        _form_data(susan, prospect_name="Dana P. Prospect", status=Status.MEETING_HELD),
    )

    referral.refresh_from_db()
    assert referral.prospect_name == "Dana P. Prospect"
    assert list(referral.history.values_list("status", flat=True)) == [
        Status.PASSED,
        Status.MEETING_HELD,
    ]


def test_advance_moves_one_step_at_a_time_with_history(alice_client, alice, susan):
    alice_client.post(reverse("referrals:create"), _form_data(susan))
    referral = Referral.objects.get()
    url = reverse("referrals:advance", args=[referral.pk])

    response = alice_client.post(url)
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.CONTACTED

    response = alice_client.post(url, follow=True)
    referral.refresh_from_db()
    assert referral.status == Status.MEETING_HELD
    assert "Moved to “Meeting held”." in response.content.decode()

    # Meeting held has no next step: closing it is a decision, not a click.
    response = alice_client.post(url, follow=True)
    referral.refresh_from_db()
    assert referral.status == Status.MEETING_HELD
    assert "no next step" in response.content.decode()

    assert list(referral.history.values_list("status", flat=True)) == [
        Status.PASSED,
        Status.CONTACTED,
        Status.MEETING_HELD,
    ]
    assert StatusChange.objects.count() == 3


def test_advance_with_htmx_returns_the_ledger_row(alice_client, alice, susan):
    referral = make_referral(alice, susan, Direction.RECEIVED, prospect_name="Dana Prospect")

    response = alice_client.post(
        reverse("referrals:advance", args=[referral.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "referralChanged"
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="referral-{referral.pk}">')
    assert "Contacted" in html
    assert "→ Meeting held" in html
    referral.refresh_from_db()
    assert referral.status == Status.CONTACTED


def test_closing_as_won_needs_a_value_and_a_date(alice_client, alice, susan):
    referral = make_referral(alice, susan, Direction.RECEIVED, status=Status.MEETING_HELD)
    url = reverse("referrals:close", args=[referral.pk])
    day = _today() - timedelta(days=1)

    response = alice_client.post(url, {"status": Status.WON, "closed_on": day.isoformat()})
    assert response.status_code == 200
    assert "Enter the value of the closed business" in response.content.decode()

    response = alice_client.post(url, {"status": Status.WON, "closed_on": "", "value": "2500"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()

    referral.refresh_from_db()
    assert referral.status == Status.MEETING_HELD
    assert referral.closed_on is None
    assert referral.value is None
    assert not referral.history.exists()

    response = alice_client.post(
        url, {"status": Status.WON, "closed_on": day.isoformat(), "value": "2500"}
    )
    assert response.status_code == 302
    assert response["Location"] == referral.get_absolute_url()
    referral.refresh_from_db()
    assert referral.status == Status.WON
    assert referral.closed_on == day
    assert referral.value == Decimal("2500")
    assert referral.thanks_due
    assert list(referral.history.values_list("status", "changed_on")) == [(Status.WON, day)]


def test_closing_as_lost_needs_no_value(alice_client, alice, susan):
    referral = make_referral(alice, susan, status=Status.CONTACTED)

    response = alice_client.post(
        reverse("referrals:close", args=[referral.pk]),
        {"status": Status.LOST, "closed_on": _today().isoformat()},
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.LOST
    assert referral.closed_on == _today()
    assert referral.value is None
    assert list(referral.history.values_list("status", flat=True)) == [Status.LOST]


def test_close_page_and_detail_show_the_history(alice_client, alice, susan):
    alice_client.post(reverse("referrals:create"), _form_data(susan))
    referral = Referral.objects.get()
    alice_client.post(reverse("referrals:advance", args=[referral.pk]))

    assert alice_client.get(reverse("referrals:close", args=[referral.pk])).status_code == 200
    html = alice_client.get(referral.get_absolute_url()).content.decode()

    assert "<strong>Passed</strong>" in html
    assert "<strong>Contacted</strong>" in html
    assert "Close referral" in html  # still open: the close form is on the page


def test_thanks_sets_the_date_sent(alice_client, alice, susan):
    referral = make_referral(
        alice, susan, Direction.RECEIVED, status=Status.WON, value=Decimal("100")
    )
    ledger = alice_client.get(reverse("referrals:ledger")).content.decode()
    assert "Send thanks" in ledger

    response = alice_client.post(reverse("referrals:thanks", args=[referral.pk]))

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.thanks_sent_on == _today()
    assert referral.thanks_received_on is None
    assert not referral.thanks_due
    ledger = alice_client.get(reverse("referrals:ledger")).content.decode()
    assert "Send thanks" not in ledger
    assert "thanked ✓" in ledger


def test_thanks_received_sets_its_own_date(alice_client, alice, susan):
    referral = make_referral(alice, susan, Direction.GIVEN, status=Status.WON, value=Decimal("1"))

    alice_client.post(reverse("referrals:thanks", args=[referral.pk]), {"which": "received"})

    referral.refresh_from_db()
    assert referral.thanks_received_on == _today()
    assert referral.thanks_sent_on is None


# --- Reciprocity ---------------------------------------------------------------------------


@pytest.fixture
def susans_history(alice, susan, raj, charlie, charlies_contact):
    """Alice and Susan: 2 given (1 won, $3,000), 2 received (1 won, $2,500), 3 spends, 2 intros."""
    today = _today()
    make_referral(
        alice,
        susan,
        Direction.GIVEN,
        referred_on=today - timedelta(days=40),
        status=Status.WON,
        value=Decimal("3000"),
    )
    make_referral(alice, susan, Direction.GIVEN, referred_on=today - timedelta(days=5))
    make_referral(
        alice,
        susan,
        Direction.RECEIVED,
        referred_on=today - timedelta(days=60),
        status=Status.WON,
        value=Decimal("2500"),
    )
    make_referral(alice, susan, Direction.RECEIVED, referred_on=today - timedelta(days=20))
    make_referral(alice, raj, Direction.RECEIVED, referred_on=today)  # not Susan's
    Spend.objects.create(owner=alice, contact=susan, amount=Decimal("120"), currency="USD")
    Spend.objects.create(owner=alice, contact=susan, amount=Decimal("80"), currency="USD")
    Spend.objects.create(owner=alice, contact=susan, amount=Decimal("50"), currency="EUR")
    Spend.objects.create(owner=alice, contact=raj, amount=Decimal("999"), currency="USD")
    other = Contact.objects.create(owner=alice, name="Omar Other")
    Introduction.objects.create(owner=alice, contact_a=susan, contact_b=raj)
    Introduction.objects.create(owner=alice, contact_a=other, contact_b=susan)
    Introduction.objects.create(owner=alice, contact_a=raj, contact_b=other)
    # Charlie's rows, even one forged onto alice's contact, never count for alice.
    make_referral(charlie, charlies_contact, Direction.RECEIVED)
    make_referral(charlie, susan, Direction.GIVEN, status=Status.WON, value=Decimal("5"))
    Spend.objects.create(owner=charlie, contact=susan, amount=Decimal("1"), currency="USD")


def test_balance_for_adds_up_both_ways(alice, susan, susans_history):
    balance = reciprocity.balance_for(alice, susan)
    today = _today()

    assert balance.given == 2
    assert balance.received == 2
    assert balance.given_won == 1
    assert balance.received_won == 1
    assert balance.given_value == [("USD", Decimal("3000.00"))]
    assert balance.received_value == [("USD", Decimal("2500.00"))]
    assert balance.spend == [("EUR", Decimal("50.00")), ("USD", Decimal("200.00"))]
    assert balance.spend_count == 3
    assert balance.introductions == 2
    assert balance.last_given == today - timedelta(days=5)
    assert balance.last_received == today - timedelta(days=20)
    assert balance.leaning == "owes"  # 2 referrals + 3 spends given, 2 received


def test_balance_sentence_is_plain_language(alice, susan, susans_history):
    balance = reciprocity.balance_for(alice, susan)

    assert balance.sentence == (
        "You have sent Susan 2 referrals worth $3,000; Susan has sent you 2 worth $2,500. "
        "You have spent €50 + $200 with Susan's business."
    )


def test_balance_sentence_with_nothing_yet(alice, susan):
    balance = reciprocity.balance_for(alice, susan)

    assert balance.sentence == "No referrals yet between you and Susan."
    assert balance.leaning == "even"
    assert (balance.given, balance.received, balance.introductions) == (0, 0, 0)


def test_balance_sentence_for_one_open_referral(alice, susan):
    make_referral(alice, susan, Direction.GIVEN)

    balance = reciprocity.balance_for(alice, susan)

    assert balance.sentence == "You have sent Susan 1 referral; Susan has sent you 0."


def test_balance_keeps_currencies_apart(alice, susan):
    make_referral(alice, susan, Direction.RECEIVED, status=Status.WON, value=Decimal("1000"))
    make_referral(
        alice,
        susan,
        Direction.RECEIVED,
        status=Status.WON,
        value=Decimal("500"),
        currency="EUR",
    )

    balance = reciprocity.balance_for(alice, susan)

    assert balance.received_value == [("EUR", Decimal("500.00")), ("USD", Decimal("1000.00"))]
    assert balance.sentence.endswith("Susan has sent you 2 worth €500 + $1,000.")
    assert balance.leaning == "owed"


def test_contact_page_shows_the_reciprocity_sentence(alice_client, susan, susans_history):
    page = alice_client.get(susan.get_absolute_url()).content.decode()
    panel_url = reverse("contacts:panel", args=[susan.pk, "reciprocity"])
    # The page holds the panel's place; htmx fetches it once the page is shown.
    assert f'hx-get="{panel_url}" hx-trigger="load"' in page
    assert "You have sent Susan" not in page

    html = alice_client.get(panel_url).content.decode()
    assert (
        "You have sent Susan 2 referrals worth $3,000; Susan has sent you 2 worth $2,500." in html
    )
    assert "balance-owes" in html
    assert '<figure class="chart">' in html


@pytest.fixture
def who_network(alice, charlie):
    """Partners of alice's with different balances, and charlie's own network."""
    people = {
        name: Contact.objects.create(owner=alice, name=name)
        for name in ["Amy Gets-Three", "Ben Paid", "Cat Gave-One", "Dan Even", "Eve Giver"]
    }
    archived = Contact.objects.create(owner=alice, name="Fay Archived", is_archived=True)
    for _ in range(3):
        make_referral(alice, people["Amy Gets-Three"], Direction.GIVEN)
    make_referral(alice, people["Ben Paid"], Direction.GIVEN, status=Status.WON, value=Decimal(1))
    Spend.objects.create(owner=alice, contact=people["Ben Paid"], amount=Decimal("100"))
    Spend.objects.create(
        owner=alice, contact=people["Ben Paid"], amount=Decimal("30"), currency="EUR"
    )
    make_referral(alice, people["Cat Gave-One"], Direction.GIVEN)
    make_referral(alice, people["Cat Gave-One"], Direction.GIVEN)
    make_referral(alice, people["Cat Gave-One"], Direction.RECEIVED, referred_on=date(2024, 5, 17))
    make_referral(alice, people["Dan Even"], Direction.GIVEN)
    make_referral(alice, people["Dan Even"], Direction.RECEIVED)
    make_referral(alice, people["Eve Giver"], Direction.RECEIVED)
    make_referral(alice, people["Eve Giver"], Direction.RECEIVED)
    for _ in range(5):
        make_referral(alice, archived, Direction.GIVEN)
    # Charlie gives a lot to his own contact, and (forged) to one of alice's.
    charlies = Contact.objects.create(owner=charlie, name="Gus Charlies")
    for _ in range(4):
        make_referral(charlie, charlies, Direction.GIVEN)
        make_referral(charlie, people["Dan Even"], Direction.GIVEN)
    make_referral(charlie, people["Amy Gets-Three"], Direction.RECEIVED)
    make_referral(charlie, people["Amy Gets-Three"], Direction.RECEIVED)
    Spend.objects.create(owner=charlie, contact=people["Eve Giver"], amount=Decimal("5"))
    Spend.objects.create(owner=charlie, contact=people["Eve Giver"], amount=Decimal("5"))
    Spend.objects.create(owner=charlie, contact=people["Eve Giver"], amount=Decimal("5"))
    return people


def test_who_to_ask_ranks_who_took_most_and_gave_least(alice, who_network):
    rows = list(reciprocity.who_to_ask(alice))

    assert [c.name for c in rows] == ["Amy Gets-Three", "Ben Paid", "Cat Gave-One"]
    amy, ben, cat = rows
    assert (amy.given, amy.received, amy.spend_count, amy.owed) == (3, 0, 0, 3)
    assert (ben.given, ben.given_won, ben.received, ben.spend_count, ben.owed) == (1, 1, 0, 2, 3)
    assert ben.spend_total == Decimal("100.00")  # the default currency (USD) only
    assert (cat.given, cat.received, cat.owed) == (2, 1, 1)
    assert cat.last_received == date(2024, 5, 17)
    assert amy.last_received is None


def test_who_to_ask_respects_the_limit(alice, who_network):
    assert [c.name for c in reciprocity.who_to_ask(alice, limit=2)] == [
        "Amy Gets-Three",
        "Ben Paid",
    ]


def test_who_to_ask_excludes_other_users_data(charlie, who_network):
    rows = list(reciprocity.who_to_ask(charlie))

    assert [(c.name, c.given, c.received) for c in rows] == [("Gus Charlies", 4, 0)]


def test_who_to_ask_page_lists_the_facts(alice_client, who_network):
    html = alice_client.get(reverse("referrals:who_to_ask")).content.decode()

    assert html.index("Amy Gets-Three") < html.index("Ben Paid") < html.index("Cat Gave-One")
    assert "paid them 2 times (100 USD)" in html
    assert "they sent you 1, last on 17 May 2024." in html
    for name in ["Dan Even", "Eve Giver", "Fay Archived", "Gus Charlies"]:
        assert name not in html


# --- Chart --------------------------------------------------------------------------------


def _month_before(day: date, months: int) -> date:
    first = day.replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def test_monthly_chart_counts_per_month(alice, susan, raj, charlie, charlies_contact):
    this_month = _today().replace(day=1)
    last_month = _month_before(_today(), 1)
    make_referral(alice, susan, Direction.GIVEN, referred_on=this_month)
    make_referral(alice, raj, Direction.GIVEN, referred_on=this_month)
    make_referral(
        alice,
        susan,
        Direction.RECEIVED,
        referred_on=this_month,
        status=Status.WON,
        value=Decimal("1000"),
        closed_on=_today(),
    )
    make_referral(
        alice,
        susan,
        Direction.RECEIVED,
        referred_on=this_month,
        status=Status.WON,
        value=Decimal("700"),
        currency="EUR",
        closed_on=_today(),
    )
    make_referral(alice, susan, Direction.RECEIVED, referred_on=last_month)
    make_referral(alice, susan, Direction.GIVEN, referred_on=_month_before(_today(), 12))
    for _ in range(5):
        make_referral(charlie, charlies_contact, Direction.GIVEN, referred_on=this_month)

    chart = charts.monthly_chart(alice)

    assert len(chart.given) == len(chart.received) == len(chart.months) == 12
    assert chart.months[-1]["label"] == this_month.strftime("%b")
    assert chart.months[0]["label"] == _month_before(_today(), 11).strftime("%b")
    assert [b.value for b in chart.given] == [0] * 11 + [2]
    assert [b.value for b in chart.received] == [0] * 10 + [1, 2]
    assert chart.max_count == 2
    plot_height = charts.HEIGHT - charts.PAD_BOTTOM - charts.PAD_TOP
    assert chart.given[-1].height == pytest.approx(plot_height)
    assert chart.received[-2].height == pytest.approx(plot_height / 2)
    assert chart.given[0].height == 0
    assert chart.has_data
    assert chart.max_value_label == "$1,000"  # the EUR deal is not added to the USD line
    assert chart.value_dots[-1]["label"] == f"{this_month:%b}: $1,000"

    partner_chart = charts.monthly_chart(alice, partner=raj)
    assert [b.value for b in partner_chart.given] == [0] * 11 + [1]
    assert sum(b.value for b in partner_chart.received) == 0

    # Rendered in Python: the markup of the template it replaced, with and without a value.
    for drawn, id in [(chart, "dashboard"), (partner_chart, "partner"), (chart, "")]:
        _assert_rendered_as_the_template(drawn, id)
    assert "(peak $1,000)" in charts.render(chart) and "(peak" not in charts.render(partner_chart)


def _assert_rendered_as_the_template(chart, id: str) -> None:
    from django.template.loader import render_to_string
    from django.test.html import parse_html

    expected = render_to_string("referrals/_chart.html", {"chart": chart, "id": id})
    assert parse_html(charts.render(chart, id)) == parse_html(expected)


def test_chart_coordinates_round_as_floatformat_does():
    from django.template.defaultfilters import floatformat

    # Halves on either side of each rounding, exact tenths, whole numbers, long fractions
    # (the chart's own slots are 606 / 12 * i + ...), floats whose repr is below the half.
    values = [0.0, 0.05, 0.15, 0.25, 0.35, 2.675, 34.0, 34.04, 34.05, 34.95, 99.95, 192.0]
    values += [34 + 50.5 * i + 50.5 * 0.12 for i in range(12)]
    values += [178 * n / 7 for n in range(8)] + [1 / 3, 2 / 3, 1e-9, 1234567.25]
    for value in values:
        assert charts.one_place(value) == floatformat(value, 1), value


def test_monthly_chart_without_data_is_flat(alice, susan):
    make_referral(alice, susan, referred_on=_month_before(_today(), 13))

    chart = charts.monthly_chart(alice)

    assert not chart.has_data
    assert all(b.height == 0 for b in chart.given + chart.received)
    assert chart.max_value_label == ""
    _assert_rendered_as_the_template(chart, "dashboard")


# --- Money -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", Decimal("1234.50")),
        ("$1234.5", Decimal("1234.50")),
        ("€ 99", Decimal("99.00")),
        ("£0.005", Decimal("0.01")),
        ("  42  ", Decimal("42.00")),
        ("(12.00)", Decimal("-12.00")),
        ("-12", Decimal("-12.00")),
        ("100000000", Decimal("100000000.00")),
    ],
)
def test_parse_amount(text, expected):
    value = parse_amount(text)
    assert value == expected
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize("text", ["", "abc", "12.3.4", "NaN", "Infinity", "1O0"])
def test_parse_amount_refuses_what_is_not_an_amount(text):
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount(text)


@pytest.mark.parametrize("text", ["1e30", "9" * 30])
def test_parse_amount_refuses_an_absurdly_long_number(text):
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "meant"),
    [("45,50", Decimal("45.50")), ("12,5", Decimal("12.50")), ("1.234,56", Decimal("1234.56"))],
)
def test_parse_amount_does_not_misread_a_decimal_comma(text, meant):
    try:
        value = parse_amount(text)
    except ValueError:
        return  # refusing an ambiguous amount is fine too
    assert value == meant


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1000"), "USD", "$1,000"),
        (Decimal("1000.00"), "USD", "$1,000"),
        (Decimal("1234.5"), "USD", "$1,234.50"),
        (Decimal("0.5"), "GBP", "£0.50"),
        (Decimal("-1234.5"), "EUR", "-€1,234.50"),
        (Decimal("2500000"), "CAD", "CA$2,500,000"),
        (Decimal("12"), "CHF", "12 CHF"),
        (Decimal("0"), "USD", "$0"),
        (None, "USD", ""),
    ],
)
def test_format_money(amount, currency, expected):
    assert format_money(amount, currency) == expected


def test_format_totals_lists_each_currency_and_skips_zeros():
    assert format_totals([("EUR", Decimal("500")), ("USD", Decimal("1000"))]) == "€500 + $1,000"
    assert format_totals([("USD", Decimal("0")), ("GBP", Decimal("12.5"))]) == "£12.50"
    assert format_totals([]) == "0"
    assert format_totals([("USD", None)]) == "0"


def test_this_month_widget_counts_business_closed_this_month(alice_client, alice):
    from referrals.models import Direction, Referral, Status

    partner = Contact.objects.create(owner=alice, name="Susan Park")
    today = timezone.localdate()
    old = Referral.objects.create(
        owner=alice,
        direction=Direction.RECEIVED,
        partner=partner,
        prospect_name="Passed long ago",
        referred_on=today - timedelta(days=120),
    )
    old.move_to(Status.WON, on=today, value=Decimal("900"))
    page = alice_client.get(reverse("dashboard")).content.decode()
    month = page.split("This month", 1)[1].split("</section>", 1)[0]
    assert "$900" in month


def test_who_to_ask_sql_and_portable_versions_agree(alice):
    """The PostgreSQL query and the portable (SQLite) one rank partners the same way."""
    from referrals.models import Direction, Referral, Spend

    partners = [Contact.objects.create(owner=alice, name=f"Partner {i}") for i in range(6)]
    for i, partner in enumerate(partners):
        for _ in range(i):
            Referral.objects.create(
                owner=alice, direction=Direction.GIVEN, partner=partner, prospect_name="P"
            )
        if i % 2:
            Referral.objects.create(
                owner=alice, direction=Direction.RECEIVED, partner=partner, prospect_name="Q"
            )
        if i % 3 == 0:
            Spend.objects.create(owner=alice, contact=partner, amount=Decimal("40"))
    fast = reciprocity.who_to_ask(alice, limit=10)
    portable = list(reciprocity._who_to_ask_portable(alice, 10))
    fields = ("pk", "given", "given_won", "received", "spend_count", "spend_total", "owed")
    assert [tuple(getattr(c, f) for f in fields) for c in fast] == [
        tuple(getattr(c, f) for f in fields) for c in portable
    ]
    assert len(fast) >= 3
