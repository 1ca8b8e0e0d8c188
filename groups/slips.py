"""Slips between members: one shared record, two private ledger rows, one audit trail.

Every write goes through these functions, in one transaction each, so the slip and both
sides' ``Referral`` rows never disagree, and each change leaves a ``SlipChange``.
Closing is a compare-and-set on the open statuses: a double click, a second tab or two
members closing at once close it once, and the value is never added twice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from referrals.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Direction,
    Referral,
    Status,
    StatusChange,
    status_changed,
)

from .members import contact_for
from .models import Membership, Slip, SlipChange

# The fields both sides share; each side's Referral row mirrors them.
SHARED_FIELDS = [
    "prospect_name",
    "prospect_reach",
    "need",
    "referred_on",
    "temperature",
    "status",
    "value",
    "currency",
    "closed_on",
]
CORRECTABLE = ["status", "value", "currency", "referred_on", "closed_on"]

# Sent inside give()'s transaction with the new slip; webhooks tell the receiver.
slip_given = Signal()


class SlipError(Exception):
    """A change that can't be made; the message is for the member."""


def _display(field: str, value) -> str:
    if value is None or value == "":
        return ""
    if field == "status":
        return Status(value).label
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)[:200]


@transaction.atomic
def give(
    *,
    giver: Membership,
    receiver: Membership,
    by,
    prospect_name: str,
    prospect_reach: str = "",
    need: str = "",
    referred_on: date | None = None,
    temperature: str = "warm",
    note: str = "",
) -> Slip:
    """Record a slip from ``giver`` to ``receiver`` and add it to both ledgers."""
    if giver.group_id != receiver.group_id or giver.pk == receiver.pk:
        raise SlipError("A slip goes to another member of the same group.")
    slip = Slip.objects.create(
        group_id=giver.group_id,
        giver=giver,
        receiver=receiver,
        prospect_name=prospect_name,
        prospect_reach=prospect_reach,
        need=need,
        referred_on=referred_on or timezone.localdate(),
        temperature=temperature,
        currency=giver.group.currency,
    )
    SlipChange.objects.create(slip=slip, changed_by=by, field="created", new=Status.PASSED.label)
    for owner, partner_user, direction, seat, own_note in (
        (giver.user, receiver.user, Direction.GIVEN, receiver.seat, note),
        (receiver.user, giver.user, Direction.RECEIVED, giver.seat, ""),
    ):
        partner, _ = contact_for(owner, partner_user, seat)
        row = Referral.objects.create(
            owner=owner,
            partner=partner,
            direction=direction,
            slip=slip,
            notes=own_note,
            **{f: getattr(slip, f) for f in SHARED_FIELDS},
        )
        StatusChange.objects.create(referral=row, status=slip.status, changed_on=slip.referred_on)
    slip_given.send(Slip, slip=slip)
    return slip


def _sync_rows(slip: Slip, fields: list[str], history_on: date | None = None) -> None:
    """Copy ``fields`` of the slip to both ledger rows (and record a status change)."""
    values = {f: getattr(slip, f) for f in fields}
    rows = []
    if "status" in fields:
        rows = list(Referral.objects.filter(slip=slip).values_list("pk", "owner_id", "status"))
    Referral.objects.filter(slip=slip).update(**values, updated_at=timezone.now())
    if "status" in fields:
        StatusChange.objects.bulk_create(
            StatusChange(
                referral_id=pk,
                status=slip.status,
                changed_on=history_on or timezone.localdate(),
            )
            for pk, _, _ in rows
        )
        for pk, owner_id, previous in rows:
            if previous != slip.status:
                status_changed.send(Referral, referral_id=pk, owner_id=owner_id, previous=previous)


@transaction.atomic
def advance(slip: Slip, by) -> bool:
    """Move an open slip one step (passed → contacted → meeting held); False if it had moved."""
    nxt = slip.next_status
    if not nxt:
        return False
    changed = Slip.objects.filter(pk=slip.pk, status=slip.status).update(
        status=nxt, updated_at=timezone.now()
    )
    if not changed:
        return False
    old = slip.status
    slip.status = nxt
    SlipChange.objects.create(
        slip=slip, changed_by=by, field="status", old=_display("status", old), new=Status(nxt).label
    )
    _sync_rows(slip, ["status"])
    return True


