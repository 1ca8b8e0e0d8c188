from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from referralcrm.widgets import FastSelect
from referrals.forms import CloseForm
from referrals.models import CLOSED_STATUSES, Status
from referrals.money import CURRENCY_CHOICES, MAX_AMOUNT

from .models import GAINS_PARTS, Group, Membership, Slip, Visitor

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})


def latest_allowed(group: Group):
    """Dates may run up to the group's next meeting, no further (a slip passed ahead of it)."""
    return max(timezone.localdate() + timedelta(days=1), group.next_meeting_date())


def check_date(day, group: Group, what: str = "That date"):
    if day and day > latest_allowed(group):
        raise ValidationError(f"{what} is after the group's next meeting.")
    if day and day < timezone.localdate() - timedelta(days=3 * 366):
        raise ValidationError(f"{what} is more than three years ago.")
    return day


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = [
            "name",
            "city",
            "meeting_weekday",
            "meeting_time",
            "meeting_place",
            "currency",
            "description",
        ]
        widgets = {
            "meeting_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "description": forms.Textarea(attrs={"rows": 3}),
            "currency": FastSelect(choices=CURRENCY_CHOICES),
        }

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("A group needs a name.")
        return name


class SlipForm(forms.Form):
    """A referral to a fellow member: the shared slip, plus the giver's private note."""

    # Every fellow member of every group, by group: hundreds of options in a large chapter.
    receiver = forms.TypedChoiceField(label="To (a fellow member)", coerce=int, widget=FastSelect)
    prospect_name = forms.CharField(label="Prospect", max_length=160)
    prospect_reach = forms.CharField(
        label="How to reach the prospect", max_length=240, required=False
    )
    need = forms.CharField(
        label="What they need",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    referred_on = forms.DateField(label="Date", widget=DATE_INPUT)
    temperature = forms.ChoiceField(
        choices=Slip._meta.get_field("temperature").choices, initial="warm"
    )
    note = forms.CharField(
        label="Private note (only you see it)",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self, *args, giver_memberships: list[Membership], fellows: list[Membership], **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fellows = {m.pk: m for m in fellows}
        self.giver_by_group = {m.group_id: m for m in giver_memberships}
        by_group: dict[str, list] = {}
        for m in fellows:
            label = f"{m.name}{f' ({m.seat})' if m.seat else ''}"
            by_group.setdefault(m.group.name, []).append((m.pk, label))
        choices = [("", "Pick a member…")]
        if len(by_group) == 1:
            choices += next(iter(by_group.values()))
        else:
            choices += list(by_group.items())
        self.fields["receiver"].choices = choices
        self.fields["receiver"].error_messages["invalid_choice"] = (
            "Pick a current member of one of your groups."
        )
        self.fields["referred_on"].initial = timezone.localdate()

    def clean_prospect_name(self) -> str:
        name = " ".join(self.cleaned_data["prospect_name"].split())
        if not name:
            raise ValidationError("Who is the prospect?")
        return name

    def clean(self):
        data = super().clean()
        receiver = self.fellows.get(data.get("receiver"))
        if data.get("receiver") and receiver is None:
            self.add_error("receiver", "Pick a current member of one of your groups.")
        elif receiver is not None:
            data["receiver_membership"] = receiver
            data["giver_membership"] = self.giver_by_group.get(receiver.group_id)
            try:
                check_date(data.get("referred_on"), receiver.group)
            except ValidationError as exc:
                self.add_error("referred_on", exc)
        return data


class CloseSlipForm(CloseForm):
    """The ledger's close form, for a slip (its value in the slip's currency)."""

    def __init__(self, *args, slip: Slip, **kwargs):
        self.slip = slip
        super().__init__(*args, referral=slip, **kwargs)
        self.fields["value"].label = f"Value of closed business ({slip.currency})"

    def clean_closed_on(self):
        return check_date(super().clean_closed_on(), self.slip.group, "The closing date")


class CorrectSlipForm(forms.Form):
    """Either side corrects status, value, currency or dates; each change is audited."""

    status = forms.ChoiceField(choices=Status.choices)
    referred_on = forms.DateField(label="Date passed", widget=DATE_INPUT)
    closed_on = forms.DateField(label="Date closed", widget=DATE_INPUT, required=False)
    value = forms.DecimalField(
        label="Value of closed business",
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        max_value=MAX_AMOUNT,
        widget=MONEY_INPUT,
    )
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, widget=FastSelect)

    def __init__(self, *args, slip: Slip, **kwargs):
        self.slip = slip
        kwargs.setdefault(
            "initial",
            {
                "status": slip.status,
                "referred_on": slip.referred_on,
                "closed_on": slip.closed_on,
                "value": slip.value,
                "currency": slip.currency,
            },
        )
        super().__init__(*args, **kwargs)
        if slip.currency not in dict(CURRENCY_CHOICES):
            self.fields["currency"].choices = [(slip.currency, slip.currency), *CURRENCY_CHOICES]

    def clean_referred_on(self):
        return check_date(self.cleaned_data["referred_on"], self.slip.group)

    def clean_closed_on(self):
        return check_date(self.cleaned_data.get("closed_on"), self.slip.group, "The closing date")

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status in CLOSED_STATUSES and not data.get("closed_on"):
            self.add_error("closed_on", "A closed slip needs the date it closed.")
        if status == Status.WON and data.get("value") is None:
            self.add_error("value", "Enter the value of the closed business (0 if unknown).")
        if status not in CLOSED_STATUSES:
            data["closed_on"] = None
            data["value"] = None
        elif status != Status.WON:
            data["value"] = None
        passed, closed = data.get("referred_on"), data.get("closed_on")
        if passed and closed and closed < passed:
            self.add_error("closed_on", "It can't close before it was passed.")
        return data


class NoteForm(forms.Form):
    notes = forms.CharField(
        label="Your private notes (the other member never sees them)",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SharingForm(forms.Form):
    shared = forms.MultipleChoiceField(
        label="Parts of my GAINS profile this group sees",
        choices=GAINS_PARTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class VisitorForm(forms.ModelForm):
    class Meta:
        model = Visitor
        fields = ["name", "profession", "email", "visited_on"]
        widgets = {"visited_on": DATE_INPUT}
        labels = {"name": "Visitor's name"}

    def __init__(self, *args, group: Group, **kwargs):
        self.group = group
        super().__init__(*args, **kwargs)

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Give the visitor's name.")
        return name

    def clean_visited_on(self):
        return check_date(self.cleaned_data["visited_on"], self.group)


class OutsideForm(forms.Form):
    count = forms.IntegerField(
        label="Referrals I gave outside the group this month",
        min_value=0,
        max_value=999,
        help_text="Only this number is shared with the group; the referrals stay private.",
    )
