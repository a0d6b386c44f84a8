from django.conf import settings
from django.core.management.base import BaseCommand

from petitions.models import Petition
from signatures.retention import anonymise_due, anonymise_due_signers


class Command(BaseCommand):
    help = (
        "Anonymise the signers of petitions closed SIGNATURE_RETENTION_DAYS ago or more, unless "
        "a moderator holds them. Run daily (deploy/cron/petitions)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list the petitions due, change nothing"
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="queue it for the task workers instead"
        )

    def handle(self, *args, dry_run, enqueue, **options):
        days = settings.SIGNATURE_RETENTION_DAYS
        if dry_run:
            due = Petition.objects.due_for_anonymising().order_by("pk")
            for slug in due.values_list("slug", flat=True):
                self.stdout.write(f"due: {slug}")
            self.stdout.write(f"{due.count()} petitions due ({days} days after closing)")
            return
        if enqueue:
            result = anonymise_due_signers.enqueue()
            self.stdout.write(f"queued: {result.id}")
            return
        done = anonymise_due(by="anonymise_signers")
        for slug, rows in done.items():
            self.stdout.write(f"{slug}: {rows} signers anonymised")
        self.stdout.write(f"{len(done)} petitions anonymised ({days} days after closing)")
