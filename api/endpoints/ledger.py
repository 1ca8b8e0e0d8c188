"""Follow-ups, referrals (with their status history), introductions and spends.

The same rules as the pages, through the same code: every queryset goes through
``for_user`` (another user's id is a 404 in a URL and "not in your contacts" in a body);
follow-ups change through ``FollowUp.mark_done`` / ``snooze_until``; a private referral
moves through ``Referral.move_to``; a referral *given* to a fellow member's linked contact
becomes a slip through ``referrals.sharing`` (as the ledger form does); and a slip-backed
row's shared fields change only through ``groups.slips`` (``advance``, ``close`` — a
compare-and-set — and ``correct``), with the page forms' validation.

Limitation: follow-ups, introductions and spends have no "updated" timestamp, so their lists
have no ``updated_since`` filter (referrals and slips do).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from contacts.models import Contact
from followups.forms import SnoozeForm
from followups.models import FollowUp
from followups.models import Status as FollowUpStatus
from groups import slips
from groups.forms import CloseSlipForm, CorrectSlipForm
from groups.models import Slip
from referralcrm.http import parse_id
from referrals import sharing
from referrals.forms import CloseForm
from referrals.models import (
    CLOSED_STATUSES,
    Direction,
    Introduction,
    Referral,
    Spend,
    Status,
    StatusChange,
)
from referrals.money import CURRENCY_CHOICES, MAX_AMOUNT

from ..base import OwnedViewSet, StrictSerializer

MAX_ID = 2**63 - 1
PAST_YEARS = 10  # dates further back than this are typos (0001-01-01), not history
FUTURE_YEARS = 10


# --- Shared pieces ----------------------------------------------------------------------


class StrictPlainSerializer(serializers.Serializer):
    """A request body that is not a model: unknown fields are errors, as in StrictSerializer."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class ConflictSerializer(serializers.Serializer):
    """The change can't be made in the present state (e.g. a slip already closed)."""

    detail = serializers.CharField()


class Conflict(exceptions.APIException):
    """The change can't be made in the object's present state (e.g. a slip already closed)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "That can't be done in this state."
    default_code = "conflict"


class OwnedContactField(serializers.PrimaryKeyRelatedField):
    """The id of one of the request user's contacts; anyone else's "is not in your contacts"
    (the same answer as an id that does not exist, so existence is not revealed)."""

    default_error_messages = {
        "required": "Pick someone from your contacts.",
        "null": "Pick someone from your contacts.",
        "does_not_exist": "That person is not in your contacts.",
        "incorrect_type": "Give the id of one of your contacts (a whole number).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Contact.objects.all())
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return Contact.objects.for_user(getattr(request, "user", None))

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if parse_id(data) is None:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


def not_archived(contact: Contact | None, keep_id: int | None = None) -> Contact | None:
    """As the ledger forms: an archived contact is refused, unless already on the record."""
    if contact is not None and contact.is_archived and contact.pk != keep_id:
        raise serializers.ValidationError(f"{contact.name} is archived: unarchive them first.")
    return contact


def bounded(
    day: date | None, *, past_days: int | None = None, future_days: int | None = None
) -> date | None:
    """A date within a sane range of today: by default ten years either way."""
    if day is None:
        return day
    today = timezone.localdate()
    earliest = today - timedelta(days=past_days if past_days is not None else 3653)
    latest = today + timedelta(days=future_days if future_days is not None else 3653)
    if day > latest:
        if latest <= today + timedelta(days=1):
            raise serializers.ValidationError("That date is in the future.")
        raise serializers.ValidationError(f"Pick a date up to {latest.isoformat()}.")
    if day < earliest:
        raise serializers.ValidationError(f"Pick a date from {earliest.isoformat()} on.")
    return day


def not_future(day: date | None) -> date | None:
    """The ledger forms' rule (today, or tomorrow for other time zones), and not a typo."""
    return bounded(day, future_days=1)


