"""Create (or reset) the demo administrator so a newcomer can log in right after the demo command."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or update the demo superuser (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="astroloc-demo")
        parser.add_argument("--email", default="admin@example.org")

    def handle(self, *args, username: str, password: str, email: str, **options) -> None:
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"demo user {'created' if created else 'updated'}: {username}")
