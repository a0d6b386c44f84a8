from django.core.management.base import BaseCommand

from signatures.counting import recount
from signatures.management.selection import petitions_named


class Command(BaseCommand):
    help = (
        "Recount petitions from their signature rows and repair any drift in the running count. "
        "Safe while people are signing."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="petitions to recount (default: all)")

    def handle(self, slugs, **options):
        petitions = petitions_named(slugs)
        repaired = 0
        for petition in petitions.order_by("pk"):
            drift = recount(petition)
            if drift:
                repaired += 1
                self.stdout.write(f"{petition.slug}: repaired a drift of {drift:+d}")
        self.stdout.write(
            f"Recounted {petitions.count()} petition(s); "
            + (f"repaired {repaired}." if repaired else "no drift found.")
        )
