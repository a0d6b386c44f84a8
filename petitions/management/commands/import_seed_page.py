import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from petitions.seed_page import SeedPageError, parse_seed_page

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "demo" / "seed-petition.json"


class Command(BaseCommand):
    help = (
        "Convert the seed page (shared/seeds/petition-page.txt) into the demo data file kept in "
        "the repository. Run once by a developer; the site itself never reads the seed page."
    )

    def add_arguments(self, parser):
        parser.add_argument("page", type=Path, help="path to petition-page.txt")
        parser.add_argument("--out", type=Path, default=DEFAULT_OUT)

    def handle(self, page: Path, out: Path, **options):
        try:
            data = parse_seed_page(page.read_text(encoding="utf-8"))
        except (OSError, SeedPageError) as exc:
            raise CommandError(str(exc)) from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {out} ({data['title_en']}, goal {data['goal']:,}).")
