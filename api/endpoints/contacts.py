"""Contacts (with their GAINS facts and tags), GAINS facts, tags and meetings.

The same rules as the pages: every queryset goes through ``for_user``, so another user's id
is a 404 in a URL and an "object does not exist" field error in a body; meetings are logged
through ``contacts.meetings.log_meeting`` (the quick log's code), in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Value
from django.db.models.functions import Lower
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from contacts import search
from contacts.forms import PHONE_RE
from contacts.meetings import FactInput, delete_meeting, log_meeting
from contacts.models import (
    Contact,
    GainsFact,
    GainsKind,
    Meeting,
    MeetingKind,
    Stage,
    Tag,
    tags_named,
)

from ..base import OwnedViewSet, StrictSerializer
from ..pagination import Cursor

MAX_CADENCE_DAYS = 3650  # ten years: longer is "no cadence" (null)
MAX_LIST_ITEMS = 20  # e-mails, phones, tags on one contact
MAX_ATTENDEES = 50
MAX_FACTS = 20
MAX_ID = 2**63 - 1
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _touch_contacts(ids) -> None:
    """Bump ``updated_at`` of contacts whose nested data (GAINS, last touch) changed, so a
    sync client reading ``?updated_since=`` sees them again."""
    Contact.objects.filter(pk__in=list(ids)).update(updated_at=timezone.now())


class StrictPlainSerializer(serializers.Serializer):
    """``StrictSerializer`` for bodies that are not a model (unknown fields are errors)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class OwnedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id among the request user's own rows: another user's id "does not exist"."""

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return self.queryset.for_user(user)


def _validate_filters(serializer_class, request) -> dict:
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


# --- Tags ----------------------------------------------------------------------


def _tag_name(value: str) -> str:
    name = _collapse(value).lstrip("#").strip()
    if not name:
        raise serializers.ValidationError("A tag needs a name.")
    return name


def _same_name(name: str) -> Q:
    """Case-insensitive, the way the database's unique constraint compares (``lower()``)."""
    return Q(name_lower=Lower(Value(name)))


class TagSerializer(StrictSerializer):
    """A tag; its name is unique among yours whatever the case (a leading # is dropped)."""

    class Meta:
        model = Tag
        fields = ["id", "name"]

    def validate_name(self, value: str) -> str:
        name = _tag_name(value)
        request = self.context["request"]
        clash = (
            Tag.objects.for_user(request.user)
            .alias(name_lower=Lower("name"))
            .filter(_same_name(name))
        )
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("You already have a tag with this name.")
        return name

    def save(self, **kwargs):
        try:
            with transaction.atomic():
                return super().save(**kwargs)
        except IntegrityError as exc:  # a concurrent request made the same name
            raise serializers.ValidationError(
                {"name": ["You already have a tag with this name."]}
            ) from exc


@extend_schema_view(list=extend_schema(responses={200: TagSerializer}))
class TagViewSet(OwnedViewSet):
    """Your tags. Names are unique regardless of case; renaming renames it on every contact."""

    model = Tag
    serializer_class = TagSerializer


# --- Contacts --------------------------------------------------------------------


class GainsBriefSerializer(serializers.ModelSerializer):
    """One GAINS fact, as listed on its contact."""

    class Meta:
        model = GainsFact
        fields = ["id", "kind", "text", "learned_on"]
        read_only_fields = fields


class TagNamesField(serializers.ListField):
    """Tag names; written as a list of names, read from the prefetched tags."""

    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.CharField(max_length=40),
            max_length=MAX_LIST_ITEMS,
            **kwargs,
        )

    def to_representation(self, data):
        return [tag.name for tag in data.all()]

    def to_internal_value(self, data):
        names: list[str] = []
        for name in super().to_internal_value(data):
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
        return names

    def run_child_validation(self, data):
        names = super().run_child_validation(data)
        errors = {}
        cleaned = []
        for index, name in enumerate(names):
            try:
                cleaned.append(_tag_name(name))
            except serializers.ValidationError as exc:
                errors[index] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return cleaned