@transaction.atomic
def close(slip: Slip, by, *, status: str, on: date, value: Decimal | None = None) -> bool:
    """Close an open slip once. Returns False (and changes nothing) if it was closed already."""
    if status not in CLOSED_STATUSES:
        raise SlipError("Pick how it closed.")
    if status != Status.WON:
        value = None
    changed = Slip.objects.filter(pk=slip.pk, status__in=OPEN_STATUSES).update(
        status=status, closed_on=on, value=value, updated_at=timezone.now()
    )
    if not changed:
        slip.refresh_from_db()
        return False
    old = slip.status
    slip.status, slip.closed_on, slip.value = status, on, value
    changes = [
        SlipChange(
            slip=slip,
            changed_by=by,
            field="status",
            old=_display("status", old),
            new=_display("status", status),
        ),
        SlipChange(slip=slip, changed_by=by, field="closed_on", new=_display("closed_on", on)),
    ]
    if value is not None:
        changes.append(
            SlipChange(slip=slip, changed_by=by, field="value", new=_display("value", value))
        )
    SlipChange.objects.bulk_create(changes)
    _sync_rows(slip, ["status", "closed_on", "value"], history_on=on)
    if status == Status.WON:
        # Closed business is the receiver's thank-you: both ledgers say so, and the
        # giver hears of it in their next digest (giver_notified_at is still empty).
        Referral.objects.filter(slip=slip, direction=Direction.RECEIVED).update(thanks_sent_on=on)
        Referral.objects.filter(slip=slip, direction=Direction.GIVEN).update(thanks_received_on=on)
    return True


@transaction.atomic
def correct(slip: Slip, by, **wanted) -> list[SlipChange]:
    """Correct status, value, currency or dates, recording each field that changed.

    The same correction sent twice changes nothing the second time.
    """
    locked = Slip.objects.select_for_update().get(pk=slip.pk)
    changes = []
    for field in CORRECTABLE:
        if field not in wanted:
            continue
        new = wanted[field]
        old = getattr(locked, field)
        if old != new:
            changes.append(
                SlipChange(
                    slip=locked,
                    changed_by=by,
                    field=field,
                    old=_display(field, old),
                    new=_display(field, new),
                )
            )
            setattr(locked, field, new)
    if locked.status not in CLOSED_STATUSES:
        locked.closed_on = None
        locked.value = None
    elif locked.status != Status.WON:
        locked.value = None
    if not changes:
        return []
    locked.save()
    SlipChange.objects.bulk_create(changes)
    fields = ["status", "value", "currency", "referred_on", "closed_on"]
    _sync_rows(locked, fields if any(c.field == "status" for c in changes) else fields[1:])
    if any(c.field == "status" for c in changes) and locked.status == Status.WON:
        locked.giver_notified_at = None  # a correction to "won" is news to the giver
        locked.save(update_fields=["giver_notified_at"])
    slip.refresh_from_db()
    return changes


def own_row(slip: Slip, user) -> Referral | None:
    """``user``'s private ledger row of this slip (their notes), if they still have it."""
    return Referral.objects.for_user(user).filter(slip=slip).first()


def share_from_ledger(user, data: dict) -> Referral | None:
    """A referral *given* to a contact linked to a fellow member becomes a slip.

    Registered with ``referrals.sharing``: the ledger form's "pick a member instead of a
    contact". Received referrals stay private: the member who gave it writes the slip.
    """
    from .members import shared_groups

    partner = data.get("partner")
    if data.get("direction") != Direction.GIVEN or partner is None or not partner.linked_user_id:
        return None
    shared = shared_groups(user.pk, partner.linked_user_id)
    if not shared:
        return None
    mine, theirs = shared[min(shared)]
    giver = Membership.objects.select_related("group", "user").get(pk=mine)
    receiver = Membership.objects.select_related("group", "user").get(pk=theirs)
    if receiver.status != "active":
        return None
    slip = give(
        giver=giver,
        receiver=receiver,
        by=user,
        prospect_name=data["prospect_name"],
        prospect_reach=data.get("prospect_reach", ""),
        need=data.get("need", ""),
        referred_on=data.get("referred_on"),
        temperature=data.get("temperature") or "warm",
        note=data.get("notes", ""),
    )
    if data.get("status") and data["status"] != Status.PASSED:
        correct(
            slip,
            user,
            status=data["status"],
            value=data.get("value"),
            closed_on=data.get("closed_on"),
            currency=data.get("currency") or slip.currency,
        )
    return own_row(slip, user)
