"""Compute and store the introduction suggestions, sphere coverage and skill words of every
user (or one), now, in this process.

The worker does this a few seconds after each change and beat nightly; this is for running it
by hand (after a bulk load without a worker, say)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from plan import precompute
from plan.models import SuggestionState


class Command(BaseCommand):
    help = "Refresh the stored introduction suggestions (all users, or one with --user)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", metavar="EMAIL", help="Only this user.")

    def handle(self, *args, user=None, **options) -> None:
        users = get_user_model().objects.filter(contacts__isnull=False).distinct()
        if user:
            users = get_user_model().objects.filter(email__iexact=user)
            if not users.exists():
                raise CommandError(f"No user with e-mail {user}.")
        ids = list(users.order_by("pk").values_list("pk", flat=True))
        SuggestionState.objects.filter(owner_id__in=ids).update(version=F("version") + 1)
        refreshed = sum(precompute.refresh(pk) for pk in ids)
        self.stdout.write(f"Introduction suggestions refreshed for {refreshed} users.")