def one_line(text: str, message: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise serializers.ValidationError(message)
    return text


def form_errors(form: forms.Form) -> dict:
    """A Django form's errors as DRF field-by-field errors (``__all__`` → non_field_errors)."""
    return {
        ("non_field_errors" if name == "__all__" else name): list(messages)
        for name, messages in form.errors.items()
    }


def read_filters(serializer_class, request) -> dict:
    """Validated query parameters (400 field-by-field for bad ones)."""
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


class UserTimeMixin:
    """Dates ("today", "in the future") in the user's own time zone, as on the pages (the
    middleware can't know the user of a token request: DRF authenticates in the view)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.user and request.user.is_authenticated:
            timezone.activate(request.user.tzinfo)


CONFLICT = {409: ConflictSerializer}


# --- Follow-ups ---------------------------------------------------------------------------


class FollowUpSerializer(StrictSerializer):
    """A follow-up: a task tied to one of your contacts, with a due date."""

    contact = OwnedContactField(help_text="One of your contacts.")
    meeting = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The meeting it came from, if any."
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "contact",
            "meeting",
            "title",
            "due_on",
            "status",
            "is_overdue",
            "completed_at",
            "created_at",
        ]
        read_only_fields = ["status", "completed_at", "created_at"]

    def validate_contact(self, contact):
        return not_archived(contact, self.instance.contact_id if self.instance else None)

    def validate_title(self, title: str) -> str:
        return one_line(title, "Say what to do.")

    def validate_due_on(self, day: date) -> date:
        if self.instance is not None and day == self.instance.due_on:
            return day  # an old follow-up keeps its date when other fields change
        if day < timezone.localdate() - timedelta(days=365):
            raise serializers.ValidationError("That is more than a year ago.")
        return bounded(day)


class FollowUpFilter(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["open", "snoozed", "done"],
        required=False,
        help_text="open: not done yet (snoozed ones included); snoozed; done.",
    )
    due_before = serializers.DateField(required=False, help_text="Due strictly before this day.")
    due_after = serializers.DateField(required=False, help_text="Due strictly after this day.")
    contact = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this contact's."
    )


class FollowUpSnoozeSerializer(StrictPlainSerializer):
    """Either `until` or `days`."""

    until = serializers.DateField(
        required=False, help_text="Snooze until this day (after today, within a year)."
    )
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=366,
        help_text="Or: this many days from the due date (from today if it is overdue).",
    )

    def validate(self, data):
        if ("until" in data) == ("days" in data):
            raise serializers.ValidationError("Give either until (a date) or days, not both.")
        if "until" in data:
            form = SnoozeForm({"until": data["until"].isoformat()})
            if not form.is_valid():
                raise serializers.ValidationError(form_errors(form))
        return data


@extend_schema_view(
    list=extend_schema(summary="Your follow-ups", parameters=[FollowUpFilter]),
    create=extend_schema(summary="Add a follow-up"),
    retrieve=extend_schema(summary="A follow-up"),
    update=extend_schema(summary="Change a follow-up"),
    partial_update=extend_schema(summary="Change some fields of a follow-up"),
    destroy=extend_schema(summary="Delete a follow-up"),
)
class FollowUpViewSet(UserTimeMixin, OwnedViewSet):
    """Your follow-ups: tasks tied to a contact, with a due date; done or snoozed.
    (No ``updated_since``: follow-ups keep no "updated" timestamp.)"""

    model = FollowUp
    serializer_class = FollowUpSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        filters = read_filters(FollowUpFilter, self.request)
        if (wanted := filters.get("status")) == "open":
            queryset = queryset.pending()
        elif wanted:
            queryset = queryset.filter(status=wanted)
        if "due_before" in filters:
            queryset = queryset.filter(due_on__lt=filters["due_before"])
        if "due_after" in filters:
            queryset = queryset.filter(due_on__gt=filters["due_after"])
        if "contact" in filters:
            queryset = queryset.filter(contact_id=filters["contact"])
        return queryset

    @extend_schema(
        summary="Mark a follow-up done",
        description="Idempotent: a follow-up done already stays as it was.",
        request=None,
        responses={200: FollowUpSerializer},
    )
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        followup = self.get_object()
        if followup.status != FollowUpStatus.DONE:
            followup.mark_done()
        return Response(self.get_serializer(followup).data)

    @extend_schema(
        summary="Snooze a follow-up",
        description="To a day (`until`) or by a number of `days`. A follow-up that is done "
        "is not reopened by a snooze: that is a 409.",
        request=FollowUpSnoozeSerializer,
        responses={200: FollowUpSerializer, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        followup = self.get_object()
        body = FollowUpSnoozeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if followup.status == FollowUpStatus.DONE:
            raise Conflict("This follow-up is done: a snooze would not reopen it.")
        if "until" in body.validated_data:
            day = body.validated_data["until"]
        else:
            start = max(followup.due_on, timezone.localdate())
            day = start + timedelta(days=body.validated_data["days"])
        followup.snooze_until(day)
        return Response(self.get_serializer(followup).data)


# --- Referrals ----------------------------------------------------------------------------


class StatusChangeSerializer(serializers.ModelSerializer):
    """One step of a referral's status history."""

    class Meta:
        model = StatusChange
        fields = ["status", "changed_on", "note", "created_at"]


# The fields of a slip-backed row that belong to the slip (changed with slips.correct).
SLIP_CORRECTABLE = ["status", "value", "currency", "referred_on", "closed_on"]
# The fields that are the owner's own, always editable.
PRIVATE_FIELDS = ["notes"]


class ReferralSerializer(StrictSerializer):
    """A referral given or received, with its status history (read-only)."""

    partner = OwnedContactField(
        allow_null=True,
        help_text="Who you gave it to, or who gave it to you: one of your contacts. Null only "
        "when their contact was deleted (partner_name keeps the name); a referral that has a "
        "partner can't be given null.",
    )
    partner_name = serializers.CharField(
        read_only=True,
        help_text="The partner's name when their contact was deleted, otherwise empty.",
    )
    prospect_contact = OwnedContactField(
        required=False, allow_null=True, help_text="The prospect, if they are in your contacts."
    )
    value = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=MAX_AMOUNT,
        required=False,
        allow_null=True,
        help_text="Value of closed business, a decimal string (needed when won).",
    )
    currency = serializers.ChoiceField(
        choices=CURRENCY_CHOICES, required=False, help_text="Defaults to your currency."
    )
    is_shared = serializers.BooleanField(
        read_only=True, help_text="A slip shared with a fellow group member (see /slips/)."
    )
    history = StatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "direction",
            "partner",
            "partner_name",
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
            "thanks_sent_on",
            "thanks_received_on",
            "notes",
            "slip",
            "is_shared",
            "history",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "need": {"max_length": 2000},
            "notes": {"help_text": "Your private notes: nobody else ever sees them."},
            "slip": {"help_text": "The slip this row is your side of (see /slips/)."},
        }

    # -- field rules (the ledger form's) --

    def validate_partner(self, contact):
        if contact is None and (self.instance is None or self.instance.partner_id):
            raise serializers.ValidationError("Pick someone from your contacts.")
        return not_archived(contact, self.instance.partner_id if self.instance else None)

    def validate_prospect_name(self, name: str) -> str:
        return one_line(name, "Who is the prospect?")

    def validate_referred_on(self, day):
        return not_future(day)

    def validate_closed_on(self, day):
        return not_future(day)

    def validate_thanks_sent_on(self, day):
        return not_future(day)

    def validate_thanks_received_on(self, day):
        return not_future(day)

    def validate(self, data):
        if self.instance is not None and self.instance.is_shared:
            return self._validate_slip_row(data)
        current = self.instance
        merged = {
            name: getattr(current, name) if current is not None else None
            for name in ("status", "value", "closed_on", "referred_on")
        }
        merged.update({k: v for k, v in data.items() if k in merged})
        wanted_status = merged["status"] or Status.PASSED
        errors = {}
        if wanted_status in CLOSED_STATUSES and not merged["closed_on"]:
            errors["closed_on"] = ["A closed referral needs the date it closed."]
        if wanted_status == Status.WON and merged["value"] is None:
            errors["value"] = ["Enter the value of the closed business (0 if unknown)."]
        if wanted_status not in CLOSED_STATUSES:
            data["closed_on"] = None
            merged["closed_on"] = None
        referred_on = merged["referred_on"] or timezone.localdate()
        if merged["closed_on"] and merged["closed_on"] < referred_on:
            errors.setdefault("closed_on", []).append("It can't close before it was passed.")
        partner = data.get("partner")
        partner_id = (
            (partner.pk if partner else None)
            if "partner" in data
            else getattr(current, "partner_id", 0)
        )
        prospect = data.get("prospect_contact", None)
        prospect_id = (
            (prospect.pk if prospect else None)
            if "prospect_contact" in data
            else getattr(current, "prospect_contact_id", None)
        )
        if prospect_id and prospect_id == partner_id:
            errors["prospect_contact"] = ["The prospect is someone other than the partner."]
        if errors:
            raise serializers.ValidationError(errors)
        if current is None:
            data.setdefault("currency", self.context["request"].user.default_currency)
        return data

    def _validate_slip_row(self, data):
        """A slip's row: private notes freely; the slip's status, value, currency and dates
        as a correction (the slip page's form and rules); nothing else of the slip."""
        row = self.instance
        errors = {}
        for name, value in data.items():
            if name in PRIVATE_FIELDS or name in SLIP_CORRECTABLE:
                continue
            current = getattr(
                row, f"{name}_id" if name in ("partner", "prospect_contact") else name
            )
            given = value.pk if isinstance(value, Contact) else value
            if given != current:
                errors[name] = [
                    "This referral is a slip shared with a fellow member: this can't change here."
                ]
        slip = Slip.objects.select_related("group").get(pk=row.slip_id)
        wanted = {name: data[name] for name in SLIP_CORRECTABLE if name in data}
        if any(wanted[name] != getattr(slip, name) for name in wanted):
            merged = {name: getattr(slip, name) for name in SLIP_CORRECTABLE} | wanted
            form = CorrectSlipForm(
                {name: ("" if value is None else str(value)) for name, value in merged.items()},
                slip=slip,
            )
            if form.is_valid():
                data["_correction"] = {name: form.cleaned_data[name] for name in SLIP_CORRECTABLE}
            else:
                errors.update(form_errors(form))
        if errors:
            raise serializers.ValidationError(errors)
        data["_slip"] = slip
        return data

    def update(self, instance, validated_data):
        slip = validated_data.pop("_slip", None)
        correction = validated_data.pop("_correction", None)
        if slip is None:
            return self._update_private(instance, validated_data)
        with transaction.atomic():
            if correction:
                slips.correct(slip, self.context["request"].user, **correction)
            if "notes" in validated_data:
                Referral.objects.filter(pk=instance.pk).update(
                    notes=validated_data["notes"], updated_at=timezone.now()
                )
        return instance

    def _update_private(self, instance, validated_data):
        # As ReferralForm.save: a change of status is recorded in the history.
        status_changed = "status" in validated_data and validated_data["status"] != instance.status
        if validated_data.get("partner"):
            validated_data["partner_name"] = ""  # linked to a contact again
        with transaction.atomic():
            referral = super().update(instance, validated_data)
            if status_changed:
                StatusChange.objects.create(
                    referral=referral,
                    status=referral.status,
                    changed_on=referral.closed_on or timezone.localdate(),
                )
        return referral


