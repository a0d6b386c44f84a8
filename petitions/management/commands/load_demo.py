from django.core.management.base import BaseCommand

from petitions.demo.loader import load_demo


class Command(BaseCommand):
    help = "Load the demo petition (from the seed page) with its demo signatures, once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--signatures",
            type=int,
            default=None,
            help="how many demo signatures to create (default: as many as the seed page shows)",
        )

    def handle(self, signatures, **options):
        petition = load_demo(signatures, stdout=self.stdout)
        self.stdout.write(f"Demo petition: /en/p/{petition.slug}/ and /fa/p/{petition.slug}/")
