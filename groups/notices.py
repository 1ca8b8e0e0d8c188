"""What the digest tells a member about their group: thank-yous and new slips."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from followups.digest import Section
from referralcrm.ownership import first_per_owner
from referrals.models import Status

from .models import Slip

NOTICES_IN_DIGEST = 10


@dataclass
class Notice:
    kind: str  # "thanks": your slip closed won; "received": a member passed you a slip
    slip: Slip


def build(user, local_date) -> list[Notice]:
    """``build_many`` for one user."""
    return build_many([(user, local_date)])[user.pk]


def build_many(users_dates) -> dict[int, list[Notice]]:
    """{user id: notices} for a batch: two queries whatever its size, through the partial
    indexes of slips nobody has been told of yet; at most ``NOTICES_IN_DIGEST`` of each
    kind per user, thank-yous first."""
    user_ids = [user.pk for user, _ in users_dates]
    thanks = first_per_owner(
        Slip.objects.filter(
            giver__user__in=user_ids, status=Status.WON, giver_notified_at__isnull=True
        ).select_related("receiver__user", "group"),
        ["closed_on", "pk"],
        NOTICES_IN_DIGEST,
        owner="giver__user",
    )
    received = first_per_owner(
        Slip.objects.filter(
            receiver__user__in=user_ids, receiver_notified_at__isnull=True
        ).select_related("giver__user", "group"),
        ["referred_on", "pk"],
        NOTICES_IN_DIGEST,
        owner="receiver__user",
    )
    return {
        user_id: [Notice("thanks", s) for s in thanks.get(user_id, [])]
        + [Notice("received", s) for s in received.get(user_id, [])]
        for user_id in user_ids
    }


def mark_sent(user, items: list[Notice]) -> None:
    now = timezone.now()
    thanks = [n.slip.pk for n in items if n.kind == "thanks"]
    received = [n.slip.pk for n in items if n.kind == "received"]
    if thanks:
        Slip.objects.filter(pk__in=thanks, giver__user=user).update(giver_notified_at=now)
    if received:
        Slip.objects.filter(pk__in=received, receiver__user=user).update(receiver_notified_at=now)


SECTION = Section(
    name="groups",
    build=build,
    build_many=build_many,
    mark_sent=mark_sent,
    text_template="emails/digest-groups.txt",
    html_template="emails/digest-groups.html",
)
