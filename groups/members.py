"""Members and their place in each other's private networks."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from contacts.models import Contact

from .models import CURRENT_STATUSES, Group, Invitation, Membership, MembershipStatus, Role


def contact_for(owner, member_user, seat: str = "") -> tuple[Contact, bool]:
    """``owner``'s contact for a fellow member: the linked one, else one made and linked.

    An existing unlinked contact with the member's e-mail is linked rather than duplicated.
    Returns (contact, created).
    """
    contact = Contact.objects.for_user(owner).filter(linked_user=member_user).first()
    if contact:
        return contact, False
    email = member_user.email.lower()
    match = None
    if connection.vendor == "postgresql":  # JSON containment; SQLite has none
        match = (
            Contact.objects.for_user(owner)
            .filter(linked_user__isnull=True, emails__contains=[email])
            .order_by("is_archived", "pk")
            .first()
        )
    if match:
        match.linked_user = member_user
        match.save(update_fields=["linked_user", "updated_at"])
        return match, False
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                owner=owner,
                linked_user=member_user,
                name=member_user.display_name or member_user.email,
                company=member_user.business_name,
                profession=seat or member_user.profession,
                emails=[email],
                met_how="Fellow member of my networking group",
            )
    except IntegrityError:  # made by a concurrent request
        return Contact.objects.for_user(owner).get(linked_user=member_user), False
    return contact, True


def current_memberships(user):
    """``user``'s memberships that see their group (active or on leave)."""
    return Membership.objects.of_user(user).filter(status__in=CURRENT_STATUSES)


def fellow_membership(user, membership_id) -> Membership | None:
    """A current membership of a group ``user`` is a current member of, or None."""
    return (
        Membership.objects.filter(
            pk=membership_id,
            status__in=CURRENT_STATUSES,
            group__memberships__user=user,
            group__memberships__status__in=CURRENT_STATUSES,
        )
        .select_related("user", "group")
        .first()
    )


def shared_groups(user_a_id: int, user_b_id: int) -> dict[int, tuple[int, int]]:
    """{group id: (membership of a, membership of b)} for groups both currently belong to."""
    rows = Membership.objects.filter(
        user_id__in=[user_a_id, user_b_id], status__in=CURRENT_STATUSES
    ).values_list("group_id", "user_id", "pk")
    by_group: dict[int, dict[int, int]] = {}
    for group_id, user_id, pk in rows:
        by_group.setdefault(group_id, {})[user_id] = pk
    return {
        g: (members[user_a_id], members[user_b_id])
        for g, members in by_group.items()
        if user_a_id in members and user_b_id in members
    }


# --- When a member deletes their account -------------------------------------------------


def handover_needed(user) -> list[Group]:
    """Groups ``user`` is the only active organiser of while others still belong to them:
    they make another member organiser (on the organisers' site) before deleting their
    account, so the group is not left without anyone to run it."""
    organisers = Membership.objects.filter(role=Role.ORGANISER, status=MembershipStatus.ACTIVE)
    others = Membership.objects.filter(status__in=CURRENT_STATUSES).exclude(user=user)
    return list(
        Group.objects.filter(pk__in=organisers.filter(user=user).values("group"))
        .exclude(pk__in=organisers.exclude(user=user).values("group"))
        .filter(pk__in=others.values("group"))
        .order_by("name")
    )


def solo_groups(user):
    """Groups nobody but ``user`` ever belonged to: no slips, nobody's history; they go
    with the account."""
    return Group.objects.filter(
        pk__in=Membership.objects.filter(user=user).values("group")
    ).exclude(pk__in=Membership.objects.exclude(user=user).values("group"))


def forget(user) -> None:
    """Just before ``user`` is deleted (``groups.signals``): their groups keep their history.

    Each membership stays, detached and "left", so the slips, one-to-ones and attendance
    that point at it stay in the group's figures as "former member". Groups only they ever
    belonged to are deleted, and so are the invitations they accepted (which carry their
    e-mail address).
    """
    solo_groups(user).delete()
    Invitation.objects.filter(accepted_by=user).delete()
    Membership.objects.filter(user=user).keep_as_former()