class ReferralFilter(serializers.Serializer):
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    status = serializers.ChoiceField(
        choices=[("open", "Open (any open status)"), *Status.choices], required=False
    )
    partner = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this partner's (a contact)."
    )
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only referrals changed at or after this moment (for sync)."
    )


class ReferralAdvanceSerializer(StrictPlainSerializer):
    """An optional note for the history."""

    note = serializers.CharField(
        max_length=240, required=False, allow_blank=True, help_text="A note in your history."
    )


class ReferralCloseSerializer(StrictPlainSerializer):
    """How it closed: won (with its value), lost or not a fit."""

    status = serializers.ChoiceField(choices=[(s, s.label) for s in CLOSED_STATUSES])
    value = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=MAX_AMOUNT,
        required=False,
        allow_null=True,
        help_text="Value of closed business, a decimal string (needed when won).",
    )
    currency = serializers.ChoiceField(
        choices=CURRENCY_CHOICES,
        required=False,
        help_text="The value's currency (a slip's is its group's, and can't change here).",
    )
    closed_on = serializers.DateField(required=False, help_text="Defaults to today.")

    def validate_closed_on(self, day):
        return bounded(day)


def _form_data(data: dict) -> dict:
    return {
        k: ("" if v is None else v.isoformat() if isinstance(v, date) else str(v))
        for k, v in data.items()
    }


