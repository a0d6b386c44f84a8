import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from petitions.models import Petition
from signatures.export import FORMATS, Export
from signatures.models import Signature


def parse_since(value: str):
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since wants a date or date-time in ISO 8601, not {value!r}")
        moment = timezone.datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


class Command(BaseCommand):
    help = "Export a petition's signatures as CSV (default) or JSON Lines, to stdout or a file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--status", choices=Signature.Status.values)
        parser.add_argument("--since", help="only signatures from this date or time (ISO 8601)")
        parser.add_argument("--format", choices=sorted(FORMATS), default="csv")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, slug, status, since, format, output, **options):
        petition = Petition.objects.filter(slug=slug).first()
        if petition is None:
            raise CommandError(f"No petition with slug {slug!r}")
        stream = Export(
            [petition],
            format,
            by=f"{getpass.getuser()} (command line)",
            status=status,
            since=since and parse_since(since),
        )
        # Bytes straight to the file or pipe: a text layer would re-buffer a hundred megabytes.
        out = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115
        try:
            for chunk in stream:
                out.write(chunk.encode())
        finally:
            stream.close()  # writes the audit record, whether the export finished or broke off
            if output:
                out.close()
            else:
                out.flush()
        if output:
            self.stderr.write(f"Wrote {stream.rows} signature(s) to {output}.")
