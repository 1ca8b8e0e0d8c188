"""Deleting an account: what goes with it, what stays in the groups, and the deletion.

Everything the user owns goes by ``on_delete=CASCADE`` from ``User``; their group
memberships stay, detached, as "former member" (``groups.members.forget``, run by a
``pre_delete`` signal whichever way the account is deleted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from .models import User

log = logging.getLogger(__name__)


def _private_models() -> list[tuple[str, str, type]]:
    """(key, label, model) of what the account page counts: each has an ``owner``."""
    from contacts.models import Contact, Meeting, Occasion
    from followups.models import FollowUp
    from portability.models import ExportJob, ImportBatch
    from referrals.models import Introduction, Referral, Spend

    return [
        ("contacts", "contacts, with their GAINS profiles, tags and notes", Contact),
        ("meetings", "meetings logged", Meeting),
        ("referrals", "referrals in your ledger (given and received)", Referral),
        ("introductions", "introductions", Introduction),
        ("spends", "money-trail entries", Spend),
        ("followups", "follow-ups", FollowUp),
        ("occasions", "birthdays and other occasions", Occasion),
        ("imports", "imports", ImportBatch),
        ("exports", "exports", ExportJob),
    ]


@dataclass
class Summary:
    """What deleting the account would do, for the confirmation page."""

    deleted: list[tuple[str, int]]
    slips: int
    groups: int
    solo_groups: list = field(default_factory=list)
    handover: list = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.handover)


def counts(user: User) -> dict[str, int]:
    """{key: rows the user owns} for each private model: one query, however many rows."""
    annotations = {
        f"n_{key}": Coalesce(
            Subquery(
                model.objects.filter(owner=OuterRef("pk"))
                .order_by()
                .values("owner")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            Value(0),
        )
        for key, _label, model in _private_models()
    }
    row = User.objects.filter(pk=user.pk).values(**annotations).get()
    return {key.removeprefix("n_"): n for key, n in row.items()}


def summary(user: User) -> Summary:
    from groups.members import current_memberships, handover_needed, solo_groups
    from groups.models import Slip

    found = counts(user)
    return Summary(
        deleted=[(label, found[key]) for key, label, _model in _private_models()],
        slips=Slip.objects.for_party(user).count(),
        groups=current_memberships(user).count(),
        solo_groups=list(solo_groups(user).order_by("name")),
        handover=handover_needed(user),
    )


def _export_files(user: User) -> list[Path]:
    """The user's export files, only ever inside EXPORT_ROOT."""
    from portability.models import ExportJob

    root = Path(settings.EXPORT_ROOT).resolve()
    files = []
    for name in (
        ExportJob.objects.filter(owner=user).exclude(path="").values_list("path", flat=True)
    ):
        path = (root / name).resolve()
        if path.is_relative_to(root) and path != root:
            files.append(path)
    return files


def _remove(files: list[Path]) -> None:
    for path in files:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("Could not remove export file %s of a deleted account", path)


@transaction.atomic
def delete_account(user: User) -> None:
    """Delete ``user`` and everything they own; their group history stays as "former
    member". Export files go once the deletion is committed."""
    files = _export_files(user)
    user.delete()
    transaction.on_commit(lambda: _remove(files))
