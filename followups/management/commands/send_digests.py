from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from followups import digest
from followups.models import DigestLog, DigestPreference


class Command(BaseCommand):
    help = "Run the digest sweep synchronously: claim due users and send their digests now."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="Pretend it is this ISO datetime (default: now).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show who is due and what they'd get; change nothing.",
        )

    def handle(self, *args, now=None, dry_run=False, **options):
        when = timezone.now()
        if now:
            try:
                when = datetime.fromisoformat(now)
            except ValueError as exc:
                raise CommandError(f"--now must be an ISO datetime, got {now!r}") from exc
            if timezone.is_naive(when):
                when = timezone.make_aware(when, timezone.get_default_timezone())
        if dry_run:
            return self._dry_run(when)
        with transaction.atomic():
            claimed = digest.sweep(now=when)
        sent = 0
        for log_id in claimed:
            try:
                state = digest.send_log(log_id, now=when)
            except Exception as exc:  # report and carry on with the others
                self.stderr.write(
                    f"digest {log_id}: failed ({type(exc).__name__}: {exc}); will retry"
                )
                continue
            entry = DigestLog.objects.select_related("user").get(pk=log_id)
            self.stdout.write(
                f"{entry.user.email} {entry.local_date}: {state} ({entry.items} items)"
            )
            sent += state == "sent"
        self.stdout.write(f"{len(claimed)} claimed, {sent} sent.")

    def _dry_run(self, when):
        due = DigestPreference.objects.filter(
            enabled=True, next_digest_at__lte=when
        ).select_related("user")
        n = 0
        for pref in due.order_by("next_digest_at")[: digest.SWEEP_BATCH]:
            local_date = pref.next_digest_at.astimezone(pref.user.tzinfo).date()
            if not pref.user.is_active or when - pref.next_digest_at > digest.MISSED_AFTER:
                outcome = "skipped (inactive user, or the day was missed)"
            else:
                built = digest.build(pref.user, local_date, when)
                outcome = "nothing to report" if built.is_empty else f"{built.count} items"
            self.stdout.write(f"{pref.user.email} {local_date}: {outcome}")
            n += 1
        self.stdout.write(f"{n} due (dry run: nothing sent).")