class ContactSerializer(StrictSerializer):
    """A contact: who they are, the relationship (stage, cadence, referrability), tags and
    their GAINS profile."""

    # A URL or "": checked in validate_website, not as a field validator, so the schema
    # does not claim ``format: uri`` of a value that may be empty.
    website = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="An http(s) URL, or empty."
    )
    emails = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        max_length=MAX_LIST_ITEMS,
        required=False,
        help_text="E-mail addresses (stored in lower case).",
    )
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=MAX_LIST_ITEMS,
        required=False,
        help_text="Phone numbers: digits, spaces, + ( ) - . and an optional extension.",
    )
    tags = TagNamesField(
        required=False,
        help_text="Tag names. Missing tags are made; an existing tag is reused whatever its "
        "case. Leave out to keep the contact's tags; [] removes them all.",
    )
    cadence_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_CADENCE_DAYS,
        allow_null=True,
        required=False,
        help_text="Keep in touch every N days; null for no cadence.",
    )
    gains = GainsBriefSerializer(
        source="gains_facts",
        many=True,
        read_only=True,
        help_text="The GAINS profile, newest first (change it through /gains-facts/).",
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "company",
            "profession",
            "emails",
            "phones",
            "website",
            "address",
            "city",
            "met_how",
            "notes",
            "tags",
            "stage",
            "cadence_days",
            "is_expert",
            "is_passionate",
            "honours_referrals",
            "word_of_mouth",
            "is_archived",
            "last_touched_at",
            "created_at",
            "updated_at",
            "gains",
        ]
        read_only_fields = ["last_touched_at", "created_at", "updated_at"]

    def validate_name(self, value: str) -> str:
        name = _collapse(value)
        if not name:
            raise serializers.ValidationError("A contact needs a name.")
        return name

    def validate_emails(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(e.lower() for e in value))

    def validate_website(self, value: str) -> str:
        if value:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError("Enter a valid URL.") from exc
        return value

    def validate_phones(self, value: list[str]) -> list[str]:
        bad = [p for p in value if not PHONE_RE.match(p) or sum(c.isdigit() for c in p) < 5]
        if bad:
            raise serializers.ValidationError(
                f"Not a phone number: {', '.join(bad)}. Use digits, spaces, + ( ) - ."
            )
        return value

    def create(self, validated_data):
        names = validated_data.pop("tags", [])
        contact = super().create(validated_data)
        contact.tags.set(tags_named(contact.owner, names))
        return contact

    def update(self, instance, validated_data):
        names = validated_data.pop("tags", None)
        contact = super().update(instance, validated_data)
        if names is not None:
            contact.tags.set(tags_named(contact.owner, names))
        return contact


class ContactFilters(serializers.Serializer):
    """Query parameters of the contact list (validated: a bad value is a 400 on it)."""

    updated_since = serializers.DateTimeField(
        required=False,
        help_text="Only contacts changed at or after this time (ISO 8601). The list is then "
        "in order of change (oldest first): walk the pages, then sync again from the "
        "last updated_at you saw. A contact changes when its fields, tags, GAINS facts or "
        "last touch change.",
    )
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    tag = serializers.CharField(required=False, max_length=40, help_text="A tag name (any case).")
    q = serializers.CharField(
        required=False,
        max_length=120,
        help_text="Search name, company, profession, city, tags and GAINS facts.",
    )
    archived = serializers.ChoiceField(
        choices=[("false", "false"), ("true", "true"), ("all", "all")],
        default="false",
        help_text="false (default): active contacts; true: archived ones; all: both "
        "(what a sync client wants).",
    )


class SyncCursor(Cursor):
    """Oldest change first, so a sync walking the pages sees a contact changed mid-walk
    again at the end (it moves past the cursor)."""

    ordering = ("updated_at", "pk")


def contact_queryset(user):
    return Contact.objects.for_user(user).prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch(
            "gains_facts",
            queryset=GainsFact.objects.only("id", "contact_id", "kind", "text", "learned_on"),
        ),
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[ContactFilters],
        responses={200: ContactSerializer},
    ),
    destroy=extend_schema(
        description="Delete the contact, their GAINS facts, and meetings where they were "
        "the only attendee."
    ),
)
class ContactViewSet(OwnedViewSet):
    """Your contacts, each with their tags and GAINS profile."""

    model = Contact
    serializer_class = ContactSerializer

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            sync = self.action == "list" and "updated_since" in self.request.query_params
            self._paginator = SyncCursor() if sync else Cursor()
        return self._paginator

    def get_queryset(self):
        contacts = contact_queryset(self.request.user)
        if self.action != "list":
            return contacts
        filters = _validate_filters(ContactFilters, self.request)
        archived = filters["archived"]
        if archived != "all":
            contacts = contacts.filter(is_archived=archived == "true")
        if "updated_since" in filters:
            contacts = contacts.filter(updated_at__gte=filters["updated_since"])
        if stage := filters.get("stage"):
            contacts = contacts.filter(stage=stage)
        if tag := filters.get("tag"):
            tag = tag.lstrip("#")
            contacts = contacts.filter(
                Exists(Tag.objects.filter(contacts=OuterRef("pk"), name__iexact=tag))
            )
        if q := filters.get("q"):
            flag = None if archived == "all" else archived == "true"
            owner = self.request.user.pk
            contacts = search.keyed_matching(
                contacts,
                q,
                owner,
                archived=flag,
                stage=stage or None,
                tag=tag or None,
            )
        return contacts

    @transaction.atomic
    def perform_destroy(self, instance):
        # As the page does: meetings with nobody else in them would have no attendee left.
        Meeting.objects.for_user(self.request.user).annotate(n=Count("attendees")).filter(
            n=1, attendees=instance
        ).delete()
        instance.delete()


