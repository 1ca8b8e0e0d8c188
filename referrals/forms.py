from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.models import Contact
from referralcrm.http import parse_id
from referralcrm.widgets import FastSelect

from .models import (
    CLOSED_STATUSES,
    Direction,
    Introduction,
    Referral,
    Spend,
    Status,
)
from .money import CURRENCY_CHOICES

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _currency_field(initial: str) -> forms.ChoiceField:
    choices = list(CURRENCY_CHOICES)
    if initial not in dict(choices):
        choices.insert(0, (initial, initial))
    return forms.ChoiceField(choices=choices, initial=initial, widget=FastSelect)


class OwnedContactField(forms.ModelChoiceField):
    """A contact of the owner's, picked with the typeahead; archived ones are refused."""

    widget = forms.HiddenInput

    def __init__(self, *, owner, keep=None, **kwargs):
        self.keep = keep  # an archived contact already on the record may stay
        kwargs.setdefault("error_messages", {})
        kwargs["error_messages"].setdefault("required", "Pick someone from your contacts.")
        kwargs["error_messages"].setdefault(
            "invalid_choice", "That person is not in your contacts."
        )
        super().__init__(queryset=Contact.objects.for_user(owner), **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if parse_id(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)

    def clean(self, value):
        contact = super().clean(value)
        if contact is not None and contact.is_archived and contact != self.keep:
            raise ValidationError(f"{contact.name} is archived: unarchive them first.")
        return contact


def _not_future(day, what: str = "That date"):
    if day and day > timezone.localdate() + timedelta(days=1):
        raise ValidationError(f"{what} is in the future.")
    return day


class PickerFormMixin:
    """Give templates the picked contact of a picker field, bound or not."""

    def picked(self, name: str) -> list[Contact]:
        if self.is_bound:
            value = parse_id(self.data.get(name))
            if value is None:
                return []
            return list(self.fields[name].queryset.filter(pk=value)[:1])
        initial = self.initial.get(name) or (
            getattr(self.instance, name, None) if hasattr(self, "instance") else None
        )
        if isinstance(initial, Contact):
            return [initial]
        if parse_id(initial):
            return list(self.fields[name].queryset.filter(pk=parse_id(initial))[:1])
        return []

    @property
    def picked_partner(self):
        return self.picked("partner")

    @property
    def picked_prospect(self):
        return self.picked("prospect_contact")

    @property
    def picked_contact(self):
        return self.picked("contact")

    @property
    def picked_a(self):
        return self.picked("contact_a")

    @property
    def picked_b(self):
        return self.picked("contact_b")


class OwnedModelForm(PickerFormMixin, forms.ModelForm):
    """A form for a user-owned model: built with ``owner=``, saves with that owner."""

    def __init__(self, *args, owner, **kwargs):
        self.owner = owner
        super().__init__(*args, **kwargs)

    def save(self, commit: bool = True):
        obj = super().save(commit=False)
        obj.owner = self.owner
        obj.save()
        self.save_m2m()
        return obj


class ReferralForm(OwnedModelForm):
    class Meta:
        model = Referral
        fields = [
            "direction",
            "partner",
            "prospect_name",
            "prospect_contact",
            "prospect_reach",
            "need",
            "referred_on",
            "temperature",
            "status",
            "value",
            "currency",
            "closed_on",
        ]
        widgets = {
            "direction": forms.RadioSelect,
            "referred_on": DATE_INPUT,
            "closed_on": DATE_INPUT,
            "need": forms.Textarea(attrs={"rows": 2}),
            "value": forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
        }
        labels = {"closed_on": "Date closed"}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, owner=owner, **kwargs)
        # A referral whose partner's contact was deleted keeps their name and may stay
        # without one; every other referral names a contact.
        orphan = bool(self.instance.pk and not self.instance.partner_id)
        self.fields["partner"] = OwnedContactField(
            owner=owner,
            label="Partner",
            required=not orphan,
            keep=self.instance.partner if self.instance.partner_id else None,
        )
        self.fields["prospect_contact"] = OwnedContactField(
            owner=owner, required=False, label="Prospect is in my contacts"
        )
        self.fields["currency"] = _currency_field(
            self.instance.currency if self.instance.pk else owner.default_currency
        )
        self.fields["direction"].choices = [
            (Direction.RECEIVED, "Received: they sent me business"),
            (Direction.GIVEN, "Given: I sent them business"),
        ]

    def clean_referred_on(self):
        return _not_future(self.cleaned_data["referred_on"])

    def clean_closed_on(self):
        return _not_future(self.cleaned_data.get("closed_on"), "The closing date")

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status in CLOSED_STATUSES and not data.get("closed_on"):
            self.add_error("closed_on", "A closed referral needs the date it closed.")
        if status == Status.WON and data.get("value") is None:
            self.add_error("value", "Enter the value of the closed business (0 if unknown).")
        if status not in CLOSED_STATUSES:
            data["closed_on"] = None
        referred_on, closed_on = data.get("referred_on"), data.get("closed_on")
        if referred_on and closed_on and closed_on < referred_on:
            self.add_error("closed_on", "It can't close before it was passed.")
        if data.get("partner") and data.get("partner") == data.get("prospect_contact"):
            self.add_error("prospect_contact", "The prospect is someone other than the partner.")
        if data.get("partner"):
            self.instance.partner_name = ""  # linked to a contact again
        return data

    def save(self, commit: bool = True) -> Referral:
        from .models import StatusChange

        status_changed = self.instance.pk is None or "status" in self.changed_data
        referral = super().save()
        if status_changed:
            StatusChange.objects.create(
                referral=referral,
                status=referral.status,
                changed_on=referral.closed_on or timezone.localdate(),
            )
        return referral


class CloseForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s, s.label) for s in CLOSED_STATUSES], widget=forms.RadioSelect
    )
    closed_on = forms.DateField(widget=DATE_INPUT, label="Date closed")
    value = forms.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        max_value=100_000_000,
        label="Value of closed business",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )

    def __init__(self, *args, referral: Referral, **kwargs):
        self.referral = referral
        super().__init__(*args, **kwargs)
        self.fields["closed_on"].initial = timezone.localdate()
        self.fields["status"].initial = Status.WON

    def clean_closed_on(self):
        day = _not_future(self.cleaned_data["closed_on"], "The closing date")
        if day < self.referral.referred_on:
            raise ValidationError("It can't close before it was passed.")
        return day

    def clean(self):
        data = super().clean()
        if data.get("status") == Status.WON and data.get("value") is None:
            self.add_error("value", "Enter the value of the closed business (0 if unknown).")
        return data


class IntroductionForm(OwnedModelForm):
    class Meta:
        model = Introduction
        fields = [
            "contact_a",
            "contact_b",
            "reason_a",
            "reason_b",
            "introduced_on",
            "method",
            "outcome",
            "notes",
        ]
        widgets = {"introduced_on": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, owner=owner, **kwargs)
        self.fields["contact_a"] = OwnedContactField(owner=owner, label="Introduce")
        self.fields["contact_b"] = OwnedContactField(owner=owner, label="To")

    def clean_introduced_on(self):
        return _not_future(self.cleaned_data["introduced_on"])

    def clean(self):
        data = super().clean()
        if data.get("contact_a") and data.get("contact_a") == data.get("contact_b"):
            self.add_error("contact_b", "Pick two different people.")
        return data


class SpendForm(OwnedModelForm):
    class Meta:
        model = Spend
        fields = ["contact", "spent_on", "amount", "currency", "description"]
        widgets = {
            "spent_on": DATE_INPUT,
            "amount": forms.NumberInput(
                attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}
            ),
        }
        labels = {"contact": "Paid to"}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, owner=owner, **kwargs)
        self.fields["contact"] = OwnedContactField(owner=owner, label="Paid to")
        self.fields["currency"] = _currency_field(owner.default_currency)

    def clean_spent_on(self):
        return _not_future(self.cleaned_data["spent_on"])


class LedgerFilterForm(forms.Form):
    PERIODS = [
        ("", "All time"),
        ("month", "This month"),
        ("30d", "Last 30 days"),
        ("quarter", "Last 3 months"),
        ("year", "This year"),
        ("last_year", "Last year"),
    ]
    direction = forms.ChoiceField(choices=[("", "Both ways"), *Direction.choices], required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), ("open", "Open"), *Status.choices], required=False
    )
    partner = forms.IntegerField(required=False, widget=forms.HiddenInput)
    period = forms.ChoiceField(choices=PERIODS, required=False)
