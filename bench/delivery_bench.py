"""Delivery-pack benchmark: a petition with 1,000,000 signatures on PostgreSQL, its
delivery pack (PDF and CSV) made as the background task makes it, with the time and the peak
memory of the process that made it.

    make bench-delivery        (or: .venv/bin/python bench/delivery_bench.py --rows 1000000)

The signers: three in five in Iran with Persian names (listed by first name and initial), the
rest across a dozen countries and a few dozen small ones, with Latin names (some accented); one in
five chose not to be named. Its own database (petitions_bench_delivery); a figure, not a test:
it never fails on timing. Target: under 5 minutes and under 300 MB, the Merkle tree of the
signers' receipts included; a proof of inclusion under 50 ms (the median of 200 random signers).
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import PYTHON, drop_database, fresh_database, run  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/petitions_bench_delivery"

SEED_SQL = """
WITH firsts_fa AS (SELECT ARRAY['سارا','رضا','نرگس','محمد','زهرا','علی','مریم','حسین','فاطمه',
       'امیر','نیلوفر','پریسا','کاوه','شیرین','بهرام','مهسا'] AS a),
     lasts_fa AS (SELECT ARRAY['کریمی','محمدی','رضایی','احمدی','حسینی','جعفری','صادقی',
       'موسوی','کاظمی','رحیمی','نوری','یزدانی'] AS a),
     firsts_en AS (SELECT ARRAY['Sara','John','Amélie','Jürgen','Maria','David','Zoë','Ahmed',
       'Łukasz','Chloé','Oliver','Ines'] AS a),
     lasts_en AS (SELECT ARRAY['Smith','Müller','García','Dubois','Karimi','O''Brien','Nowak',
       'Rossi','Jensen','Silva'] AS a),
     countries AS (SELECT ARRAY['GB','DE','FR','US','CA','SE','NL','IT','ES','AU','TR','NO'] AS a),
     small AS (SELECT ARRAY['IS','MT','LU','CY','EE','LV','LT','SI','SK','HR','BA','ME','MK','AL',
       'GE','AM','AZ','KZ','UZ','TJ'] AS a)
INSERT INTO signatures_signature
  (petition_id, name, email, email_canonical, country, locality, comment, show_name,
   consent_contact, language, status, created_at, ip_hash, receipt)
SELECT %(petition)s,
       CASE WHEN n %% 5 < 3
            THEN (SELECT a[1 + n %% 16] FROM firsts_fa) || ' '
                 || (SELECT a[1 + n %% 12] FROM lasts_fa)
            ELSE (SELECT a[1 + n %% 12] FROM firsts_en) || ' '
                 || (SELECT a[1 + n %% 10] FROM lasts_en) || ' ' || chr(65 + n %% 26) END,
       'd' || n || '@example.com', 'd' || n || '@example.com',
       CASE WHEN n %% 5 < 3 THEN 'IR'
            WHEN n %% 1000 = 999 THEN (SELECT a[1 + (n / 1000) %% 20] FROM small)
            ELSE (SELECT a[1 + n %% 12] FROM countries) END,
       CASE WHEN n %% 5 < 3 THEN 'تهران' ELSE 'London' END,
       '', n %% 7 <> 0, false, CASE WHEN n %% 5 < 3 THEN 'fa' ELSE 'en' END, 'counted',
       now() - ((%(rows)s - n) * 2 || ' seconds')::interval, md5((n %% 5000)::text),
       sha256(('bench-receipt-' || n)::bytea)
FROM generate_series(1, %(rows)s) AS n
"""

# Makes the pack in this process, as the task would, and prints seconds, peak RSS and sizes; the
# Merkle tree's share of the time; then a proof for each of 200 random signers, timed one by one.
PACK = """
import resource, statistics, time
from pathlib import Path
from django.db import connection
from petitions import delivery, inclusion
from petitions.models import DeliveryPack, Petition
tree_seconds = []
write_tree = delivery.write_tree
def timed_write_tree(*args, **kwargs):
    start = time.perf_counter()
    try:
        return write_tree(*args, **kwargs)
    finally:
        tree_seconds.append(time.perf_counter() - start)