# --- GAINS facts --------------------------------------------------------------------


class GainsFactSerializer(StrictSerializer):
    """A GAINS fact about one of your contacts; ``meeting`` is where it was learned, if at
    one."""

    contact = OwnedPrimaryKeyRelatedField(
        queryset=Contact.objects, help_text="One of your contacts."
    )

    class Meta:
        model = GainsFact
        fields = ["id", "contact", "kind", "text", "learned_on", "meeting", "created_at"]
        read_only_fields = ["meeting", "created_at"]

    def validate_text(self, value: str) -> str:
        text = _collapse(value)
        if not text:
            raise serializers.ValidationError("Write the fact you learned.")
        return text

    def validate_learned_on(self, value):
        if value > timezone.localdate() + timedelta(days=1):
            raise serializers.ValidationError("That date is in the future.")
        return value


class GainsFactFilters(serializers.Serializer):
    """Query parameters of the GAINS fact list."""

    contact = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Facts about this contact."
    )
    kind = serializers.ChoiceField(choices=GainsKind.choices, required=False)


@extend_schema_view(
    list=extend_schema(
        parameters=[GainsFactFilters],
        responses={200: GainsFactSerializer},
    )
)
class GainsFactViewSet(OwnedViewSet):
    """GAINS facts (Goals, Accomplishments, Interests, Networks, Skills) about your contacts."""

    model = GainsFact
    serializer_class = GainsFactSerializer

    def get_queryset(self):
        facts = super().get_queryset()
        if self.action != "list":
            return facts
        filters = _validate_filters(GainsFactFilters, self.request)
        if "contact" in filters:
            facts = facts.filter(contact_id=filters["contact"])
        if "kind" in filters:
            facts = facts.filter(kind=filters["kind"])
        return facts

    def perform_create(self, serializer):
        super().perform_create(serializer)
        _touch_contacts([serializer.instance.contact_id])

    def perform_update(self, serializer):
        before = serializer.instance.contact_id
        super().perform_update(serializer)
        _touch_contacts({before, serializer.instance.contact_id})

    def perform_destroy(self, instance):
        contact_id = instance.contact_id
        super().perform_destroy(instance)
        _touch_contacts([contact_id])


# --- Meetings -------------------------------------------------------------------------


class MeetingFactSerializer(serializers.ModelSerializer):
    """A GAINS fact learned at the meeting, about one attendee."""

    class Meta:
        model = GainsFact
        fields = ["id", "contact", "kind", "text", "learned_on"]
        read_only_fields = fields


class MeetingSerializer(serializers.ModelSerializer):
    """A logged meeting with its attendees and the GAINS facts learned there."""

    attendees = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Ids of the contacts met."
    )
    facts = MeetingFactSerializer(
        source="gains_facts", many=True, read_only=True, help_text="GAINS facts learned."
    )

    class Meta:
        model = Meeting
        fields = ["id", "kind", "occurred_at", "place", "notes", "attendees", "facts", "created_at"]
        read_only_fields = fields


class FactInputSerializer(StrictPlainSerializer):
    """A GAINS fact learned at the meeting: about one attendee, or (no contact) each."""

    contact = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="The attendee the fact is about; leave out (or null) for every attendee.",
    )
    kind = serializers.ChoiceField(choices=GainsKind.choices)
    text = serializers.CharField(max_length=280)

    def validate_text(self, value: str) -> str:
        text = _collapse(value)
        if not text:
            raise serializers.ValidationError("Write the fact you learned.")
        return text


