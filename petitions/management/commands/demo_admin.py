import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

PASSWORD_FILE = Path(settings.BASE_DIR) / ".admin-password"


class Command(BaseCommand):
    help = (
        "Development only: make sure an 'admin' superuser exists and print how to sign in. "
        "The password is random, kept in .admin-password (never committed)."
    )

    def add_arguments(self, parser):
        # Where `make run` serves (HOST, PORT), so the address printed is the one that works.
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, **options):
        if not settings.DEBUG:
            raise CommandError("demo_admin is for development (DEBUG=true) only.")
        User = get_user_model()
        user = User.objects.filter(username="admin").first()
        if user is None or not PASSWORD_FILE.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser("admin", "admin@localhost", password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)
        password = PASSWORD_FILE.read_text().strip()
        self.stdout.write(
            f"Admin: http://{options['host']}:{options['port']}/{settings.ADMIN_URL}  "
            f"user 'admin', password '{password}' (kept in .admin-password)"
        )
