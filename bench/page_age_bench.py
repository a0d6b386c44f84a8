"""Page render time by the petition's age: the demo petition's page, in English and Persian, for
three petitions with the same number of signatures spread over one day, one year and four years.
A page whose cost grows with the petition's age shows it here; the figures should be flat.

    make bench-age            (or: .venv/bin/python bench/page_age_bench.py [--rows 100000])

Its own PostgreSQL database (made anew, dropped afterwards) and Redis database (flushed before and
after), production settings (DEBUG off), the page asked for through Django's test client in this
process, as an anonymous visitor. For each page it prints the CPU time of this process in ms (the
machine may be shared: wall time would measure the neighbours) and its queries: "kept" is the
median of the renders after the first, "first" the render that finds the cache empty and makes
what the page keeps. A figure, not a test: it never fails on a slow number.
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/petitions_age"
DEFAULT_CACHE = "redis://127.0.0.1:6379/14"  # a Redis database of its own, flushed before and after
AGES = {"1 day": 1, "1 year": 365, "4 years": 4 * 365 + 1}


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-qc", sql], check=True, stdout=subprocess.DEVNULL)


def seed(rows: int) -> dict[str, str]:
    """A petition per age, each a copy of the demo petition with `rows` signatures spread evenly
    up to now, its count and hourly counts made as the app makes them. {age: slug}"""
    from django.db import connection

    from bench.run import seed_signatures
    from petitions.demo.loader import load_seed_data
    from petitions.models import Petition
    from signatures import history
    from signatures.models import SignatureCount

    slugs = {}
    for age, days in AGES.items():
        data = load_seed_data()
        for key in ("signatures", "opened_at", "slug", "status"):
            data.pop(key, None)
        opened = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)
        slug = f"aged-{days}-days"
        petition = Petition.objects.create(
            slug=slug, status=Petition.Status.OPEN, opened_at=opened, **data
        )
        total = seed_signatures(petition.pk, rows, days * 86400)
        SignatureCount.set_total(petition.pk, total)
        history.rebuild(petition.pk)
        slugs[age] = slug
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return slugs


def measure(url: str, runs: int) -> dict:
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()

    def render() -> tuple[float, float, int]:
        with CaptureQueriesContext(connection) as queries:
            cpu, wall = time.process_time(), time.perf_counter()
            response = client.get(url)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
        return cpu * 1000, wall * 1000, len(queries)

    caches["default"].clear()
    first = render()
    kept = [render() for _ in range(runs)]
    return {
        "first_cpu": first[0],
        "first_queries": first[2],
        "cpu": statistics.median(r[0] for r in kept),
        "wall": statistics.median(r[1] for r in kept),
        "queries": statistics.median(r[2] for r in kept),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="signatures per petition")
    parser.add_argument("--runs", type=int, default=60, help="renders per page")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": args.database_url,
            "CACHE_URL": args.cache_url,
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "k" * 40,
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_MANIFEST": "false",
            "ALLOWED_HOSTS": "testserver,localhost",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connection

    admin_url, db_name = args.database_url.rsplit("/", 1)
    admin_url += "/postgres"
    try:
        psql(admin_url, f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        psql(admin_url, f"CREATE DATABASE {db_name}")
        call_command("migrate", verbosity=0)
        caches["default"].clear()
        print(f"Seeding {len(AGES)} petitions of {args.rows:,} signatures ...", flush=True)
        slugs = seed(args.rows)

        print(
            f"\nThe petition page, {args.rows:,} signatures, {args.runs} renders each "
            "(CPU ms of this process; queries a render)"
        )
        head = f"{'age':8} {'page':5} {'kept':>7} {'wall':>7} {'q':>4} {'first':>8} {'q':>4}"
        print(head + "\n" + "-" * len(head))
        for age, slug in slugs.items():
            for language in ("en", "fa"):
                found = measure(f"/{language}/p/{slug}/", args.runs)
                kept = f"{found['cpu']:7.2f} {found['wall']:7.2f} {found['queries']:4.0f}"
                first = f"{found['first_cpu']:8.2f} {found['first_queries']:4d}"
                print(f"{age:8} {language:5} {kept} {first}", flush=True)
    finally:
        caches["default"].clear()
        connection.close()
        if not args.keep:
            psql(admin_url, f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")


if __name__ == "__main__":
    main()