class MeetingCreateSerializer(StrictPlainSerializer):
    """A meeting logged in one call, as the quick log does: attendees' last touch moves to
    ``occurred_at`` and the facts join their GAINS profiles."""

    attendees = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_ATTENDEES,
        help_text="Ids of your (active) contacts you met.",
    )
    kind = serializers.ChoiceField(choices=MeetingKind.choices, default=MeetingKind.ONE_TO_ONE)
    occurred_at = serializers.DateTimeField(
        help_text="When it happened: not more than a day ahead, not before 1900."
    )
    place = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    notes = serializers.CharField(required=False, default="", allow_blank=True)
    facts = FactInputSerializer(many=True, required=False, default=list, max_length=MAX_FACTS)

    def validate_attendees(self, value: list[int]) -> list[Contact]:
        wanted = list(dict.fromkeys(value))
        user = self.context["request"].user
        found = Contact.objects.for_user(user).active().in_bulk(wanted)
        missing = [pk for pk in wanted if pk not in found]
        if missing:
            raise serializers.ValidationError(
                [f'Invalid pk "{pk}" - object does not exist.' for pk in missing]
            )
        return [found[pk] for pk in wanted]

    def validate_occurred_at(self, value: datetime) -> datetime:
        if value > timezone.now() + timedelta(days=1):
            raise serializers.ValidationError("A meeting can't be logged more than a day ahead.")
        if value < EARLIEST:
            raise serializers.ValidationError("A meeting can't be logged before 1900.")
        return value

    def validate(self, data):
        attendees = {c.pk: c for c in data.get("attendees", [])}
        facts, errors = [], {}
        for index, fact in enumerate(data.get("facts", [])):
            about = fact.get("contact")
            if about is not None and about not in attendees:
                errors[index] = {"contact": ["Not one of this meeting's attendees."]}
                continue
            facts.append(
                FactInput(
                    kind=fact["kind"],
                    text=fact["text"],
                    about=attendees[about] if about is not None else None,
                )
            )
        if errors:
            raise serializers.ValidationError({"facts": errors})
        data["facts"] = facts
        return data


class MeetingFilters(serializers.Serializer):
    """Query parameters of the meeting list."""

    contact = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Meetings with this contact."
    )
    since = serializers.DateTimeField(
        required=False, help_text="Meetings that happened at or after this time (ISO 8601)."
    )
    until = serializers.DateTimeField(
        required=False, help_text="Meetings that happened before this time (ISO 8601)."
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[MeetingFilters],
        responses={200: MeetingSerializer},
    ),
    create=extend_schema(
        request=MeetingCreateSerializer,
        responses={201: MeetingSerializer},
        description="Log a meeting with its attendees and GAINS facts in one call.",
    ),
    destroy=extend_schema(
        description="Delete a meeting; each attendee's last touch moves back to their "
        "latest other meeting."
    ),
)
class MeetingViewSet(OwnedViewSet):
    """Meetings you logged (one-to-ones, coffees, calls, events...)."""

    model = Meeting
    serializer_class = MeetingSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        meetings = (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch("attendees", queryset=Contact.objects.only("id")),
                Prefetch(
                    "gains_facts",
                    queryset=GainsFact.objects.only(
                        "id", "meeting_id", "contact_id", "kind", "text", "learned_on"
                    ),
                ),
            )
        )
        if self.action != "list":
            return meetings
        filters = _validate_filters(MeetingFilters, self.request)
        if "contact" in filters:
            meetings = meetings.filter(attendees=filters["contact"])
        if "since" in filters:
            meetings = meetings.filter(occurred_at__gte=filters["since"])
        if "until" in filters:
            meetings = meetings.filter(occurred_at__lt=filters["until"])
        return meetings

    def create(self, request, *args, **kwargs):
        serializer = MeetingCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            meeting = log_meeting(
                owner=request.user,
                occurred_at=data["occurred_at"],
                kind=data["kind"],
                attendees=data["attendees"],
                place=data["place"],
                notes=data["notes"],
                facts=data["facts"],
            )
            _touch_contacts(c.pk for c in data["attendees"])
        meeting = self.get_queryset().get(pk=meeting.pk)
        return Response(MeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        with transaction.atomic():
            attendee_ids = [c.pk for c in instance.attendees.all()]
            delete_meeting(instance)
            _touch_contacts(attendee_ids)


def register(router) -> None:
    router.register("contacts", ContactViewSet, basename="contact")
    router.register("gains-facts", GainsFactViewSet, basename="gains-fact")
    router.register("meetings", MeetingViewSet, basename="meeting")
    router.register("tags", TagViewSet, basename="tag")
