"""Recompute relationship strength for every contact (or one user's), in batches.

Recency decays with time alone, so the daily ``plan.refresh_all_strength`` task does the
same; this is for running it by hand (after an import, say)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from plan import strength


class Command(BaseCommand):
    help = "Recompute relationship strength scores (all users, or one with --user)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", metavar="EMAIL", help="Only this user's contacts.")

    def handle(self, *args, user=None, **options) -> None:
        owner = None
        if user:
            owner = get_user_model().objects.filter(email__iexact=user).first()
            if owner is None:
                raise CommandError(f"No user with e-mail {user}.")
        changed = strength.refresh_all(owner)
        self.stdout.write(f"Relationship strength refreshed: {changed} contacts changed.")