@extend_schema_view(
    list=extend_schema(summary="Your referral ledger", parameters=[ReferralFilter]),
    create=extend_schema(
        summary="Log a referral",
        description="A referral *given* to a contact linked to a fellow group member becomes a "
        "slip shared with them (`is_shared`, `slip`), as on the ledger page.",
    ),
    retrieve=extend_schema(summary="A referral, with its status history"),
    update=extend_schema(
        summary="Change a referral",
        description="A slip-backed row: `notes` always; status, value, currency and dates as a "
        "correction both members see; other fields of the slip can't change.",
    ),
    partial_update=extend_schema(summary="Change some fields of a referral"),
    destroy=extend_schema(
        summary="Delete a referral",
        description="A slip-backed row can't be deleted (409).",
        responses={204: None, **CONFLICT},
    ),
)
class ReferralViewSet(UserTimeMixin, OwnedViewSet):
    """Your referrals, given and received, with their status history."""

    model = Referral
    serializer_class = ReferralSerializer

    def get_queryset(self):
        queryset = super().get_queryset().prefetch_related("history")
        if self.action != "list":
            return queryset
        filters = read_filters(ReferralFilter, self.request)
        if direction := filters.get("direction"):
            queryset = queryset.filter(direction=direction)
        if (wanted := filters.get("status")) == "open":
            queryset = queryset.open()
        elif wanted:
            queryset = queryset.filter(status=wanted)
        if "partner" in filters:
            queryset = queryset.filter(partner_id=filters["partner"])
        if "updated_since" in filters:
            queryset = queryset.filter(updated_at__gte=filters["updated_since"])
        return queryset

    def _fresh(self, pk: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        with transaction.atomic():
            shared = sharing.share(self.request.user, data)
            if shared is not None:
                serializer.instance = shared
                return
            referral = serializer.save(owner=self.request.user)
            StatusChange.objects.create(
                referral=referral,
                status=referral.status,
                changed_on=referral.closed_on or timezone.localdate(),
            )

    def update(self, request, *args, **kwargs):
        super().update(request, *args, **kwargs)
        return self._fresh(self.get_object().pk)

    def perform_destroy(self, instance):
        if instance.is_shared:
            raise Conflict(
                "This referral is a slip shared with a fellow member: it stays in both ledgers."
            )
        instance.delete()

    def _slip_for(self, referral: Referral) -> Slip:
        slip = (
            Slip.objects.for_party(self.request.user)
            .select_related("group", "giver__user", "receiver__user")
            .filter(pk=referral.slip_id)
            .first()
        )
        if slip is None:
            raise exceptions.NotFound()
        if slip.receiver.user_id != self.request.user.pk:
            raise exceptions.PermissionDenied(
                "The member who received the slip moves and closes it; you can correct it "
                "(PATCH status, value or dates)."
            )
        return slip

    @extend_schema(
        summary="Move a referral one step forward",
        description="passed → contacted → meeting held. 409 if it has no next step (closed, "
        "or a slip that already moved on). A slip moves only by the member who received it.",
        request=ReferralAdvanceSerializer,
        responses={200: ReferralSerializer, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def advance(self, request, pk=None):
        referral = self.get_object()
        body = ReferralAdvanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = body.validated_data.get("note", "")
        if not referral.next_status:
            raise Conflict("This referral has no next step: close it instead.")
        if referral.is_shared:
            slip = self._slip_for(referral)
            with transaction.atomic():
                if not slips.advance(slip, request.user):
                    raise Conflict("It had already moved on.")
                if note:
                    latest = referral.history.order_by("-pk").first()
                    StatusChange.objects.filter(pk=latest.pk).update(note=note)
        else:
            referral.move_to(referral.next_status, note=note)
        return self._fresh(referral.pk)

    @extend_schema(
        summary="Close a referral",
        description="Won (with its value), lost or not a fit. A slip closes once, by the member "
        "who received it: closing it again is a 409 and adds nothing.",
        request=ReferralCloseSerializer,
        responses={200: ReferralSerializer, **CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        referral = self.get_object()
        body = ReferralCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        wanted = {
            "status": data["status"],
            "closed_on": data.get("closed_on") or timezone.localdate(),
            "value": data.get("value"),
        }
        if referral.is_shared:
            slip = self._slip_for(referral)
            if data.get("currency") and data["currency"] != slip.currency:
                raise serializers.ValidationError(
                    {"currency": [f"A slip's value is in its group's currency ({slip.currency})."]}
                )
            if not slip.is_open:
                raise Conflict("This slip is already closed: nothing was added.")
            form = CloseSlipForm(_form_data(wanted), slip=slip)
            if not form.is_valid():
                raise serializers.ValidationError(form_errors(form))
            clean = form.cleaned_data
            if not slips.close(
                slip,
                request.user,
                status=clean["status"],
                on=clean["closed_on"],
                value=clean["value"],
            ):
                raise Conflict("This slip is already closed: nothing was added.")
            return self._fresh(referral.pk)
        if not referral.is_open:
            raise Conflict("This referral is already closed: change it with PATCH if need be.")
        form = CloseForm(_form_data(wanted), referral=referral)
        if not form.is_valid():
            raise serializers.ValidationError(form_errors(form))
        clean = form.cleaned_data
        with transaction.atomic():
            if data.get("currency") and data["currency"] != referral.currency:
                referral.currency = data["currency"]
                referral.save(update_fields=["currency", "updated_at"])
            referral.move_to(clean["status"], on=clean["closed_on"], value=clean.get("value"))
        return self._fresh(referral.pk)


# --- Introductions and spends -------------------------------------------------------------


class ContactFilter(serializers.Serializer):
    contact = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only those with this contact."
    )


class IntroductionSerializer(StrictSerializer):
    """Two of your contacts you put in touch (a tri-win)."""

    contact_a = OwnedContactField(help_text="Introduce…")
    contact_b = OwnedContactField(help_text="…to (someone else).")

    class Meta:
        model = Introduction
        fields = [
            "id",
            "contact_a",
            "contact_b",
            "reason_a",
            "reason_b",
            "introduced_on",
            "method",
            "outcome",
            "notes",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {"notes": {"max_length": 4000}}

    def validate_contact_a(self, contact):
        return not_archived(contact, self.instance.contact_a_id if self.instance else None)

    def validate_contact_b(self, contact):
        return not_archived(contact, self.instance.contact_b_id if self.instance else None)

    def validate_introduced_on(self, day):
        return not_future(day)

    def validate(self, data):
        a = (
            data["contact_a"].pk
            if "contact_a" in data
            else getattr(self.instance, "contact_a_id", None)
        )
        b = (
            data["contact_b"].pk
            if "contact_b" in data
            else getattr(self.instance, "contact_b_id", None)
        )
        if a and a == b:
            raise serializers.ValidationError({"contact_b": ["Pick two different people."]})
        return data


@extend_schema_view(
    list=extend_schema(summary="Your introductions", parameters=[ContactFilter]),
    create=extend_schema(summary="Record an introduction"),
    retrieve=extend_schema(summary="An introduction"),
    update=extend_schema(summary="Change an introduction"),
    partial_update=extend_schema(summary="Change some fields of an introduction"),
    destroy=extend_schema(summary="Delete an introduction"),
)
class IntroductionViewSet(UserTimeMixin, OwnedViewSet):
    """Introductions you made between two of your contacts (tri-win). (No
    ``updated_since``: introductions keep no "updated" timestamp.)"""

    model = Introduction
    serializer_class = IntroductionSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            filters = read_filters(ContactFilter, self.request)
            if "contact" in filters:
                queryset = queryset.involving(filters["contact"])
        return queryset


class SpendSerializer(StrictSerializer):
    """Money you paid to a contact's business (the money trail)."""

    contact = OwnedContactField(help_text="The contact whose business you paid.")
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        help_text="A decimal string.",
    )
    currency = serializers.ChoiceField(
        choices=CURRENCY_CHOICES, required=False, help_text="Defaults to your currency."
    )

    class Meta:
        model = Spend
        fields = [
            "id",
            "contact",
            "spent_on",
            "amount",
            "currency",
            "description",
            "imported",
            "created_at",
        ]
        read_only_fields = ["imported", "created_at"]

    def validate_contact(self, contact):
        return not_archived(contact, self.instance.contact_id if self.instance else None)

    def validate_spent_on(self, day):
        return not_future(day)

    def validate(self, data):
        if self.instance is None:
            data.setdefault("currency", self.context["request"].user.default_currency)
        return data


@extend_schema_view(
    list=extend_schema(summary="Money you spent with contacts", parameters=[ContactFilter]),
    create=extend_schema(summary="Record a spend"),
    retrieve=extend_schema(summary="A spend"),
    update=extend_schema(summary="Change a spend"),
    partial_update=extend_schema(summary="Change some fields of a spend"),
    destroy=extend_schema(summary="Delete a spend"),
)
class SpendViewSet(UserTimeMixin, OwnedViewSet):
    """The money trail: what you paid to contacts' businesses. (No ``updated_since``:
    spends keep no "updated" timestamp.)"""

    model = Spend
    serializer_class = SpendSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            filters = read_filters(ContactFilter, self.request)
            if "contact" in filters:
                queryset = queryset.filter(contact_id=filters["contact"])
        return queryset


def register(router) -> None:
    router.register("followups", FollowUpViewSet, basename="followup")
    router.register("referrals", ReferralViewSet, basename="referral")
    router.register("introductions", IntroductionViewSet, basename="introduction")
    router.register("spends", SpendViewSet, basename="spend")
