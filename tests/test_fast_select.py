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


# --- FastRenderer: inputs, textareas and labels written in Python ------------------------


def _plain_and_fast(make_form, data=None):
    """The same form rendered by Django's DjangoTemplates renderer and by ours."""
    from django.forms.renderers import DjangoTemplates

    from referralcrm.widgets import FastRenderer

    plain, fast = make_form(data), make_form(data)
    plain.renderer, fast.renderer = DjangoTemplates(), FastRenderer()
    if data is not None:
        plain.is_valid(), fast.is_valid()
    return plain, fast


def _assert_same_fields(plain, fast):
    for name in plain.fields:
        assert str(fast[name]) == str(plain[name]), name
        assert fast[name].label_tag() == plain[name].label_tag(), name
        assert fast[name].legend_tag() == plain[name].legend_tag(), name
    assert fast.as_div() == plain.as_div()


TRICKY = 'Ann & "Bob" <b>'


def test_the_project_renders_forms_with_the_fast_renderer(settings):
    from django.forms.renderers import get_default_renderer

    from referralcrm.widgets import FastRenderer

    assert settings.FORM_RENDERER == "referralcrm.widgets.FastRenderer"
    assert isinstance(get_default_renderer(), FastRenderer)


def test_every_kind_of_input_renders_as_django_renders_it():
    class Everything(forms.Form):
        text = forms.CharField(label=TRICKY, help_text="Help & more", max_length=20)
        number = forms.IntegerField(widget=forms.NumberInput(attrs={"min": 1, "step": "0.5"}))
        email = forms.EmailField(required=False)
        url = forms.URLField(required=False, assume_scheme="https")
        password = forms.CharField(widget=forms.PasswordInput(render_value=True))
        hidden = forms.CharField(widget=forms.HiddenInput, required=False)
        day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
        when = forms.DateTimeField(widget=forms.DateTimeInput(format="%Y-%m-%dT%H:%M"))
        tick = forms.BooleanField(required=False)
        notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "autofocus": True}))
        off = forms.CharField(widget=forms.TextInput(attrs={"disabled": False, "x": True}))

    valid = {
        "text": TRICKY,
        "number": "3",
        "email": "a@example.com",
        "password": "<secret>",
        "hidden": '"h"',
        "day": "2026-01-02",
        "when": "2026-01-02T10:30",
        "tick": "on",
        "notes": f"line one\n{TRICKY}",
        "off": "",
    }
    invalid = {"number": "x", "email": "not-an-email", "day": "99", "notes": ""}
    for data in (None, valid, invalid):
        _assert_same_fields(*_plain_and_fast(lambda d: Everything(d), data))
    unbound = Everything(initial={"text": TRICKY, "number": 0, "notes": ""})
    plain, fast = Everything(initial=unbound.initial), Everything(initial=unbound.initial)
    from django.forms.renderers import DjangoTemplates

    from referralcrm.widgets import FastRenderer

    plain.renderer, fast.renderer = DjangoTemplates(), FastRenderer()
    _assert_same_fields(plain, fast)


def test_the_project_forms_render_as_django_renders_them(alice):
    from accounts.forms import ProfileForm
    from contacts.forms import ContactForm, GainsFactForm, MeetingForm
    from contacts.models import Contact
    from contacts.occasions import OccasionForm
    from followups.forms import FollowUpForm
    from referrals.forms import IntroductionForm, ReferralForm, SpendForm

    susan = Contact.objects.create(owner=alice, name=TRICKY)
    makers = [
        lambda d: MeetingForm(d, owner=alice),
        lambda d: ContactForm(d, owner=alice),
        lambda d: GainsFactForm(d),
        lambda d: ReferralForm(d, owner=alice),
        lambda d: SpendForm(d, owner=alice),
        lambda d: IntroductionForm(d, owner=alice),
        lambda d: FollowUpForm(d, owner=alice),
        lambda d: ProfileForm(d, instance=alice),
        lambda d: OccasionForm(d, contact=susan),
        lambda d: DigestPreferenceForm(d),
    ]
    junk = {"name": TRICKY, "notes": TRICKY, "amount": "-1", "due_on": "9999-12-31", "hour": "x"}
    for make in makers:
        for data in (None, junk):
            _assert_same_fields(*_plain_and_fast(make, data))
