"""Lazy contact-page panels: the page holds a placeholder of the panel's shape; htmx fills
it from the panel's own URL (``/contacts/<pk>/panels/<name>/``) once the page is shown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts import panels
from contacts.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def quokka(alice):
    """A partner of alice's with a referral given and closed, and a received one."""
    from referrals.models import Direction, Referral, Status

    partner = Contact.objects.create(owner=alice, name="Marker Quokka Partner")
    given = Referral.objects.create(
        owner=alice,
        direction=Direction.GIVEN,
        partner=partner,
        prospect_name="Marker Prospect Wombat",
        referred_on=timezone.localdate(),
    )
    given.move_to(Status.WON, on=timezone.localdate(), value=Decimal("4321"))
    Referral.objects.create(
        owner=alice,
        direction=Direction.RECEIVED,
        partner=partner,
        prospect_name="Marker Prospect Numbat",
        referred_on=timezone.localdate(),
    )
    return partner


def panel_url(contact, name: str = "reciprocity") -> str:
    return reverse("contacts:panel", args=[contact.pk, name])


def test_the_reciprocity_panel_is_lazy_and_its_placeholder_points_at_it(alice_client, quokka):
    assert "reciprocity" in panels.lazy_names()
    html = alice_client.get(quokka.get_absolute_url()).content.decode()
    before, after = html.split(f'hx-get="{panel_url(quokka)}"', 1)
    article = before.rsplit("<article", 1)[1] + after.split("</article>", 1)[0]
    assert 'hx-trigger="load"' in article and "panel-reciprocity panel-loading" in article
    assert 'class="chart-box"' in article  # a box of the chart's shape holds its place
    # The panel's figures are not in the page; its links are (they need only the contact).
    assert "You have sent Marker" not in html and "<rect" not in html
    assert f"?partner={quokka.pk}&direction=received" in article


def test_the_panel_url_renders_the_panel_in_its_article(alice_client, alice, quokka):
    from referrals.models import Spend

    Spend.objects.create(
        owner=alice, contact=quokka, amount=Decimal("87.50"), spent_on=timezone.localdate()
    )
    response = alice_client.get(panel_url(quokka))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<article class="panel panel-reciprocity">')
    assert "hx-get" not in html
    assert "You have sent Marker 1 referral worth $4,321; Marker has sent you 1." in html
    assert "You have spent $87.50 with Marker&#x27;s business." in html
    assert '<figure class="chart">' in html


def test_unknown_or_eager_panel_names_are_404(alice_client, quokka):
    assert alice_client.get(panel_url(quokka, "nope")).status_code == 404
    eager = [entry.name for entry in panels._panels if not entry.lazy]
    assert eager, "every panel is lazy?"
    assert alice_client.get(panel_url(quokka, eager[0])).status_code == 404


def test_panel_urls_need_a_signed_in_user_and_refuse_post(client, alice, quokka):
    url = panel_url(quokka)
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response.url
    client.force_login(alice)
    assert client.post(url).status_code == 405


def test_another_users_contact_panels_are_404_and_show_nothing(client, charlie, quokka):
    client.force_login(charlie)
    own = Contact.objects.create(owner=charlie, name="Charlie's Friend")
    assert client.get(panel_url(own)).status_code == 200  # his own: the URL works for him
    for name in panels.lazy_names():  # none of alice's figures, names or prospects
        response = client.get(panel_url(quokka, name))
        assert response.status_code == 404
        html = response.content.decode()
        for marker in ("Marker Quokka", "Marker Prospect", "4,321"):
            assert marker not in html


def test_two_panels_with_one_name_are_refused():
    def reciprocity_panel(request, contact):  # same name as the ledger's panel
        return None

    with pytest.raises(ValueError, match="reciprocity"):
        panels.register(reciprocity_panel, lazy=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_the_reciprocity_panel_arrives_in_the_box_that_held_its_place(page, alice, quokka, width):
    from tests.conftest import login_in_browser

    page.set_viewport_size({"width": width, "height": 900})
    login_in_browser(page, alice.email)
    held = []  # the panel's request, held back until the placeholder is measured
    page.route("**/panels/reciprocity/", lambda route: held.append(route))
    page.goto(quokka.get_absolute_url())
    placeholder = page.locator("article.panel-reciprocity.panel-loading")
    placeholder.wait_for()
    before = placeholder.bounding_box()
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    page.locator("article.panel-reciprocity figure.chart svg").wait_for()
    after = page.locator("article.panel-reciprocity").bounding_box()
    assert page.locator("article.panel-reciprocity.panel-loading").count() == 0
    assert page.locator("p.balance").inner_text().startswith("You have sent Marker 1 referral")
    # A sentence of up to three lines (as this one, at both widths) fits the room the
    # placeholder holds; a longer one (spends too, on a phone) grows the panel by a line.
    assert abs(after["height"] - before["height"]) <= 4, (before, after)
