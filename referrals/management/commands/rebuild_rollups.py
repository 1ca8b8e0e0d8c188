"""Recompute the ledger's rollups (referrals/rollups.py) from the ledger's rows.

    python manage.py rebuild_rollups                  # everyone
    python manage.py rebuild_rollups --user a@b.com   # one user
    python manage.py rebuild_rollups --check          # only report differences (exit 1)

The triggers keep the rollups current on every write; this is for operators: after a
restore that bypassed them (``session_replication_role = replica``), or to check them.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from referrals import rollups


class Command(BaseCommand):
    help = "Recompute the ledger's counters (or, with --check, compare them) from its rows."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="E-mail of the one user to rebuild.")
        parser.add_argument(
            "--check", action="store_true", help="Report differences only; exit 1 if any."
        )

    def handle(self, *args, user, check, **options):
        if not rollups.enabled():
            raise CommandError("No rollups here: without PostgreSQL the pages count the rows.")
        if user:
            found = User.objects.filter(email__iexact=user).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No user {user}.")
            owners = [found]
        else:
            owners = rollups.ledger_owners()
        if not check:
            rollups.rebuild(owners)
            self.stdout.write(f"Rebuilt the rollups of {len(owners)} user(s).")
            return
        problems = [(owner, p) for owner in owners for p in rollups.verify(owner)]
        for owner, problem in problems:
            self.stdout.write(f"user {owner}: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} rollup row(s) differ from the ledger.")
        self.stdout.write(f"The rollups of {len(owners)} user(s) match the ledger.")
