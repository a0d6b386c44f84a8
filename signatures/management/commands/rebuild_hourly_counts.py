from django.core.management.base import BaseCommand, CommandError

from signatures.history import rebuild
from signatures.models import Signature, petition_model


class Command(BaseCommand):
    help = "Rebuild the count over time (hourly counts) of petitions from their signature rows."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="petitions to rebuild (default: all)")

    def handle(self, *args, slugs, **options):
        petitions = petition_model().objects.all()
        if slugs:
            petitions = petitions.filter(slug__in=slugs)
            missing = set(slugs) - set(petitions.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No petition with the address {', '.join(sorted(missing))}")
        for pk, slug in petitions.values_list("pk", "slug"):
            hours = rebuild(pk)
            total = Signature.objects.counted().filter(petition_id=pk).count()
            self.stdout.write(f"{slug}: {hours} hours, {total} signatures")
