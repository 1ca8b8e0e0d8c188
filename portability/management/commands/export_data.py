"""Export one user's data to a file (or stdout) with the same generators as /export/.

python manage.py export_data --user alice@example.com --format json --output alice.json
python manage.py export_data --user alice@example.com --format vcard --output -
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from portability.exports import chunks


class Command(BaseCommand):
    help = "Export a user's contacts (vCard, CSV) or complete archive (JSON) to a file."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="The user's e-mail address.")
        parser.add_argument(
            "--format", required=True, choices=["json", "vcard", "csv"], help="What to export."
        )
        parser.add_argument("--output", required=True, help="File to write; - for stdout.")

    def handle(self, *args, user: str, format: str, output: str, **options):
        try:
            owner = User.objects.get_by_natural_key(user)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with the e-mail address {user}.") from exc
        if output == "-":
            out = getattr(self.stdout, "_out", sys.stdout)
            for chunk in chunks(format, owner):
                out.write(chunk)
            out.flush()
            return
        written = 0
        try:
            with open(output, "w", encoding="utf-8", newline="") as out:
                for chunk in chunks(format, owner):
                    out.write(chunk)
                    written += len(chunk)
        except OSError as exc:
            raise CommandError(f"Could not write {output}: {exc.strerror}") from exc
        self.stderr.write(f"Wrote {output} ({written:,} characters).")
