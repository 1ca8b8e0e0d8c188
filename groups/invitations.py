"""Invitations: a signed, expiring, single-use link e-mailed to the invitee.

The link carries the invitation's id and a random nonce, signed with the secret key
(``django.core.signing``), so it can't be guessed or altered; the row says whether it has
expired, been revoked or been used. Accepting is a compare-and-set on ``accepted_at``.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from referralcrm import emails

from .models import (
    CURRENT_STATUSES,
    INVITATION_DAYS,
    Invitation,
    InvitationState,
    Membership,
    MembershipStatus,
    Role,
)

SALT = "groups.invitation"


class InvitationError(Exception):
    """Why a link can't be used, in words for the person holding it."""

    def __init__(self, code: str, message: str, invitation: Invitation | None = None):
        super().__init__(message)
        self.code = code
        self.invitation = invitation


def refusal(group, email: str) -> str:
    """Why ``email`` can't be invited to ``group`` now ("" if it can)."""
    if Membership.objects.filter(
        group=group, user__email__iexact=email, status__in=CURRENT_STATUSES
    ).exists():
        return f"{email} is already a member of {group}."
    if Invitation.objects.filter(group=group, email__iexact=email).pending().exists():
        return f"{email} already has a waiting invitation: resend it from the list."
    return ""


def token_for(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=SALT)


def url_for(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("groups:join", args=[token_for(invitation)])


def read(token: str) -> Invitation:
    """The invitation behind a link; raises InvitationError if the link is no good."""
    try:
        data = signing.loads(token, salt=SALT, max_age=(INVITATION_DAYS + 1) * 86400)
    except signing.SignatureExpired as exc:
        raise InvitationError(
            "expired", "This invitation has expired. Ask the organiser to send a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise InvitationError(
            "invalid",
            "This invitation link is not valid: it may have been cut short or changed. "
            "Copy the whole link from the e-mail, or ask the organiser for a new one.",
        ) from exc
    invitation = (
        Invitation.objects.select_related("group", "invited_by")
        .filter(pk=data.get("i"), nonce=data.get("n"))
        .first()
    )
    if invitation is None:
        if Invitation.objects.filter(pk=data.get("i")).exists():  # resent: a new nonce
            raise InvitationError(
                "replaced",
                "This invitation link was replaced by a newer one: use the link in the "
                "latest e-mail, or ask the organiser to send it again.",
            )
        raise InvitationError("invalid", "This invitation no longer exists.")
    return invitation


def check(invitation: Invitation, user=None) -> None:
    """Raise InvitationError if ``invitation`` can't be accepted (by ``user``, if given)."""
    state = invitation.state
    if state == InvitationState.ACCEPTED:
        if user is not None and invitation.accepted_by_id == user.pk:
            raise InvitationError(
                "used_by_you", f"You have already joined {invitation.group}.", invitation
            )
        raise InvitationError(
            "used",
            "This invitation has already been used. Each link works once: ask the organiser "
            "for a new one if you need it.",
            invitation,
        )
    if state == InvitationState.REVOKED:
        raise InvitationError(
            "revoked", "This invitation was withdrawn by the organiser.", invitation
        )
    if state == InvitationState.EXPIRED:
        raise InvitationError(
            "expired",
            "This invitation has expired. Ask the organiser to send a new one.",
            invitation,
        )
    if user is not None and user.email.lower() != invitation.email.lower():
        raise InvitationError(
            "wrong_account",
            f"This invitation was sent to {invitation.email}, but you are logged in as "
            f"{user.email}. Log out and log in (or sign up) with {invitation.email}.",
            invitation,
        )


@transaction.atomic
def accept(invitation: Invitation, user) -> Membership:
    """Join the invitation's group as ``user``: once, whatever the clicks and tabs."""
    check(invitation, user)
    now = timezone.now()
    taken = (
        Invitation.objects.filter(pk=invitation.pk)
        .pending()
        .update(accepted_at=now, accepted_by=user)
    )
    if not taken:
        invitation.refresh_from_db()
        check(invitation, user)  # raises with the reason it was just taken
        raise InvitationError("used", "This invitation has already been used.", invitation)
    membership, created = Membership.objects.get_or_create(
        group=invitation.group,
        user=user,
        defaults={
            "role": invitation.role,
            "seat": invitation.seat or user.profession,
            "joined_on": timezone.localdate(),
        },
    )
    if not created:
        if not membership.is_current:  # coming back: in the role they are invited to now
            membership.role = invitation.role
        elif invitation.role == Role.ORGANISER:
            membership.role = Role.ORGANISER
        membership.status = MembershipStatus.ACTIVE
        membership.left_on = None
        membership.seat = invitation.seat or membership.seat
        membership.save(update_fields=["status", "left_on", "role", "seat"])
    return membership


def build_message(invitation: Invitation, connection=None) -> EmailMultiAlternatives:
    context = {
        "invitation": invitation,
        "group": invitation.group,
        "inviter": invitation.invited_by,
        "url": url_for(invitation),
        "days": INVITATION_DAYS,
        "site_url": settings.SITE_URL,
    }
    subject = render_to_string("emails/invitation-subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/invitation-body.txt", context),
        to=[invitation.email],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        emails.render_html("emails/invitation-body.html", context), "text/html"
    )
    return message


def send(invitation_id: int) -> str:
    """Claim the invitation's e-mail, then send it; released again if sending fails."""
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation_id, sent_at__isnull=True, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(sent_at=now)
    if not claimed:
        return "skipped"
    invitation = Invitation.objects.select_related("group", "invited_by").get(pk=invitation_id)
    try:
        build_message(invitation).send()
    except Exception:
        Invitation.objects.filter(pk=invitation_id, sent_at=now).update(sent_at=None)
        raise
    return "sent"


def enqueue(invitation: Invitation) -> None:
    """Send after the transaction that made (or reset) the invitation commits."""
    from .tasks import send_invitation

    transaction.on_commit(lambda: send_invitation.delay(invitation.pk))


def resend(invitation: Invitation) -> None:
    """A fresh link (new nonce, new expiry) sent again; the old link stops working."""
    from .models import new_nonce

    invitation.nonce = new_nonce()
    invitation.expires_at = timezone.now() + timezone.timedelta(days=INVITATION_DAYS)
    invitation.sent_at = None
    invitation.revoked_at = None
    invitation.save(update_fields=["nonce", "expires_at", "sent_at", "revoked_at"])
    enqueue(invitation)
