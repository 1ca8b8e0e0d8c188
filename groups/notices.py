"""What the digest tells a member about their group: thank-yous and new slips."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from followups.digest import Section
from referrals.models import Status

from .models import Slip

NOTICES_IN_DIGEST = 10


@dataclass
class Notice:
    kind: str  # "thanks": your slip closed won; "received": a member passed you a slip
    slip: Slip


def build(user, local_date) -> list[Notice]:
    """Two queries, through the partial indexes of slips nobody has been told of yet."""
    thanks = (
        Slip.objects.filter(giver__user=user, status=Status.WON, giver_notified_at__isnull=True)
        .select_related("receiver__user", "group")
        .order_by("closed_on", "pk")[:NOTICES_IN_DIGEST]
    )
    received = (
        Slip.objects.filter(receiver__user=user, receiver_notified_at__isnull=True)
        .select_related("giver__user", "group")
        .order_by("referred_on", "pk")[:NOTICES_IN_DIGEST]
    )
    return [Notice("thanks", s) for s in thanks] + [Notice("received", s) for s in received]


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
    mark_sent=mark_sent,
    text_template="emails/digest-groups.txt",
    html_template="emails/digest-groups.html",
)
