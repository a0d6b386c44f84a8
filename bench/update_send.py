"""Update send benchmark: one update emailed to 100,000 consenting signers through a local SMTP
sink, by N real workers (`manage.py db_worker`) on PostgreSQL.

    make bench-updates BENCH_ARGS="--workers 4"
    make bench-updates BENCH_ARGS="--milestone --workers 4"
    .venv/bin/python bench/update_send.py --signers 20000 --workers 4

With --milestone the petition reaches a threshold instead (the periodic pass records it), and its
milestone goes to the same signers through the same outbox, with the one-a-day check per chunk.

Prints the messages per second of the send, each worker's memory along the way (to show it stays
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
from petitions.models import Update
from signatures.models import SignatureCount
from tests.factories import make_petition
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
if {milestone}:
    from petitions.models import Threshold
    Threshold.objects.create(
        number=max({rows} // 2, 1),
        consequence_en="the ministry now owes a written response",
        consequence_fa="وزارتخانه اکنون باید پاسخ کتبی بدهد",
        owes_response=True,
        deadline_days=30,
    )
    update.delete()
    print(0)
else:
    print(update.pk)
"""
APPROVE = """
import time
from petitions import mailing, thresholds
from petitions.models import Update
from tests.factories import make_staff
start = time.perf_counter()
if {update}:
    update = {update}
    recipients = mailing.approve(Update.objects.get(pk=update), by=make_staff(username="bench"))
else:
    # The pass that finds the threshold writes the milestone and lists its recipients.
    thresholds.record_reached()
    milestone = Update.objects.milestones().get()
    update, recipients = milestone.pk, milestone.deliveries.count()
print(update, recipients, time.perf_counter() - start, time.time())
"""

