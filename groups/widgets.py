"""What groups adds to the dashboard and the contact page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from contacts.picker import Suggestion
from referralcrm.dashboard import Widget
from referrals.models import Status
from referrals.money import format_totals

from .members import current_memberships
from .models import CURRENT_STATUSES, GroupMeeting, Membership, Slip

WIDGET_GROUPS = 3


@dataclass
class GroupLine:
    membership: Membership
    next_meeting: date
    given: int = 0
    received: int = 0
    thanks: list = field(default_factory=list)

    @property
    def thanks_display(self) -> str:
        return format_totals(sorted(self.thanks))


def in_a_group(request) -> bool:
    """Whether the dashboard holds a place for the group widget (one query)."""
    return current_memberships(request.user).exists()


def group_widget(request) -> Widget | None:
    """Next meeting and this month's slips in each of the user's groups: 1 query with no
    group, 4 with any."""
    memberships = list(
        current_memberships(request.user)
        .select_related("group")
        .order_by("group__name")[:WIDGET_GROUPS]
    )
    if not memberships:
        return None
    today = timezone.localdate()
    start = today.replace(day=1)
    groups = [m.group_id for m in memberships]
    mine = [m.pk for m in memberships]
    scheduled = GroupMeeting.objects.next_per_group(groups, today)
    lines = {
        m.group_id: GroupLine(
            m,
            scheduled[m.group_id].on
            if m.group_id in scheduled
            else m.group.next_meeting_date(today),
        )
        for m in memberships
    }
    counts = (
        Slip.objects.filter(Q(giver__in=mine) | Q(receiver__in=mine), referred_on__gte=start)
        .values_list("group")
        .annotate(
            given=Count("pk", filter=Q(giver__in=mine)),
            received=Count("pk", filter=Q(receiver__in=mine)),
        )
        .order_by()
    )
    for group_id, given, received in counts:
        lines[group_id].given, lines[group_id].received = given, received
    thanks = (
        Slip.objects.filter(giver__in=mine, status=Status.WON, closed_on__gte=start)
        .exclude(value=None)
        .values_list("group", "currency")
        .annotate(total=Sum("value"))
        .order_by()
    )
    for group_id, currency, total in thanks:
        lines[group_id].thanks.append((currency, total))
    return Widget("groups/widgets/group.html", {"lines": list(lines.values())})


def fellow_member_panel(request, contact) -> Widget | None:
    """A contact linked to a fellow member shows what that member shares with the groups
    both belong to, live from their profile. No query for other contacts."""
    if not contact.linked_user_id:
        return None
    memberships = list(
        Membership.objects.filter(
            user_id=contact.linked_user_id,
            status__in=CURRENT_STATUSES,
            group__memberships__user=request.user,
            group__memberships__status__in=CURRENT_STATUSES,
        )
        .select_related("group", "user")
        .distinct()
    )
    if not memberships:
        return None
    return Widget("groups/panels/fellow_member.html", {"memberships": memberships})


def member_suggestions(user, q: str, limit: int) -> list:
    """Fellow members matching ``q`` who are not in the user's contacts yet: one query."""
    linked = Contact.objects.for_user(user).exclude(linked_user=None).values("linked_user")
    members = (
        Membership.objects.filter(
            status="active",
            group__memberships__user=user,
            group__memberships__status__in=CURRENT_STATUSES,
        )
        .filter(Q(user__display_name__icontains=q) | Q(seat__icontains=q))
        .exclude(user=user)
        .exclude(user__in=linked)
        .select_related("user", "group")
        .order_by("user__display_name", "pk")
        .distinct()[:limit]
    )
    seen, found = set(), []
    for m in members:
        if m.user_id in seen:
            continue
        seen.add(m.user_id)
        detail = ", ".join(part for part in (m.seat, f"member of {m.group.name}") if part)
        found.append(Suggestion(m.name, detail, reverse("groups:pick_member", args=[m.pk])))
    return found