delivery.write_tree = timed_write_tree
petition = Petition.objects.get(slug="bench")
pack = DeliveryPack.objects.create(petition=petition)
start = time.perf_counter()
pack = delivery.build(pack)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT receipt FROM signatures_signature WHERE petition_id = %s "
        "ORDER BY random() LIMIT 200", [petition.pk]
    )
    sample = [bytes(row[0]) for row in cursor.fetchall()]
lookups = []
for receipt in sample:
    begin = time.perf_counter()
    proof = inclusion.inclusion_proof(petition, receipt)
    lookups.append(time.perf_counter() - begin)
    assert proof is not None and proof.verifies()
pdf, csv_ = Path(pack.pdf.path), Path(pack.csv.path)
print("RESULT", elapsed, peak,
      pdf.stat().st_size, csv_.stat().st_size, pack.names_done, pack.signatures, pdf)
print("MERKLE", sum(tree_seconds), statistics.median(lookups) * 1000, max(lookups) * 1000,
      len(lookups), bytes(pack.merkle_root).hex(), len(proof.path))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="keep the database and the pack")
    args = parser.parse_args()

    out_dir = ROOT / "bench" / "results" / "delivery"
    env = fresh_database(args.database_url, DELIVERY_PACK_ROOT=str(out_dir))
    python = PYTHON

    print(f"Seeding {args.rows:,} signatures ...", flush=True)
    seed = (
        "from tests.factories import make_petition\n"
        "from django.db import connection\n"
        "from petitions.demo.loader import load_seed_data\n"
        "data = load_seed_data()\n"
        "for key in ('signatures', 'opened_at', 'slug'): data.pop(key)\n"
        "p = make_petition(slug='bench', **data)\n"
        f"connection.cursor().execute({SEED_SQL!r}, {{'petition': p.pk, 'rows': {args.rows}}})\n"
        "connection.cursor().execute('VACUUM ANALYZE signatures_signature')\n"
    )
    run([python, "manage.py", "shell", "-c", seed], env=env)

    print("Making the delivery pack ...", flush=True)
    lines = run(
        [python, "manage.py", "shell", "-c", PACK], env=env, capture_output=True, text=True
    ).stdout.splitlines()
    fields = next(line for line in lines if line.startswith("RESULT")).split()[1:]
    seconds, peak_mb = float(fields[0]), float(fields[1])
    pdf_size, csv_size, names, total, pdf_path = (*map(int, fields[2:6]), fields[6])
    merkle = next(line for line in lines if line.startswith("MERKLE")).split()[1:]
    tree_seconds, lookup_median, lookup_max = map(float, merkle[:3])
    lookups, root, steps = int(merkle[3]), merkle[4], int(merkle[5])
    pages = next(
        (
            line.split()[-1]
            for line in run(
                ["pdfinfo", pdf_path], capture_output=True, text=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        ),
        "?",
    )
    report = "\n".join(
        [
            f"Delivery pack of {total:,} signatures ({names:,} named), PostgreSQL on 127.0.0.1",
            f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            "",
            f"time: {seconds:.1f} s   peak memory (RSS of the process that made it): "
            f"{peak_mb:.0f} MB",
            f"PDF: {pdf_size / 1e6:.1f} MB, {pages} pages   CSV: {csv_size / 1e6:.1f} MB",
            f"target: under 300 s and 300 MB -> "
            f"{'met' if seconds < 300 and peak_mb < 300 else 'NOT met'}",
            "",
            f"Merkle tree of {total:,} receipts (in the time above): {tree_seconds:.1f} s, "
            f"root {root}",
            f"proof lookup, {lookups} random signers: median {lookup_median:.1f} ms, "
            f"slowest {lookup_max:.1f} ms, {steps} steps -> "
            f"{'met' if lookup_median < 50 else 'NOT met'} (target: under 50 ms)",
        ]
    )
    print(report)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (ROOT / "bench" / "results" / f"delivery-{stamp}.txt").write_text(report + "\n")
    if not args.keep:
        for path in out_dir.glob("bench-*"):
            path.unlink()
        drop_database(args.database_url)


if __name__ == "__main__":
    sys.exit(main())
