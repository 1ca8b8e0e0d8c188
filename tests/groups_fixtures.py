"""Building blocks for the groups tests: a group with an organiser (with TOTP) and members."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from allauth.mfa.models import Authenticator
from django.utils import timezone

from groups.models import Group, Membership, Role
from tests.conftest import make_user

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def with_totp(user):
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": TOTP_SECRET}
    )
    return user


def build_group(name: str = "Leeds Chapter", *, members=(), organiser_email: str | None = None):
    """A group, its organiser (an MFA-enrolled member) and a membership per user given."""
    group = Group.objects.create(name=name, city="Leeds", currency="USD")
    organiser = with_totp(
        make_user(organiser_email or f"org-{group.pk}@example.com", display_name=f"Org {name}")
    )
    org_membership = Membership.objects.create(
        group=group, user=organiser, role=Role.ORGANISER, seat="Accountant"
    )
    memberships = {
        user.email.split("@")[0]: Membership.objects.create(
            group=group, user=user, seat=f"Seat of {user.email.split('@')[0]}"
        )
        for user in members
    }
    return SimpleNamespace(
        group=group, organiser=organiser, org_membership=org_membership, m=memberships
    )


def furnish(chapter, tag: str, today: date | None = None) -> SimpleNamespace:
    """Give a group from ``build_group`` (with at least two members) a life: a past and a
    today's meeting with attendance (a substitute too), a visitor, a waiting invitation and
    two slips made through ``groups.slips`` (so both ledger rows exist), one closed won.
    Every text carries ``tag``, so a page showing any of it can be caught.
    """
    from groups import slips
    from groups.models import Attendance, GroupMeeting, Invitation, Visitor

    today = today or timezone.localdate()
    first, second = list(chapter.m.values())[:2]
    slug = tag.lower().replace(" ", "-")
    past = GroupMeeting.objects.create(
        group=chapter.group, on=today - timedelta(days=7), place=f"{tag} Hall"
    )
    now = GroupMeeting.objects.create(group=chapter.group, on=today, place=f"{tag} Hall")
    for meeting in (past, now):
        Attendance.objects.create(
            meeting=meeting, membership=first, code="P", recorded_by=chapter.organiser
        )
    Attendance.objects.create(
        meeting=past, membership=second, code="S", substitute_name=f"{tag} Substitute"
    )
    visitor = Visitor.objects.create(
        group=chapter.group,
        meeting=past,
        brought_by=first,
        name=f"{tag} Visitor",
        profession=f"{tag} Plumber",
        email=f"{slug}-visitor@example.com",
        visited_on=past.on,
    )
    invitation = Invitation.objects.create(
        group=chapter.group,
        email=f"{slug}-invitee@example.com",
        seat=f"{tag} Invited Seat",
        invited_by=chapter.organiser,
    )
    slip = slips.give(
        giver=first,
        receiver=second,
        by=first.user,
        prospect_name=f"{tag} Prospect",
        need=f"{tag} need",
        referred_on=today,
    )
    won = slips.give(
        giver=second,
        receiver=first,
        by=second.user,
        prospect_name=f"{tag} Winner",
        referred_on=today,
    )
    slips.close(won, first.user, status="won", on=today, value=Decimal("1234"))
    return SimpleNamespace(
        past=past, now=now, visitor=visitor, invitation=invitation, slip=slip, won=won
    )


REPORT_COLUMNS = [
    "seat",
    "given",
    "received",
    "outside",
    "closed_received",
    "closed_given",
    "one_to_ones",
    "attendance",
    "visitors",
    "health",
    "codes",
]


def report_table(html: str) -> dict[str, dict[str, str]]:
    """The member report page's rows as its reader sees them: the member's name (without
    a status note) to each column's text."""
    import re

    from django.utils.html import strip_tags

    rows = {}
    for row in re.findall(r'<tr class="member-row".*?</tr>', html, flags=re.S):
        name = strip_tags(re.search(r"<th[^>]*>(.*?)</th>", row, flags=re.S)[1])
        cells = [strip_tags(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[name.split(" (")[0].strip()] = dict(zip(REPORT_COLUMNS, cells, strict=True))
    return rows
