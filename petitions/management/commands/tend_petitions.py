from django.core.management.base import BaseCommand

from petitions.thresholds import tend


class Command(BaseCommand):
    help = (
        "Record the thresholds open petitions have reached and close those past their closing "
        "date. Run every minute (deploy/cron/petitions); running it twice does nothing twice."
    )

    def handle(self, *args, **options):
        reached, closed = tend()
        for row in reached:
            self.stdout.write(f"{row.petition.slug}: reached {row.number} ({row.count})")
        for petition in closed:
            self.stdout.write(f"{petition.slug}: closed on its closing date")
