"""Forms of the networking plan page and of event capture."""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.models import Contact, GainsKind
from referralcrm.http import parse_id

from .models import BusinessGoal

MAX_TAGS = 12
MAX_TAG_LENGTH = 40
MAX_SPHERE = 20
MAX_PROFESSION_LENGTH = 80
MAX_GOALS = 10
MAX_HELPERS = 10
CAPTURE_ROWS = 6

_SPLIT = re.compile(r"[,;\n]+")


def _squash(text: str) -> str:
    return " ".join((text or "").split())


def _unique(items: list[str]) -> list[str]:
    seen, kept = set(), []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            kept.append(item)
    return kept


class PreferredClientForm(forms.Form):
    preferred_client = forms.CharField(
        label="Who I serve best",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E.g. “families buying their first home in the east suburbs”.",
    )
    client_tags = forms.CharField(
        label="Describing words",
        required=False,
        max_length=600,
        help_text="Comma-separated, e.g. first-time buyers, young families, east suburbs.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_preferred_client(self) -> str:
        return self.cleaned_data["preferred_client"].strip()

    def clean_client_tags(self) -> list[str]:
        tags = _unique([_squash(t) for t in _SPLIT.split(self.cleaned_data["client_tags"])])
        tags = [t for t in tags if t]
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"At most {MAX_TAGS} describing words.")
        if any(len(t) > MAX_TAG_LENGTH for t in tags):
            raise ValidationError(f"Keep each describing word under {MAX_TAG_LENGTH} characters.")
        return tags


class SphereForm(forms.Form):
    sphere = forms.CharField(
        label="Professions that serve the same client",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One per line.",
    )

    def clean_sphere(self) -> list[str]:
        professions = [_squash(p) for p in self.cleaned_data["sphere"].splitlines()]
        professions = _unique([p for p in professions if p])
        if len(professions) > MAX_SPHERE:
            raise ValidationError(f"At most {MAX_SPHERE} professions: pick the closest ones.")
        if any(len(p) > MAX_PROFESSION_LENGTH for p in professions):
            raise ValidationError(f"Keep each profession under {MAX_PROFESSION_LENGTH} characters.")
        return professions


class GoalForm(forms.Form):
    text = forms.CharField(label="Goal", max_length=240)

    def __init__(self, *args, owner, goal: BusinessGoal | None = None, **kwargs):
        self.owner, self.goal = owner, goal
        super().__init__(*args, **kwargs)

    def clean_text(self) -> str:
        text = _squash(self.cleaned_data["text"])
        if not text:
            raise ValidationError("Say what the goal is.")
        return text

    def clean(self):
        data = super().clean()
        if self.goal is None and BusinessGoal.objects.for_user(self.owner).count() >= MAX_GOALS:
            raise ValidationError(f"At most {MAX_GOALS} goals: finish or remove one first.")
        return data


class HelperForm(forms.Form):
    """One of the user's contacts, or a placeholder "someone who is a …"."""

    contact = forms.CharField(label="One of my contacts", required=False)
    placeholder = forms.CharField(label="Or someone who is a …", max_length=120, required=False)

    def __init__(self, *args, owner, goal: BusinessGoal, **kwargs):
        self.owner, self.goal = owner, goal
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_contact(self) -> Contact | None:
        value = self.cleaned_data["contact"]
        if not value:
            return None
        pk = parse_id(value)
        contact = (
            Contact.objects.for_user(self.owner).active().filter(pk=pk).first() if pk else None
        )
        if contact is None:
            raise ValidationError("That person is not in your contacts.")
        return contact

    def clean_placeholder(self) -> str:
        return _squash(self.cleaned_data["placeholder"])

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not data.get("contact") and not data.get("placeholder"):
            raise ValidationError("Pick one of your contacts, or say who you are looking for.")
        if self.goal.helpers.count() >= MAX_HELPERS:
            raise ValidationError(f"At most {MAX_HELPERS} helpers per goal.")
        if data.get("contact"):
            data["placeholder"] = ""
        return data


# --- Event capture ---------------------------------------------------------------

GAINS_CHOICES = [("", "—"), *GainsKind.choices]


class EventForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    event = forms.CharField(
        label="Event name or place",
        max_length=160,
        widget=forms.TextInput(attrs={"placeholder": "Chamber breakfast, Hotel Central"}),
    )
    date = forms.DateField(
        label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_event(self) -> str:
        event = _squash(self.cleaned_data["event"])
        if not event:
            raise ValidationError("Name the event.")
        return event

    def clean_date(self):
        day = self.cleaned_data["date"]
        today = timezone.localdate()
        if day > today:
            raise ValidationError("Capture people after the event: that date is in the future.")
        if day < today - timedelta(days=365):
            raise ValidationError("That is more than a year ago.")
        return day


class PersonRowForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120, required=False)
    profession = forms.CharField(label="Profession", max_length=120, required=False)
    fact_kind = forms.ChoiceField(label="GAINS", choices=GAINS_CHOICES, required=False)
    fact_text = forms.CharField(label="What you learned", max_length=280, required=False)

    def clean(self):
        data = super().clean()
        for key in ("name", "profession", "fact_text"):
            if key in data:
                data[key] = _squash(data[key])
        if self.errors:
            return data
        if not data.get("name") and (data.get("profession") or data.get("fact_text")):
            self.add_error("name", "Add a name, or clear this row.")
        if data.get("fact_text") and not data.get("fact_kind"):
            self.add_error("fact_kind", "Which GAINS letter is it?")
        return data

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not (data.get("name") or data.get("profession") or data.get("fact_text"))


PersonRowFormSet = forms.formset_factory(
    PersonRowForm, extra=CAPTURE_ROWS, max_num=CAPTURE_ROWS, absolute_max=CAPTURE_ROWS
)
