"""Groups as their members see them: my current groups, a group's roster (each member's seat
and the GAINS parts they chose to share, as on the roster page) and the slips I gave or
received, with their audit trail. Read-only: slips move and close through the referral they
back (``/referrals/{id}/advance/``, ``/close/``, PATCH), i.e. through ``groups.slips``.

Scoping as on the pages: a group is found among the user's current memberships, a slip among
those they are a party to; anything else is a 404. The other side's private notes (their
ledger row) never leave it: only the caller's own row is read.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action

from contacts.models import Contact
from groups.members import current_memberships
from groups.models import (
    CURRENT_STATUSES,
    GAINS_PARTS,
    GroupMeeting,
    Membership,
    MembershipStatus,
    Role,
    Slip,
    SlipChange,
    Weekday,
)
from referralcrm.http import parse_id
from referrals.models import Direction, Referral, Status

from ..pagination import Cursor
from .ledger import MAX_ID, UserTimeMixin, read_filters

# A member who sees the group is active or on leave (for ENUM_NAME_OVERRIDES, too).
CURRENT_STATUS_CHOICES = [(s, MembershipStatus(s).label) for s in CURRENT_STATUSES]


class _ReadOnlyById(UserTimeMixin, viewsets.GenericViewSet):
    pagination_class = Cursor

    def object_pk(self) -> int:
        pk = parse_id(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field))
        if pk is None:
            raise exceptions.NotFound()
        return pk


# --- My groups and their rosters ----------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}$", "example": "07:00"})
class ClockTimeField(serializers.TimeField):
    """A local time of day as HH:MM (OpenAPI's "time" format would need a UTC offset)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class NextMeetingSerializer(serializers.Serializer):
    on = serializers.DateField()
    starts_at = ClockTimeField(allow_null=True)
    place = serializers.CharField(allow_blank=True)


class GroupSerializer(serializers.Serializer):
    """One of my groups (built from my membership of it)."""

    id = serializers.IntegerField(source="group.id")
    name = serializers.CharField(source="group.name")
    city = serializers.CharField(source="group.city", allow_blank=True)
    description = serializers.CharField(source="group.description", allow_blank=True)
    meeting_weekday = serializers.ChoiceField(
        choices=Weekday.choices, source="group.meeting_weekday", help_text="0 is Monday."
    )
    meeting_time = ClockTimeField(source="group.meeting_time")
    meeting_place = serializers.CharField(source="group.meeting_place", allow_blank=True)
    currency = serializers.CharField(source="group.currency")
    my_role = serializers.ChoiceField(choices=Role.choices, source="role")
    my_seat = serializers.CharField(source="seat", allow_blank=True)
    my_status = serializers.ChoiceField(choices=CURRENT_STATUS_CHOICES, source="status")
    next_meeting = NextMeetingSerializer(
        allow_null=True, help_text="The next scheduled meeting, if one is scheduled."
    )


class SharedPartSerializer(serializers.Serializer):
    part = serializers.ChoiceField(choices=GAINS_PARTS)
    label = serializers.CharField()
    text = serializers.CharField()


class RosterMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The membership's id.")
    name = serializers.CharField()
    business_name = serializers.CharField(source="user.business_name", allow_blank=True)
    seat = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.ChoiceField(choices=CURRENT_STATUS_CHOICES)
    is_me = serializers.BooleanField()
    my_contact = serializers.IntegerField(
        allow_null=True, help_text="Your contact linked to this member, if you have one."
    )
    shared_gains = serializers.SerializerMethodField(
        help_text="The parts of their GAINS profile the member shares with the group."
    )

    @extend_schema_field(SharedPartSerializer(many=True))
    def get_shared_gains(self, member: Membership) -> list[dict]:
        shared = set(member.shared_gains or [])
        return [
            {"part": part, "label": label, "text": text}
            for part, label in GAINS_PARTS
            if part in shared and (text := getattr(member.user, part))
        ]


class RosterCursor(Cursor):
    page_size = 100
    ordering = "pk"


@extend_schema_view(
    list=extend_schema(summary="My groups"),
    retrieve=extend_schema(summary="One of my groups"),
)
class GroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ReadOnlyById):
    """The groups you currently belong to (active or on leave): 404 for any other."""

    serializer_class = GroupSerializer

    def get_queryset(self):
        return current_memberships(self.request.user).select_related("group")

    def get_object(self) -> Membership:
        membership = get_object_or_404(self.get_queryset(), group_id=self.object_pk())
        self._attach_next_meetings([membership])
        return membership

    @staticmethod
    def _attach_next_meetings(memberships) -> None:
        upcoming = GroupMeeting.objects.next_per_group([m.group_id for m in memberships])
        for membership in memberships:
            membership.next_meeting = upcoming.get(membership.group_id)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if self.action == "list" and page is not None:
            self._attach_next_meetings(page)
        return page

    @extend_schema(
        summary="A group's roster",
        description="Current members with their seat and the GAINS parts they share.",
        responses=RosterMemberSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=RosterCursor)
    def roster(self, request, pk=None):
        me = get_object_or_404(self.get_queryset(), group_id=self.object_pk())
        members = Membership.objects.filter(
            group_id=me.group_id, status__in=CURRENT_STATUSES
        ).select_related("user")
        page = self.paginate_queryset(members)
        linked = dict(
            Contact.objects.for_user(request.user)
            .filter(linked_user__in=[m.user_id for m in page])
            .values_list("linked_user", "pk")
        )
        for member in page:
            member.is_me = member.user_id == request.user.pk
            member.my_contact = linked.get(member.user_id)
        return self.get_paginated_response(RosterMemberSerializer(page, many=True).data)