PROGRESS_SQL = (
    "SELECT count(*) FROM petitions_delivery WHERE update_id = {update} AND state = 'sent'"
)
BACKENDS_SQL = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid()"
)
DONE_SQL = "SELECT email_state = 'done' FROM petitions_update WHERE id = {update}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(database_url: str, sql: str) -> str:
    return run(["psql", database_url, "-Atc", sql], capture_output=True, text=True).stdout.strip()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    parser.add_argument("--workers", type=int, default=1, help="db_worker processes")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--milestone",
        action="store_true",
        help="send a threshold's milestone, found by the periodic pass, instead of an update",
    )
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
        # Each worker keeps its database connection, so its backend's CPU time can be read.
        CONN_MAX_AGE="86400",
    )
    python = PYTHON
    run([python, "manage.py", "createcachetable"], env=env)

    sink = subprocess.Popen(
        [python, str(ROOT / "bench" / "smtp_sink.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout.readline().strip() == "ready"
    workers = []
    try:
        print(f"Seeding {args.signers:,} consenting signers ...", flush=True)
        setup = SETUP.format(seed=SEED_SQL, rows=args.signers, milestone=args.milestone)
        shell = [python, "manage.py", "shell", "-c"]
        out = run([*shell, setup], env=env, capture_output=True, text=True)
        update = int(out.stdout.split()[-1])

        worker = [python, "manage.py", "db_worker", "--interval", "0.1", "--no-startup-delay",
                  "--no-reload", "-v0"]  # fmt: skip
        workers += [subprocess.Popen(worker, cwd=ROOT, env=env) for _ in range(args.workers)]
        time.sleep(5)  # started and polling: their start-up is not the send's cost
        processes = [*(worker.pid for worker in workers), sink.pid]
        processes += [int(pid) for pid in psql(args.database_url, BACKENDS_SQL).split()]
        cpu_before = {pid: cpu_seconds(pid) for pid in processes}

        print(f"{'Reaching' if args.milestone else 'Approving'}; {args.workers} worker(s) send ...")
        out = run([*shell, APPROVE.format(update=update)], env=env, capture_output=True, text=True)
        update, recipients, approve_seconds, approved_at = out.stdout.split()[-4:]
        update, recipients, approve_seconds = int(update), int(recipients), float(approve_seconds)
        start = time.perf_counter() - (time.time() - float(approved_at))
        print(f"Listed: {recipients:,} recipients in {approve_seconds:.1f} s", flush=True)
        samples = []  # (seconds, sent, RSS MB of each worker)
        peaks = [0.0] * args.workers
        last = 0.0
        while True:
            time.sleep(0.5)
            rss = [rss_mb(worker.pid) for worker in workers]
            peaks = [max(p, peak_mb(w.pid)) for p, w in zip(peaks, workers, strict=True)]
            now = time.perf_counter() - start
            done = psql(args.database_url, DONE_SQL.format(update=update)) == "t"
            if done or (args.max_seconds and now > args.max_seconds):
                break
            if now - last >= 10:
                sent = int(psql(args.database_url, PROGRESS_SQL.format(update=update)))
                samples.append((now, sent, rss))
                memory = " ".join(f"{mb:5.1f}" for mb in rss)
                print(f"  {now:6.0f} s  {sent:>7,} sent  RSS MB {memory}", flush=True)
                last = now
        seconds = time.perf_counter() - start
        backends = [int(pid) for pid in psql(args.database_url, BACKENDS_SQL).split()]
        used = {
            pid: cpu_seconds(pid) - cpu_before.get(pid, 0.0)
            for pid in [*(worker.pid for worker in workers), sink.pid, *backends]
        }
        cpu = {
            "workers": sum(used[worker.pid] for worker in workers),
            "sink": used[sink.pid],
            "PostgreSQL": sum(used[pid] for pid in backends),
        }
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        sink.terminate()
        received, distinct = (int(n) for n in sink.communicate(timeout=60)[0].split())

    sent = int(psql(args.database_url, PROGRESS_SQL.format(update=update)))
    loadavg = os.getloadavg()
    finished = sent == recipients
    steady = [mb for _, n, rss in samples if n >= recipients * 0.1 for mb in rss]
    lines = [
        f"One {'threshold milestone' if args.milestone else 'update'} emailed to {recipients:,} "
        "consenting signers, PostgreSQL and an aiosmtpd sink"
        f" on 127.0.0.1, {args.workers} db_worker process(es)",
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average at the end {loadavg[0]:.1f} "
        "(a machine shared with other work: figures are perturbed)",
        "",
        f"{'pass' if args.milestone else 'approval'} (recipient list written): "
        f"{approve_seconds:8.2f} s",
        f"send:                              {seconds:8.2f} s"
        + ("" if finished else f" (stopped at the time limit, {sent:,} of {recipients:,} sent)"),
        f"messages per second:               {sent / seconds:8.1f}",
        "CPU per message:                   "
        + ", ".join(f"{name} {1000 * used / max(sent, 1):.2f} ms" for name, used in cpu.items()),
        f"messages/s {os.cpu_count()} idle cores could carry at that cost: "
        f"{os.cpu_count() * max(sent, 1) / sum(cpu.values()):6.1f}",
        "peak memory per worker (VmHWM):    " + ", ".join(f"{mb:.1f}" for mb in peaks) + " MB",
        "worker memory after 10% sent:      "
        + (f"{min(steady):.1f} to {max(steady):.1f} MB" if steady else "n/a (send too short)"),
        f"deliveries marked sent:            {sent:8,}",
        f"sink received / distinct:          {received:,} / {distinct:,}",
        "every signer got exactly one:      "
        + ("yes" if received == distinct == recipients else "NO")
        if finished
        else "no signer got two:                 "
        + ("yes" if received == distinct == sent else "NO"),
    ]
    report = "\n".join(lines)
    print("\n" + report)
    name = "milestone" if args.milestone else "updates"
    out = ROOT / "bench" / "results" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    out.write_text(report + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    if not args.keep:
        drop_database(args.database_url)


if __name__ == "__main__":
    main()
