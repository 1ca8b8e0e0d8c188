"""Building blocks for the groups tests: a group with an organiser (with TOTP) and members."""

from __future__ import annotations

from types import SimpleNamespace

from allauth.mfa.models import Authenticator

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
