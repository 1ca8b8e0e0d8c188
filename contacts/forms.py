from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from referralcrm.http import parse_id
from referralcrm.widgets import FastSelect

from . import occasions
from .meetings import FactInput
from .models import Contact, GainsFact, GainsKind, Meeting, MeetingKind, Stage, Tag

PHONE_RE = re.compile(r"^\+?[0-9 ()./\-]{5,24}(?:\s*(?:x|ext\.?)\s*\d{1,6})?$", re.IGNORECASE)
SPLIT_RE = re.compile(r"[,;\n]+")
QUICK_FACT_ROWS = 3


def _split(value: str) -> list[str]:
    return [part.strip() for part in SPLIT_RE.split(value or "") if part.strip()]


class ListField(forms.CharField):
    """A list of short strings typed one per line (or comma-separated)."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        return _split(super().to_python(value))


class ContactForm(forms.ModelForm):
    emails = ListField(required=False, help_text="One per line.")
    phones = ListField(required=False, help_text="One per line.")
    website = forms.URLField(
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    tag_names = forms.CharField(
        label="Tags",
        required=False,
        help_text="Comma-separated, e.g. chapter, realtor",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    birthday = forms.CharField(
        required=False,
        max_length=40,
        help_text=occasions.DATE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "15 April"}),
    )

    class Meta:
        model = Contact
        fields = [
            "name",
            "company",
            "profession",
            "emails",
            "phones",
            "website",
            "city",
            "address",
            "met_how",
            "stage",
            "cadence_days",
            "is_expert",
            "is_passionate",
            "honours_referrals",
            "word_of_mouth",
            "notes",
        ]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "word_of_mouth": forms.Textarea(attrs={"rows": 2}),
            "name": forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
        }

    def __init__(self, *args, owner, **kwargs):
        self.owner = owner
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["tag_names"] = ", ".join(t.name for t in self.instance.tags.all())
        if self.instance.pk:  # bound too: save() compares it to what was typed
            self.initial["birthday"] = occasions.birthday_text(self.instance)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("A contact needs a name.")
        return name

    def clean_emails(self) -> list[str]:
        emails = self.cleaned_data["emails"]
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                bad.append(email)
        if bad:
            raise ValidationError(f"Not a valid e-mail address: {', '.join(bad)}")
        return [e.lower() for e in emails]

    def clean_phones(self) -> list[str]:
        phones = self.cleaned_data["phones"]
        bad = [p for p in phones if not PHONE_RE.match(p) or sum(c.isdigit() for c in p) < 5]
        if bad:
            raise ValidationError(
                f"Not a phone number: {', '.join(bad)}. Use digits, spaces, + ( ) - ."
            )
        return phones

    def clean_tag_names(self) -> list[str]:
        names = []
        for name in _split(self.cleaned_data["tag_names"]):
            name = name.lstrip("#")
            if len(name) > 40:
                raise ValidationError(f"Tags are at most 40 characters: “{name[:40]}…”")
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
        return names

    def clean_birthday(self) -> tuple[int | None, int, int] | None:
        """(year or None, month, day); None when left empty (which removes it)."""
        text = self.cleaned_data["birthday"].strip()
        return occasions.parse_day(text) if text else None

    def save(self, commit: bool = True) -> Contact:
        contact = super().save(commit=False)
        contact.owner = self.owner
        contact.save()
        if "birthday" in self.changed_data:  # typed, changed or cleared
            occasions.set_birthday(contact, self.cleaned_data["birthday"])
        wanted = self.cleaned_data["tag_names"]
        existing = {t.name.lower(): t for t in Tag.objects.for_user(self.owner)}
        missing = [n for n in wanted if n.lower() not in existing]
        for name in missing:
            existing[name.lower()] = Tag.objects.create(owner=self.owner, name=name)
        contact.tags.set([existing[n.lower()] for n in wanted])
        return contact


class GainsFactForm(forms.ModelForm):
    class Meta:
        model = GainsFact
        fields = ["kind", "text", "learned_on"]
        widgets = {
            "learned_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "text": forms.TextInput(
                attrs={"autocomplete": "off", "placeholder": "What you learned"}
            ),
            "kind": forms.HiddenInput(),
        }
        labels = {"text": "Fact", "learned_on": "Learned on"}

    def clean_text(self) -> str:
        text = " ".join(self.cleaned_data["text"].split())
        if not text:
            raise ValidationError("Write the fact you learned.")
        return text

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The inline "add" form sends only the text: the fact was learned today.
        self.fields["learned_on"].required = False

    def clean_learned_on(self):
        learned_on = self.cleaned_data["learned_on"] or timezone.localdate()
        if learned_on > timezone.localdate() + timedelta(days=1):
            raise ValidationError("That date is in the future.")
        return learned_on


class MeetingForm(forms.Form):
    """The quick-log form: who, when, what kind, where, notes and GAINS facts."""

    attendees = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.MultipleHiddenInput,
    )
    new_attendees = forms.CharField(required=False, widget=forms.MultipleHiddenInput)
    kind = forms.ChoiceField(
        choices=MeetingKind.choices, initial=MeetingKind.ONE_TO_ONE, widget=FastSelect
    )
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    place = forms.CharField(label="Place or event", required=False, max_length=200)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, owner, **kwargs):
        self.owner = owner
        super().__init__(*args, **kwargs)
        contacts = Contact.objects.for_user(owner).active()
        self.fields["attendees"].queryset = contacts
        self.fields["attendees"].error_messages["invalid_choice"] = (
            "One of the people picked is not in your contacts."
        )
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        for i in range(QUICK_FACT_ROWS):
            self.fields[f"fact_{i}_kind"] = forms.ChoiceField(
                label="GAINS", choices=GainsKind.choices, required=False, widget=FastSelect
            )
            self.fields[f"fact_{i}_text"] = forms.CharField(
                label="Fact", required=False, max_length=280
            )

    @property
    def posted(self) -> dict[str, list[str]]:
        """Every posted value as a list, for extension fields to re-render what was ticked."""
        if not self.is_bound:
            return {}
        return {key: self.data.getlist(key) for key in self.data}

    @property
    def fact_rows(self):
        return [(self[f"fact_{i}_kind"], self[f"fact_{i}_text"]) for i in range(QUICK_FACT_ROWS)]

    @property
    def new_names(self) -> list[str]:
        return self.data.getlist("new_attendees") if self.is_bound else []

    def clean_new_attendees(self) -> list[str]:
        names = self.data.getlist("new_attendees") if hasattr(self.data, "getlist") else []
        names = [" ".join(n.split()) for n in names if n.strip()]
        too_long = [n for n in names if len(n) > 120]
        if too_long:
            raise ValidationError("A name is at most 120 characters.")
        return names

    def clean_occurred_at(self):
        when = self.cleaned_data["occurred_at"]
        if when > timezone.now() + timedelta(days=1):
            raise ValidationError("A meeting can't be logged more than a day ahead.")
        return when

    def clean(self):
        data = super().clean()
        if not data.get("attendees") and not data.get("new_attendees"):
            self.add_error(None, "Pick at least one person you met.")
        facts = []
        for i in range(QUICK_FACT_ROWS):
            text = " ".join((data.get(f"fact_{i}_text") or "").split())
            if text:
                facts.append(
                    FactInput(kind=data.get(f"fact_{i}_kind") or GainsKind.GOAL, text=text)
                )
        data["facts"] = facts
        return data

    def picked(self) -> list[Contact]:
        """Attendees to show as chips when the form is re-rendered."""
        if not self.is_bound:
            return list(self.initial.get("attendees", []))
        ids = [i for i in map(parse_id, self.data.getlist("attendees")) if i]
        return list(self.fields["attendees"].queryset.filter(pk__in=ids))


class MeetingEditForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["kind", "occurred_at", "place", "notes"]
        widgets = {
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_occurred_at(self):
        when = self.cleaned_data["occurred_at"]
        if when > timezone.now() + timedelta(days=1):
            raise ValidationError("A meeting can't be logged more than a day ahead.")
        return when


class ContactFilterForm(forms.Form):
    SORTS = [
        ("", "Best match"),  # when searching; by name otherwise (contact_list)
        ("name", "Name"),
        ("-last_touched", "Touched most recently"),
        ("last_touched", "Touched longest ago"),
        ("overdue", "Most overdue"),
        ("stage", "Stage"),
        ("-strength", "Strongest first"),
    ]
    q = forms.CharField(required=False, label="Search")
    stage = forms.ChoiceField(choices=[("", "Any stage"), *Stage.choices], required=False)
    tag = forms.CharField(required=False)
    stalled = forms.BooleanField(required=False, label="Stalled only")
    archived = forms.BooleanField(required=False, label="Archived")
    sort = forms.ChoiceField(choices=SORTS, required=False)
