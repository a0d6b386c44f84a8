"""The moderator's signature list on 1,000,000 signatures: how long the admin takes to
answer the views a moderator uses most, and how many queries each costs.

    .venv/bin/python bench/admin_list_bench.py [--rows 1000000] [--database-url postgres://...]

It uses its own PostgreSQL database (petitions_admin_bench by default), seeded with the same
million signers as `make bench`, and Django's test client in this process (no HTTP server): the
figures are the admin's own work, database included. A figure, not a test: it never fails on
timing, and on a shared machine other work perturbs it.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/petitions_admin_bench"
RUNS = 5

sys.path.insert(0, str(ROOT))
from bench.database import drop_database, fresh_database  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()

    # The site runs in this process, on a database of its own.
    os.environ.update(
        fresh_database(
            args.database_url,
            ALLOWED_HOSTS="testserver",
            SECURE_SSL_REDIRECT="false",
            SECURE_COOKIES="false",
            CACHE_URL="",
            LOG_LEVEL="WARNING",
        )
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.run import SEED_SQL
    from tests.factories import make_petition, make_staff

    try:
        call_command("createcachetable", verbosity=0)
        print(f"Seeding {args.rows:,} signatures ...", flush=True)
        petition = make_petition(slug="bench")
        with connection.cursor() as cursor:
            cursor.execute(SEED_SQL, {"petition": petition.pk, "rows": args.rows})
            cursor.execute("VACUUM ANALYZE signatures_signature")
        make_staff(username="moderator")
        admin = "/" + settings.ADMIN_URL + "signatures/signature/"
        views = {
            "list, newest first": (admin, {}),
            "list, page 2": (admin, {"p": "2"}),
            "this month (date filter)": (admin, "month"),
            "one country": (admin, {"country": "IR"}),
            "search a name": (admin, {"q": "Karimi 4242"}),
            "search an email": (admin, {"q": "seed4242@example.com"}),
            "a signature's page": ("detail", None),
        }
        results, slow = [], []
        for language in ("en", "fa"):
            client = Client()
            client.force_login(make_staff_user())
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for label, (path, params) in views.items():
                if params == "month":
                    path, params = admin, month_params(client, admin)
                if path == "detail":
                    path, params = f"{admin}{last_signature_id()}/change/", {}
                times, queries = [], 0
                for run in range(RUNS):
                    if run == 0:
                        cache.clear()  # the first run pays for the country list
                    with CaptureQueriesContext(connection) as captured:
                        started = time.perf_counter()
                        response = client.get(path, params)
                        elapsed = time.perf_counter() - started
                    assert response.status_code == 200, (label, response.status_code)
                    times.append(elapsed)
                    queries = len(captured)
                results.append((language, label, times[0], statistics.median(times[1:]), queries))
                slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
                slow.append((language, label, float(slowest["time"]), slowest["sql"][:160]))
        print()
        print(f"Signature list on {args.rows:,} signatures (PostgreSQL, test client, ms)")
        print(f"{'lang':4}  {'view':28} {'first':>8} {'median':>8} {'queries':>8}")
        for language, label, first, median, queries in results:
            print(f"{language:4}  {label:28} {first * 1000:8.0f} {median * 1000:8.0f} {queries:8}")
        print()
        print("The slowest query of each view's last run (s):")
        for language, label, seconds, sql in slow:
            print(f"{language:4}  {label:28} {seconds:6.3f}  {sql}")
    finally:
        connection.close()
        if not args.keep:
            drop_database(args.database_url)


def make_staff_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="moderator")


def last_signature_id() -> int:
    from signatures.models import Signature

    return Signature.objects.order_by("-pk").values_list("pk", flat=True).first()


def month_params(client, path: str) -> dict:
    """The "this month" link of the date filter, as the page offers it."""
    import re
    from html import unescape
    from urllib.parse import parse_qsl

    html = client.get(path).content.decode()
    link = re.search(r'<a href="\?([^"]+)"[^>]*>(?:This month|این ماه)</a>', html)
    return dict(parse_qsl(unescape(link.group(1))))


if __name__ == "__main__":
    main()
