"""Update send benchmark: one update emailed to 100,000 consenting signers through a
local SMTP sink, by the real worker (`manage.py db_worker`) on PostgreSQL.

    make bench-updates          (or: .venv/bin/python bench/update_send.py --signers 100000)

Prints the messages per second of the send, the worker's memory along the way (to show it stays
flat) and its peak, and checks the sink got every signer exactly once. It uses its own database
(petitions_bench_updates), so nothing else is touched. A figure, not a test: it never fails on
timing. The sink is aiosmtpd in a process of its own (bench/smtp_sink.py).
"""

import argparse
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import PYTHON, drop_database, fresh_database, run  # noqa: E402
from bench.run import SEED_SQL  # noqa: E402 - the same signers as `make bench`

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/petitions_bench_updates"

SETUP = """
from django.db import connection
from petitions import mailing
from petitions.models import Update
from signatures.models import SignatureCount
from tests.factories import make_petition, make_staff
import time
p = make_petition(slug="bench-updates")
with connection.cursor() as cursor:
    cursor.execute({seed!r}, {{"petition": p.pk, "rows": {rows}}})
    # make bench's signers, every one of them agreeing to hear about the campaign
    cursor.execute(
        "UPDATE signatures_signature SET consent_contact = true WHERE petition_id = %s", [p.pk]
    )
    cursor.execute("VACUUM ANALYZE")
SignatureCount.set_total(p.pk, {rows})
update = Update.objects.create(
    petition=p, email_signers=True,
    title_en="We met the minister", body_en="On Monday we handed over **your** signatures.\\n\\n"
    "Thank you. Next, the hearing.",
    title_fa="با وزیر دیدار کردیم", body_fa="دوشنبه امضاهای شما را تحویل دادیم.\\n\\nسپاس.",
)
start = time.perf_counter()
recipients = mailing.approve(update, by=make_staff(username="bench"))
print(update.pk, recipients, time.perf_counter() - start)
"""

PROGRESS_SQL = (
    "SELECT count(*) FROM petitions_delivery WHERE update_id = {update} AND state = 'sent'"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process now, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signers", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="stop the send after this long and report the rate so far (on a busy machine)",
    )
    args = parser.parse_args()

    port = free_port()
    env = fresh_database(
        args.database_url,
        TASKS_BACKEND="database",
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        SITE_URL="https://petitions.example.org",
        LOG_LEVEL="WARNING",
        CACHE_URL="",
    )
    python = PYTHON
    run([python, "manage.py", "createcachetable"], env=env)

    sink = subprocess.Popen(
        [python, str(ROOT / "bench" / "smtp_sink.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout.readline().strip() == "ready"
    try:
        print(
            f"Seeding {args.signers:,} consenting signers and approving the update ...", flush=True
        )
        setup = SETUP.format(seed=SEED_SQL, rows=args.signers)
        out = run(
            [python, "manage.py", "shell", "-c", setup], env=env, capture_output=True, text=True
        )
        update, recipients, approve_seconds = out.stdout.split()[-3:]
        update, recipients, approve_seconds = int(update), int(recipients), float(approve_seconds)

        print(f"Approved: {recipients:,} recipients listed in {approve_seconds:.1f} s", flush=True)
        print(f"Sending to {recipients:,} ...", flush=True)
        start = time.perf_counter()
        worker = subprocess.Popen(
            [python, "manage.py", "db_worker", "--batch", "--interval", "0",
             "--no-startup-delay", "--no-reload", "-v0"],
            cwd=ROOT,
            env=env,
        )  # fmt: skip
        samples = []  # (seconds, sent, RSS MB)
        last = 0.0
        peak = 0.0
        while worker.poll() is None:
            time.sleep(0.5)
            try:
                rss, peak = rss_mb(worker.pid), max(peak, peak_mb(worker.pid))
            except (FileNotFoundError, ProcessLookupError):
                break
            now = time.perf_counter() - start
            if args.max_seconds and now > args.max_seconds:
                worker.kill()  # a measurement cut short: the send would resume on a new worker
                break
            if now - last >= 10:
                sent = run(
                    ["psql", args.database_url, "-Atc", PROGRESS_SQL.format(update=update)],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                samples.append((now, int(sent), rss))
                print(f"  {now:6.0f} s  {int(sent):>7,} sent  RSS {rss:6.1f} MB", flush=True)
                last = now
        worker.wait()
        seconds = time.perf_counter() - start
    finally:
        sink.terminate()
        received, distinct = (int(n) for n in sink.communicate(timeout=60)[0].split())

    sent = int(
        run(
            ["psql", args.database_url, "-Atc", PROGRESS_SQL.format(update=update)],
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    loadavg = os.getloadavg()
    finished = sent == recipients
    steady = [rss for _, n, rss in samples if n >= recipients * 0.1]
    lines = [
        f"One update emailed to {recipients:,} consenting signers, PostgreSQL and an aiosmtpd sink"
        " on 127.0.0.1, one db_worker",
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average at the end {loadavg[0]:.1f} "
        "(a machine shared with other work: figures are perturbed)",
        "",
        f"approval (recipient list written): {approve_seconds:8.2f} s",
        f"send:                              {seconds:8.2f} s"
        + ("" if finished else f" (stopped at the time limit, {sent:,} of {recipients:,} sent)"),
        f"messages per second:               {sent / seconds:8.1f}",
        f"worker peak memory (VmHWM):        {peak:8.1f} MB",
        "worker memory after 10% sent:      "
        + (f"{min(steady):.1f} to {max(steady):.1f} MB" if steady else "n/a (send too short)"),
        f"deliveries marked sent:            {sent:8,}",
        f"sink received / distinct:          {received:,} / {distinct:,}",
    ]
    report = "\n".join(lines)
    print("\n" + report)
    out = ROOT / "bench" / "results" / f"updates-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    out.write_text(report + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    if not args.keep:
        drop_database(args.database_url)


if __name__ == "__main__":
    main()
