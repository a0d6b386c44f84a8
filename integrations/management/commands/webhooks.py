import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from integrations.webhooks import dispatch


class Command(BaseCommand):
    help = (
        "Find new webhook events and queue a delivering task for the workers (db_worker) when "
        "any are due; once, or every WEBHOOK_DISPATCH_SECONDS with --forever. Two running at "
        "once share the endpoints and queue nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--forever", action="store_true", help="look again every few seconds")

    def handle(self, forever: bool, **options):
        while True:
            queued = dispatch()
            if not forever:
                self.stdout.write(f"Queued {queued} webhook delivery(ies).")
                return
            close_old_connections()
            time.sleep(settings.WEBHOOK_DISPATCH_SECONDS)
