"""python manage.py create_api_token --user EMAIL --scope read|write [--name N] [--days D]

Prints a new personal access token (shown once) for operators and tests."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from api.models import ApiToken, TokenScope


class Command(BaseCommand):
    help = "Create a personal access token for a user and print it (it is shown only once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="E-mail of the token's owner.")
        parser.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        parser.add_argument("--name", default="Command-line token")
        parser.add_argument("--days", type=int, help="Expire after this many days.")

    def handle(self, *args, **options) -> None:
        try:
            user = User.objects.get_by_natural_key(options["user"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with the e-mail {options['user']}.") from exc
        days = options["days"]
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650.")
        expires = timezone.now() + timedelta(days=days) if days else None
        _, plaintext = ApiToken.issue(
            user, name=options["name"], scope=options["scope"], expires_at=expires
        )
        self.stdout.write(plaintext)
