from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand

from accounts.models import User


class Command(BaseCommand):
    help = "Create (or reset) a verified demo user and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="demo@example.com")
        parser.add_argument("--password", default="demo-password")
        parser.add_argument("--superuser", action="store_true", help="Also give admin rights.")

    def handle(self, *args, email: str, password: str, superuser: bool, **options):
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "display_name": "Dana Demo",
                "business_name": "Demo Financial Planning",
                "profession": "Financial planner",
            },
        )
        user.set_password(password)
        if superuser:
            user.is_staff = user.is_superuser = True
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        verb = "Created" if created else "Reset"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo user: {email} / {password}"))
