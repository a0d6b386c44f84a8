from django.core.management.base import BaseCommand, CommandError

from signatures.counting import recount
from signatures.models import petition_model


class Command(BaseCommand):
    help = (
        "Recount petitions from their signature rows and repair any drift in the running count. "
        "Safe while people are signing."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="petitions to recount (default: all)")

    def handle(self, slugs, **options):
        petitions = petition_model().objects.all()
        if slugs:
            petitions = petitions.filter(slug__in=slugs)
            missing = set(slugs) - set(petitions.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"No petition with slug: {', '.join(sorted(missing))}")
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
