import getpass

from django.core.management.base import BaseCommand

from signatures.models import Signature
from signatures.normalise import canonical_email


class Command(BaseCommand):
    help = (
        "Delete every signature made with an email address, on every petition, at the signer's "
        "request. The counts follow; the audit trail records the deletion but not the address."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--dry-run", action="store_true", help="only say how many would go")

    def handle(self, email, dry_run, **options):
        queryset = Signature.objects.filter(email_canonical=canonical_email(email))
        if dry_run:
            self.stdout.write(f"{queryset.count()} signature(s) would be deleted.")
            return
        changed = queryset.erase(by=f"{getpass.getuser()} (command line)", signer_request=True)
        self.stdout.write(
            f"Deleted {sum(changed.values())} signature(s) from {len(changed)} petition(s)."
        )
