from django.core.management.base import BaseCommand

from signatures.history import rebuild
from signatures.management.selection import petitions_named
from signatures.models import Signature


class Command(BaseCommand):
    help = "Rebuild the count over time (hourly counts) of petitions from their signature rows."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="petitions to rebuild (default: all)")

    def handle(self, *args, slugs, **options):
        petitions = petitions_named(slugs)
        for pk, slug in petitions.values_list("pk", "slug"):
            hours = rebuild(pk)
            total = Signature.objects.counted().filter(petition_id=pk).count()
            self.stdout.write(f"{slug}: {hours} hours, {total} signatures")
