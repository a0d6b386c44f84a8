import getpass

from django.core.management.base import BaseCommand

from lib.normalise import canonical_email
from petitions.models import Cosponsor, Petition
from signatures.models import Signature


class Command(BaseCommand):
    help = (
        "Delete every signature made with an email address, on every petition, at the signer's "
        "request. The counts follow; the audit trail records the deletion but not the address. "
        "Petitions started with the address are deleted if never published, and otherwise kept "
        "without it."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--dry-run", action="store_true", help="only say how many would go")

    def handle(self, email, dry_run, **options):
        email = canonical_email(email)
        queryset = Signature.objects.filter(email_canonical=email)
        started = Petition.objects.started_by(email)
        if dry_run:
            self.stdout.write(
                f"{queryset.count()} signature(s) would be deleted; "
                f"{started.count()} petition(s) were started with this address."
            )
            return
        by = f"{getpass.getuser()} (command line)"
        deleted, kept = started.forget_starter(by=by)
        Cosponsor.objects.forget(email)
        changed = queryset.erase(by=by, signer_request=True)
        self.stdout.write(
            f"Deleted {sum(changed.values())} signature(s) from {len(changed)} petition(s)."
        )
        if deleted or kept:
            self.stdout.write(
                f"Petitions started with this address: {deleted} unpublished deleted, "
                f"{kept} public kept without the address."
            )
