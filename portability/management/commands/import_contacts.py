"""Import contacts (or restore a Referral CRM archive) from a file, as the import page does.

    python manage.py import_contacts --user EMAIL FILE [--format auto|vcard|google|linkedin|csv]
        [--region US] [--dry-run]

Prints each row's outcome and a last line ``new N, merged N, duplicates in file N, errors N``;
exits non-zero only when nothing could be read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from portability import importer, parsers
from portability.models import ImportFormat
from portability.records import FileRejected

FORMATS = ["auto", *ImportFormat.values]


class Command(BaseCommand):
    help = "Import contacts from a vCard, Google/LinkedIn/other CSV or a Referral CRM archive."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="E-mail of the account to import into.")
        parser.add_argument("--format", choices=FORMATS, default="auto")
        parser.add_argument("--region", help="Country for local phone numbers (default: user's).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show each row's outcome; import nothing."
        )

    def handle(self, *args, **options) -> None:
        try:
            user = User.objects.get_by_natural_key(options["user"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with the e-mail {options['user']}.") from exc
        region = (options["region"] or user.phone_region or "US").upper()
        path = options["file"]
        limit = max(settings.IMPORT_MAX_BYTES, settings.ARCHIVE_MAX_BYTES)
        try:
            with open(path, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        if len(data) > limit:
            raise CommandError(f"{path} is larger than {limit // 1024 // 1024} MB.")
        try:
            fmt = options["format"]
            if fmt == "auto":
                fmt = parsers.detect_format(data[:65536], path)
            if fmt == ImportFormat.ARCHIVE:
                self._restore(user, data, options["dry_run"])
                return
            if len(data) > settings.IMPORT_MAX_BYTES:
                raise FileRejected(
                    f"{path} is larger than {settings.IMPORT_MAX_BYTES // 1024 // 1024} MB; "
                    "split it into smaller files."
                )
            parsed = parsers.parse(data, fmt, region=region)
        except FileRejected as exc:
            raise CommandError(str(exc)) from exc
        rows = importer.plan(user, parsed.records, region=region)
        for row in rows:
            self.stdout.write(self._describe(row))
        if not options["dry_run"]:
            importer.apply(user, rows, region=region)
        counts = importer.summarise(rows)
        self.stdout.write(
            f"new {counts['new']}, merged {counts['match']}, "
            f"duplicates in file {counts['duplicate']}, errors {counts['error']}"
            + (f", unchanged {counts['unchanged']}" if counts["unchanged"] else "")
            + (" (dry run: nothing imported)" if options["dry_run"] else "")
        )

    def _describe(self, row: dict) -> str:
        record = row["record"]
        name = record["name"] or "(no name)"
        where = f"{row['position']}: {name}"
        outcome = row["outcome"]
        if outcome == importer.NEW:
            text = f"{where}: new"
        elif outcome == importer.MATCH:
            fields = ", ".join(c["label"].lower() for c in row["changes"] if not c.get("kept"))
            text = f"{where}: merged into {row['contact_name']} ({row['reason']}; adds {fields})"
        elif outcome == importer.UNCHANGED:
            text = f"{where}: already there as {row['contact_name']} ({row['reason']})"
        elif outcome == importer.DUPLICATE:
            text = f"{where}: duplicate of row {row['duplicate_of']} ({row['reason']})"
        else:
            text = f"{where}: error: {'; '.join(record['errors'])}"
        if record["warnings"]:
            text += f" [warning: {'; '.join(record['warnings'])}]"
        return text

    def _restore(self, user, data: bytes, dry_run: bool) -> None:
        from portability import archive

        counts = importer.describe_archive(data)
        if dry_run:
            shown = ", ".join(f"{part} {n}" for part, n in counts.items())
            self.stdout.write(f"archive: {shown} (dry run: nothing restored)")
            return
        result = archive.restore(user, data)
        from contacts.models import Contact
        from plan import strength

        strength.refresh(Contact.objects.for_user(user).values_list("pk", flat=True))
        self.stdout.write("restored: " + ", ".join(f"{part} {n}" for part, n in result.items()))
