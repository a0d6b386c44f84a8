"""Export benchmark: 1,000,000 signatures on PostgreSQL, our streamed CSV export against psql's own
`COPY ... TO STDOUT` of the same rows, on the same machine in the same run.

    make bench-export            (or: .venv/bin/python bench/export_bench.py --rows 1000000)

Prints rows per second and peak memory for each. It uses its own database (petitions_bench), so
nothing else is touched. A figure, not a test: it never fails on timing.
"""

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/petitions_bench"

sys.path.insert(0, str(ROOT))
from bench.database import PYTHON, drop_database, fresh_database, run  # noqa: E402
from bench.run import SEED_SQL  # noqa: E402 - the same million signers as `make bench`

COPY_SQL = """COPY (
  SELECT p.slug, to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), s.name,
         s.email, s.country, s.locality, s.comment, s.show_name, s.consent_contact, s.language,
         s.status
  FROM signatures_signature s JOIN petitions_petition p ON p.id = s.petition_id
  WHERE s.petition_id = {petition} ORDER BY s.petition_id, s.id
) TO STDOUT WITH (FORMAT csv, HEADER)"""


def peak_child_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()

    env = fresh_database(args.database_url)
    python = PYTHON

    print(f"Seeding {args.rows:,} signatures ...", flush=True)
    seed = (
        "from tests.factories import make_petition\n"
        "from django.db import connection\n"
        "p = make_petition(slug='bench')\n"
        f"connection.cursor().execute({SEED_SQL!r}, {{'petition': p.pk, 'rows': {args.rows}}})\n"
        "connection.cursor().execute('VACUUM ANALYZE signatures_signature')\n"
        "print(p.pk)\n"
    )
    petition = int(
        run([python, "manage.py", "shell", "-c", seed], env=env, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )

    results = {}
    for name, cmd in (
        ("psql COPY", ["psql", args.database_url, "-qc", COPY_SQL.format(petition=petition)]),
        ("export_signatures (CSV)", [python, "manage.py", "export_signatures", "bench"]),
        (
            "export_signatures (JSONL)",
            [python, "manage.py", "export_signatures", "bench", "--format", "jsonl"],
        ),
    ):
        # Each run in a fresh child so its peak memory is its own.
        wrapper = [sys.executable, "-c", _MEASURE, *cmd]
        out = run(wrapper, env=env, capture_output=True, text=True).stdout.split()
        seconds, peak_mb, size = float(out[0]), float(out[1]), int(out[2])
        results[name] = (seconds, peak_mb, size)

    copy_seconds = results["psql COPY"][0]
    lines = [
        f"Export of {args.rows:,} signatures, PostgreSQL on 127.0.0.1",
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "",
        f"{'':28} {'seconds':>8} {'rows/s':>10} {'peak MB':>8} {'MB out':>7} {'x COPY':>7}",
    ]
    for name, (seconds, peak_mb, size) in results.items():
        lines.append(
            f"{name:28} {seconds:8.2f} {args.rows / seconds:10,.0f} {peak_mb:8.1f} "
            f"{size / 1e6:7.1f} {seconds / copy_seconds:7.2f}"
        )
    report = "\n".join(lines)
    print(report)
    out = ROOT / "bench" / "results" / f"export-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    out.write_text(report + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    if not args.keep:
        drop_database(args.database_url)


# Runs a command with its output counted and thrown away; prints seconds, peak RSS (MB), bytes.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
size = 0
while chunk := proc.stdout.read(1 << 20):
    size += len(chunk)
if proc.wait():
    sys.exit(proc.returncode)
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, size)
"""

if __name__ == "__main__":
    main()