# --- Slips --------------------------------------------------------------------------------


class MemberRefSerializer(serializers.Serializer):
    membership = serializers.IntegerField(source="pk")
    name = serializers.CharField(help_text='"former member" once they deleted their account.')
    seat = serializers.CharField(allow_blank=True)


class SlipChangeSerializer(serializers.ModelSerializer):
    label = serializers.CharField()
    changed_by = serializers.SerializerMethodField()

    class Meta:
        model = SlipChange
        fields = ["field", "label", "old", "new", "changed_at", "changed_by"]

    @extend_schema_field(serializers.CharField())
    def get_changed_by(self, change: SlipChange) -> str:
        return str(change.changed_by) if change.changed_by else "former member"


class SlipSerializer(serializers.ModelSerializer):
    group_name = serializers.CharField(source="group.name")
    direction = serializers.SerializerMethodField(help_text="Given or received, by you.")
    giver = MemberRefSerializer()
    receiver = MemberRefSerializer()
    value = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    my_referral = serializers.SerializerMethodField(
        help_text="Your ledger row of this slip (/referrals/{id}/), null if it was deleted."
    )
    my_notes = serializers.SerializerMethodField(
        help_text="Your private notes on it (the other member never sees them)."
    )
    changes = SlipChangeSerializer(many=True, help_text="The audit trail both sides see.")

    class Meta:
        model = Slip
        fields = [
            "id",
            "group",
            "group_name",
            "direction",
            "giver",
            "receiver",
            "prospect_name",
            "prospect_reach",
            "need",
            "referred_on",
            "temperature",
            "status",
            "value",
            "currency",
            "closed_on",
            "my_referral",
            "my_notes",
            "changes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _my_row(self, slip: Slip) -> Referral | None:
        rows = getattr(slip, "my_rows", None)
        return rows[0] if rows else None

    @extend_schema_field(serializers.ChoiceField(choices=Direction.choices))
    def get_direction(self, slip: Slip) -> str:
        user = self.context["request"].user
        return Direction.RECEIVED if slip.receiver.user_id == user.pk else Direction.GIVEN

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_my_referral(self, slip: Slip) -> int | None:
        row = self._my_row(slip)
        return row.pk if row else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_my_notes(self, slip: Slip) -> str | None:
        row = self._my_row(slip)
        return row.notes if row else None


class SlipFilter(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=Direction.choices, required=False, help_text="Slips you gave, or received."
    )
    status = serializers.ChoiceField(
        choices=[("open", "Open (any open status)"), *Status.choices], required=False
    )
    group = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only slips changed at or after this moment (for sync)."
    )


@extend_schema_view(
    list=extend_schema(summary="Slips I gave or received", parameters=[SlipFilter]),
    retrieve=extend_schema(summary="A slip I gave or received, with its audit trail"),
)
class SlipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _ReadOnlyById):
    """Slips between you and fellow members, across your groups (past ones too)."""

    serializer_class = SlipSerializer

    def get_queryset(self):
        user = self.request.user
        queryset = (
            Slip.objects.for_party(user)
            .select_related("group", "giver__user", "receiver__user")
            .prefetch_related(
                Prefetch("changes", queryset=SlipChange.objects.select_related("changed_by")),
                # Only the caller's own ledger row: the other side's notes are never read.
                Prefetch(
                    "ledger_rows",
                    queryset=Referral.objects.for_user(user).only("id", "slip_id", "notes"),
                    to_attr="my_rows",
                ),
            )
        )
        if self.action != "list":
            return queryset
        filters = read_filters(SlipFilter, self.request)
        if (direction := filters.get("direction")) == Direction.GIVEN:
            queryset = queryset.filter(giver__user=user)
        elif direction == Direction.RECEIVED:
            queryset = queryset.filter(receiver__user=user)
        if (wanted := filters.get("status")) == "open":
            queryset = queryset.open()
        elif wanted:
            queryset = queryset.filter(status=wanted)
        if "group" in filters:
            queryset = queryset.filter(group_id=filters["group"])
        if "updated_since" in filters:
            queryset = queryset.filter(updated_at__gte=filters["updated_since"])
        return queryset

    def get_object(self) -> Slip:
        return get_object_or_404(self.get_queryset(), pk=self.object_pk())


def register(router) -> None:
    router.register("groups", GroupViewSet, basename="group")
    router.register("slips", SlipViewSet, basename="slip")
