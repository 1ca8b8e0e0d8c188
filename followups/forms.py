from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from referralcrm.widgets import FastSelect
from referrals.forms import DATE_INPUT, OwnedContactField, OwnedModelForm

from .models import WEEKDAYS, DigestPreference, FollowUp

# A due date is bounded like every date we store: ten years ahead at most.
MAX_AHEAD_DAYS = 3653


class FollowUpForm(OwnedModelForm):
    class Meta:
        model = FollowUp
        fields = ["contact", "title", "due_on"]
        widgets = {"due_on": DATE_INPUT}
        labels = {"title": "What to do", "due_on": "Due"}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, owner=owner, **kwargs)
        self.fields["contact"] = OwnedContactField(owner=owner, label="With")
        self.fields["due_on"].initial = timezone.localdate() + timedelta(days=1)

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise ValidationError("Say what to do.")
        return title

    def clean_due_on(self):
        due = self.cleaned_data["due_on"]
        if due < timezone.localdate() - timedelta(days=365):
            raise ValidationError("That is more than a year ago.")
        if due > timezone.localdate() + timedelta(days=MAX_AHEAD_DAYS):
            raise ValidationError("That is more than ten years ahead.")
        return due


class SnoozeForm(forms.Form):
    until = forms.DateField(widget=DATE_INPUT, label="Snooze until")

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.localdate():
            raise ValidationError("Pick a day after today.")
        if until > timezone.localdate() + timedelta(days=366):
            raise ValidationError("Pick a day within the next year.")
        return until


class DigestPreferenceForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="On these days",
    )

    class Meta:
        model = DigestPreference
        fields = ["enabled", "hour", "weekdays"]
        widgets = {"hour": FastSelect}

    def clean(self):
        data = super().clean()
        if data.get("enabled") and not data.get("weekdays"):
            self.add_error("weekdays", "Pick at least one day, or turn the digest off.")
        return data
