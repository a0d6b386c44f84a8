from django.core.management.base import BaseCommand

from petitions import cosponsors


class Command(BaseCommand):
    help = (
        "Send for review every petition gathering supporters that already has "
        "COSPONSORS_REQUIRED of them: run it after lowering that setting or setting it to 0."
    )

    def handle(self, **options):
        sent = cosponsors.send_those_ready()
        self.stdout.write(f"Sent {sent} petition(s) for review.")
