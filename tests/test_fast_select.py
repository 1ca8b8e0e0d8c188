"""FastSelect renders exactly what Django's Select renders, only faster; the forms that use
it still show, keep and save the choice."""

from __future__ import annotations

import time

import pytest
from django import forms
from django.urls import reverse
from django.utils.safestring import mark_safe

from accounts.forms import ProfileForm
from followups.forms import DigestPreferenceForm
from referralcrm.widgets import FastSelect

pytestmark = pytest.mark.django_db

GROUPED = [
    ("", "Pick a member…"),
    ("Chapter <One>", [("1", "Ann & Bob"), ("2", 'Zoë "Z" Ward')]),
    ("Chapter Two", [("3", mark_safe("<b>safe</b> label")), (4, 1234)]),
]


def both(choices, data=None, initial=None, help_text="") -> tuple[str, str]:
    """A field rendered by a form with Django's Select and by one with FastSelect."""

    def render(widget) -> str:
        class Form(forms.Form):
            pick = forms.ChoiceField(choices=choices, widget=widget, help_text=help_text)

        return str(Form(data, initial={"pick": initial})["pick"])

    return render(forms.Select), render(FastSelect)


def test_same_html_unbound_with_an_initial_choice():
    django_html, fast_html = both([("a", "A"), ("b", "B")], initial="b")

    assert fast_html == django_html
    assert '<option value="b" selected>B</option>' in fast_html


def test_same_html_with_optgroups_escaping_and_numbers():
    django_html, fast_html = both(GROUPED, initial=4)

    assert fast_html == django_html
    assert '<optgroup label="Chapter &lt;One&gt;">' in fast_html
    assert "<b>safe</b> label" in fast_html  # a safe label stays as it is
    assert '<option value="4" selected>1234</option>' in fast_html


def test_same_html_for_a_bound_form_with_errors_and_help_text():
    django_html, fast_html = both(GROUPED, data={"pick": "99"}, help_text="Who gets the slip")

    assert fast_html == django_html
    assert 'aria-invalid="true"' in fast_html
    assert 'aria-describedby="id_pick_helptext' in fast_html


def test_same_html_for_a_bound_form_keeping_the_posted_choice():
    django_html, fast_html = both(GROUPED, data={"pick": "2"})

    assert fast_html == django_html
    assert '<option value="2" selected>' in fast_html


def test_same_html_for_the_profile_time_zones(alice):
    alice.time_zone = "Europe/Paris"
    fast = ProfileForm(instance=alice)
    plain = ProfileForm(instance=alice)
    plain.fields["time_zone"].widget = forms.Select(choices=plain.fields["time_zone"].choices)

    assert isinstance(fast.fields["time_zone"].widget, FastSelect)
    assert str(fast["time_zone"]) == str(plain["time_zone"])
    assert '<option value="Europe/Paris" selected>Europe/Paris</option>' in str(fast["time_zone"])


def test_same_html_for_the_digest_hour(alice):
    fast = DigestPreferenceForm(data={"enabled": "on", "hour": "9", "weekdays": []})
    plain = DigestPreferenceForm(data={"enabled": "on", "hour": "9", "weekdays": []})
    plain.fields["hour"].widget = forms.Select(choices=plain.fields["hour"].choices)
    fast.is_valid(), plain.is_valid()

    assert isinstance(fast.fields["hour"].widget, FastSelect)
    assert str(fast["hour"]) == str(plain["hour"])
    assert '<option value="9" selected>09:00</option>' in str(fast["hour"])


@pytest.mark.parametrize("name", ["kind", "fact_0_kind"])
def test_same_html_for_the_quick_log_selects(alice, name):
    from contacts.forms import MeetingForm

    fast = MeetingForm(owner=alice)
    plain = MeetingForm(owner=alice)
    plain.fields[name].widget = forms.Select(choices=plain.fields[name].choices)

    assert isinstance(fast.fields[name].widget, FastSelect)
    assert str(fast[name]) == str(plain[name])


@pytest.mark.parametrize("name", ["kind", "month"])
def test_same_html_for_the_occasion_selects_bound_with_an_error(alice, name):
    from contacts.models import Contact
    from contacts.occasions import OccasionForm

    susan = Contact.objects.create(owner=alice, name="Susan")
    data = {"occasion-kind": "birthday", "occasion-month": "13", "occasion-day": "4"}
    fast = OccasionForm(data, contact=susan)
    plain = OccasionForm(data, contact=susan)
    plain.fields[name].widget = forms.Select(choices=plain.fields[name].choices)
    fast.is_valid(), plain.is_valid()

    assert isinstance(fast.fields[name].widget, FastSelect)
    assert str(fast[name]) == str(plain[name])


def test_it_is_much_faster_than_django_select(alice):
    form = ProfileForm(instance=alice)
    plain = ProfileForm(instance=alice)
    plain.fields["time_zone"].widget = forms.Select(choices=plain.fields["time_zone"].choices)

    def best_of(bound) -> float:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            str(bound)
            runs.append(time.perf_counter() - started)
        return min(runs)

    assert best_of(form["time_zone"]) * 4 < best_of(plain["time_zone"])


def test_profile_page_shows_and_saves_the_time_zone(alice_client, alice):
    html = alice_client.get(reverse("profile")).content.decode()
    assert '<select name="time_zone" id="id_time_zone">' in html
    assert '<option value="Europe/London" selected>Europe/London</option>' in html

    data = {
        "display_name": "Alice",
        "time_zone": "America/New_York",
        "default_currency": "eur",
        "phone_region": "us",
    }
    response = alice_client.post(reverse("profile"), data)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.time_zone, alice.default_currency) == ("America/New_York", "EUR")
    html = alice_client.get(reverse("profile")).content.decode()
    assert '<option value="America/New_York" selected>America/New York</option>' in html


def test_profile_form_with_errors_keeps_the_chosen_time_zone(alice_client, alice):
    data = {"time_zone": "Asia/Tokyo", "default_currency": "E1R", "phone_region": "US"}

    response = alice_client.post(reverse("profile"), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "three-letter currency code" in html
    assert '<option value="Asia/Tokyo" selected>Asia/Tokyo</option>' in html
    alice.refresh_from_db()
    assert alice.time_zone == "Europe/London"  # nothing saved


def test_the_apps_long_selects_use_it(alice):
    from groups.forms import CorrectSlipForm, GroupForm, SlipForm
    from referrals.forms import ReferralForm, SpendForm

    widgets = {
        "time zone": ProfileForm(instance=alice).fields["time_zone"].widget,
        "digest hour": DigestPreferenceForm().fields["hour"].widget,
        "referral currency": ReferralForm(owner=alice).fields["currency"].widget,
        "spend currency": SpendForm(owner=alice).fields["currency"].widget,
        "group currency": GroupForm().fields["currency"].widget,
        "slip receiver": SlipForm(giver_memberships=[], fellows=[]).fields["receiver"].widget,
        "slip correction currency": CorrectSlipForm.base_fields["currency"].widget,
    }

    assert {name: type(w).__name__ for name, w in widgets.items()} == dict.fromkeys(
        widgets, "FastSelect"
    )
