from django.core.management.base import BaseCommand

from integrations import bulk


class Command(BaseCommand):
    help = (
        "Build the open-data files served at /api/v1/bulk/ (every public petition and its daily "
        "counts, CSV and JSON, gzip). Run daily (deploy/cron/petitions)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the build for the task worker instead of building here.",
        )

    def handle(self, *args, enqueue=False, **options):
        if enqueue:
            result = bulk.build_bulk_data.enqueue()
            self.stdout.write(f"Queued the bulk data build ({result.id}).")
            return
        petitions = bulk.build()
        self.stdout.write(f"Built the bulk data: {petitions} petitions.")
