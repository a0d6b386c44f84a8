"""Similar-petition search benchmark: how long `Petition.objects.similar_to` takes on
PostgreSQL (pg_trgm word similarity, no index) with many open petitions, for an English title,
a Persian one and a Persian one typed with Arabic letters and no ZWNJ.

    .venv/bin/python bench/similar_bench.py [--open 1000 10000] [--runs 30]

Uses its own database (petitions_similar_bench by default), dropped and made again. Prints the
median and 95th percentile in milliseconds. A figure, not a test: it never fails on timing.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/petitions_similar_bench"
# Titles are random words drawn from these: many share words, as real petitions do.
EN_WORDS = """free save stop protect ban release justice water lake school teachers workers women
children prisoners journalists students river forest air clean fair wages rights now""".split()  # noqa: SIM905
FA_WORDS = """آزادی نجات توقف حمایت ممنوعیت عدالت آب دریاچه مدرسه معلمان کارگران زنان کودکان
زندانیان روزنامه‌نگاران دانشجویان رودخانه جنگل هوا پاک دستمزد حقوق همین‌حالا""".split()  # noqa: SIM905
QUERIES = {
    "English": "Save the lake and the river now",
    "Persian": "نجات دریاچه و رودخانه همین‌حالا",
    "Persian, Arabic Yeh/Kaf, no ZWNJ": "نجات درياچه و رودخانه همينحالا",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_SIMILAR_URL", DEFAULT_URL))
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.database import fresh_database

    # The site runs in this process, on a database of its own.
    os.environ.update(fresh_database(args.database_url), DJANGO_SETTINGS_MODULE="config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from petitions.models import Petition

    rng = random.Random(18)  # noqa: S311 - made-up titles, not secrets
    made = 0
    print(f"PostgreSQL similar-title search, {args.runs} runs each (milliseconds)")
    print("Shared 2-core host: other engineers' work perturbs these figures.")
    for total in sorted(args.open):
        Petition.objects.bulk_create(
            Petition(
                slug=f"bench-{n}",
                status=Petition.Status.OPEN,
                opened_at=timezone.now(),
                starter_name="Bench",
                title_en=" ".join(rng.choices(EN_WORDS, k=6)).capitalize(),
                title_fa=" ".join(rng.choices(FA_WORDS, k=6)),
                summary_en="s",
                summary_fa="s",
                letter_en="l",
                letter_fa="l",
            )
            for n in range(made, total)
        )
        made = total
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE petitions_petition")  # as autovacuum would, after a load
        print(f"{total:>7} open  candidates found by: {explain(QUERIES['Persian'])}")
        for label, query in QUERIES.items():
            timings, found = [], 0
            for _ in range(args.runs):
                started = time.perf_counter()
                found = len(Petition.objects.similar_to(query))
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            print(
                f"{total:>7} open  {label:<34} median {statistics.median(timings):7.1f}  "
                f"p95 {p95:7.1f}  offered {found}"
            )


def explain(query: str) -> str:
    """How PostgreSQL finds the candidates: the trigram index or a scan of every row."""
    from django.contrib.postgres.lookups import TrigramWordSimilar
    from django.db.models import Q

    from petitions.models import Petition, folded_in_database, search_key

    found = Q(TrigramWordSimilar(folded_in_database("title_fa"), search_key(query)))
    text = Petition.objects.filter(found).explain()
    return "trigram index" if "petition_title_fa_trgm" in text else "sequential scan"


if __name__ == "__main__":
    main()
