"""Restore drill: the database host dies while people sign, and the site comes back on a cluster
restored from pgBackRest's backups and archived WAL (docs/operations.md). A bench, not a test.

    make restore-drill            (or: .venv/bin/python bench/restore_drill.py --signatures 100000)

Everything it uses is started in a work directory of its own and stopped again, also on Ctrl-C:

1. The database host: a PostgreSQL 15 cluster (initdb, pg_ctl on a free port; as root both run as
   the postgres user) with the shipped deploy/pgbackrest/postgresql.conf included, archiving
   through pgBackRest with the shipped deploy/pgbackrest/pgbackrest.conf. Only the paths are the
   drill's (PGBACKREST_* in the environment): the repository is a directory outside every host,
   standing in for the object store, and the cipher pass is in conf.d/secrets.conf, as
   docs/operations.md has it.
2. The site's tables (migrate), the demo petition with --signatures signatures bulk-loaded
   (bench/run.py's seed), stanza-create and a full backup.
3. gunicorn as in production (config/gunicorn.conf.py, a Redis of its own), and signers posting
   the real sign form with a fresh email each (bench/faults.py's load): every 302 is kept with its
   email and the moment it came.
4. After --before seconds the host dies: every process of the cluster and pgBackRest's archiver
   SIGKILLed, then the host's directory (data, pg_wal, pgBackRest's spool) deleted.
5. At once: pgbackrest restore into a new host's directory, PostgreSQL started there on another
   port (it replays the archived WAL and promotes), gunicorn restarted with the new DATABASE_URL.
   The signers keep trying throughout, as people do.
6. --after seconds of signing on the restored database; then every acknowledged signature is
   looked up in it, the count is compared with the rows and `manage.py recount` is run.

It reports the RPO (acknowledged signatures missing, and how long before the death they were
acknowledged) and the RTO (seconds from the death to the first signature acknowledged again; the
drill starts restoring at once, so a person's time to notice and decide is not in it), and writes
the report to bench/results/restore-<timestamp>.txt. It exits non-zero only when something is
broken (a signature acknowledged after the restore missing, a count that is not the rows, a
restore that fails), never on a missed target.
"""

import argparse
import configparser
import contextlib
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/restore_drill.py` puts only bench/ on the path

from bench.faults import (  # noqa: E402 - needs the path above
    PG_BIN,
    Load,
    LoadConfig,
    Postgres,
    Redis,
    Site,
    as_postgres,
    now,
    own_cpu,
    processes,
    site_environment,
    wait_gone,
    wait_healthy,
)
from bench.run import CpuSample, log, machine_details, seed  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
DEPLOY = ROOT / "deploy" / "pgbackrest"
PGBACKREST_CONF = DEPLOY / "pgbackrest.conf"
POSTGRESQL_CONF = DEPLOY / "postgresql.conf"
DB_NAME = "petitions"
SLUG = "ban-khamenei-from-twitter"  # the demo petition, which bench/run.py's seed loads

TARGET_RPO_S = 60.0
TARGET_RTO_S = 300.0
TARGET_RTO_SIGNATURES = 1_000_000


# The shipped configuration ------------------------------------------------------------------------


def pgbackrest_settings() -> configparser.ConfigParser:
    """deploy/pgbackrest/pgbackrest.conf as pgBackRest reads it: INI, no interpolation."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(PGBACKREST_CONF.read_text())
    return parser


def stanza() -> str:
    """The one stanza the shipped configuration defines: its section that is not global."""
    names = [name for name in pgbackrest_settings().sections() if not name.startswith("global")]
    if len(names) != 1:
        raise RuntimeError(f"{PGBACKREST_CONF} should define one stanza, not {names}")
    return names[0]


def postgresql_settings() -> dict[str, str]:
    """deploy/pgbackrest/postgresql.conf's `name = value` lines, unquoted."""
    settings = {}
    for line in POSTGRESQL_CONF.read_text().splitlines():
        match = re.match(r"\s*(\w+)\s*=\s*('(?:[^']|'')*'|[^\s#]+)", line)
        if match:
            name, value = match.groups()
            settings[name] = value[1:-1].replace("''", "'") if value.startswith("'") else value
    return settings


def seconds_setting(value: str) -> float:
    """A PostgreSQL time setting ('30s', '1min', '60') in seconds."""
    number, unit = re.fullmatch(r"(\d+)\s*(ms|s|min|h|d)?", value).groups()
    return int(number) * {"ms": 0.001, "s": 1, None: 1, "min": 60, "h": 3600, "d": 86400}[unit]


# Servers ------------------------------------------------------------------------------------------


def own(path: Path) -> None:
    """As root, PostgreSQL and pgBackRest run as the postgres user: it must own their paths."""
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


class Repository:
    """Where the backups go: the shipped pgbackrest.conf with the drill's paths, its repository a
    directory outside every host (the object store's stand-in)."""

    def __init__(self, work: Path):
        self.path = work / "objects"
        self.include = work / "conf.d"
        self.log = work / "pgbackrest-log"
        # Copies of the shipped files: the postgres user may not be able to read the checkout.
        self.shipped = work / "shipped"
        self.stanza = stanza()

    def prepare(self) -> None:
        for path in (self.path, self.include, self.log):
            path.mkdir(mode=0o750)
            own(path)
        self.shipped.mkdir(mode=0o755)
        for conf in (PGBACKREST_CONF, POSTGRESQL_CONF):
            shutil.copy(conf, self.shipped / conf.name)
            (self.shipped / conf.name).chmod(0o644)
        secret = self.include / "secrets.conf"
        secret.write_text(f"[global]\nrepo1-cipher-pass={secrets.token_urlsafe(36)}\n")
        secret.chmod(0o600)
        own(secret)

    def env(self, host: Postgres) -> dict:
        """pgBackRest's environment on `host`: options given this way override the file's."""
        return os.environ | {
            "PGBACKREST_CONFIG": str(self.shipped / PGBACKREST_CONF.name),
            "PGBACKREST_CONFIG_INCLUDE_PATH": str(self.include),
            "PGBACKREST_REPO1_TYPE": "posix",
            "PGBACKREST_REPO1_PATH": str(self.path),
            "PGBACKREST_LOG_PATH": str(self.log),
            "PGBACKREST_LOCK_PATH": str(host.dir / "lock"),
            "PGBACKREST_SPOOL_PATH": str(host.dir / "spool"),
            "PGBACKREST_PG1_PATH": str(host.data),
            "PGBACKREST_PG1_PORT": str(host.port),
            "PGBACKREST_PG1_SOCKET_PATH": str(host.dir),
        }

    def run(self, host: Postgres, *args: str, timeout: float = 3600) -> str:
        done = subprocess.run(
            as_postgres(["pgbackrest", f"--stanza={self.stanza}", *args]),
            cwd=host.dir,  # somewhere the postgres user may enter
            env=self.env(host),
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
        if done.returncode:
            raise RuntimeError(f"pgbackrest {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def backups(self, host: Postgres) -> list[dict]:
        return json.loads(self.run(host, "--output=json", "info"))[0]["backup"]

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())

    def archived_segments(self) -> int:
        return sum(
            1 for p in (self.path / "archive").rglob("*") if re.match(r"[0-9A-F]{24}-", p.name)
        )


class Host(Postgres):
    """A database host: a cluster in a directory of its own, archiving with the shipped settings,
    its pgBackRest spool and lock files beside its data, so that they die with it."""

    def __init__(self, work: Path, name: str, repository: Repository):
        super().__init__(work, name, DB_NAME)
        self.env = repository.env(self)
        self.postgresql_conf = repository.shipped / POSTGRESQL_CONF.name

    def init(self) -> None:
        super().init()
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\ninclude '{self.postgresql_conf}'\n")

    def restore(self, repository: Repository) -> None:
        """A new data directory from the newest backup, set to replay every archived segment."""
        self.dir.mkdir()
        own(self.dir)
        self.data.mkdir(mode=0o700)
        own(self.data)
        repository.run(self, "restore")

    def kill(self) -> int:
        """Every process of the cluster and pgBackRest's archiver for it SIGKILLed at once; how
        many there were."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        victims = [postmaster, *processes(lambda stat: int(stat[1]) == postmaster)]
        victims += self.archivers()
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not wait_gone(victims, 30):
            raise RuntimeError("the cluster's processes outlived SIGKILL")
        return len(victims)

    def archivers(self) -> list[int]:
        """pgBackRest's asynchronous archive-push for this host: detached from the postmaster."""
        mine = f"PGBACKREST_PG1_PATH={self.data}".encode()
        found = []
        for entry in os.scandir("/proc"):
            with contextlib.suppress(OSError):
                if (
                    entry.name.isdigit()
                    and Path(entry.path, "comm").read_text().strip() == "pgbackrest"
                    and mine in Path(entry.path, "environ").read_bytes().split(b"\0")
                ):
                    found.append(int(entry.name))
        return found

    def query(self, sql: str, params=(), database: str = DB_NAME) -> list[tuple]:
        import psycopg

        url = f"postgres://postgres@127.0.0.1:{self.port}/{database}"
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def promoted(self) -> bool:
        with contextlib.suppress(Exception):
            return not self.query("SELECT pg_is_in_recovery()", database="postgres")[0][0]
        return False

    def last_replayed(self) -> datetime.datetime | None:
        """The time of the last transaction recovery replayed, as PostgreSQL logged it."""
        found = re.findall(
            r"last completed transaction was at log time (\S+ \S+)", self.log_path.read_text()
        )
        return datetime.datetime.fromisoformat(found[-1]) if found else None


class ArchiveWatch(threading.Thread):
    """pg_stat_archiver on the host, twice a second: when the last segment reached the repository
    before the host died."""

    def __init__(self, host: Host):
        super().__init__(daemon=True)
        self.host = host
        self.stopping = threading.Event()
        self.last: tuple[str, datetime.datetime] | None = None

    def run(self) -> None:
        import psycopg

        while not self.stopping.wait(0.5):
            # The host is dying: what was seen last is kept.
            with contextlib.suppress(psycopg.Error):
                wal, at = self.host.query(
                    "SELECT last_archived_wal, last_archived_time FROM pg_stat_archiver",
                    database="postgres",
                )[0]
                if wal:
                    self.last = (wal, at)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


# The drill ----------------------------------------------------------------------------------------


def check_tools() -> None:
    """pgBackRest comes from Debian and is installed when missing and root; PostgreSQL 15's server
    binaries and redis-server are not (installing them would start servers on the machine)."""
    if not shutil.which("pgbackrest") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("Installing pgbackrest ...")
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "pgbackrest"]
        if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
            subprocess.run(install, env=env, stdout=subprocess.DEVNULL)
    missing = []
    if not shutil.which("pgbackrest"):
        missing.append("pgbackrest (Debian: pgbackrest)")
    if not (PG_BIN / "initdb").exists():
        missing.append(f"PostgreSQL 15's server binaries in {PG_BIN} (Debian: postgresql-15)")
    if not shutil.which("redis-server"):
        missing.append("redis-server (Debian: redis-server)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        missing.append("runuser (util-linux), to run PostgreSQL as the postgres user")
    if missing:
        sys.exit("make restore-drill needs " + "; ".join(missing))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--signatures", type=int, default=TARGET_RTO_SIGNATURES,
        help="signatures bulk-loaded before the base backup (1,000,000)",
    )  # fmt: skip
    parser.add_argument("--signers", type=int, default=16, help="signing threads (16)")
    parser.add_argument(
        "--before", type=float, default=75,
        help="seconds of signing before the host dies (75: longer than archive_timeout)",
    )  # fmt: skip
    parser.add_argument("--after", type=float, default=15, help="seconds of signing after (15)")
    parser.add_argument("--timeout", type=float, default=10, help="a client's timeout (10 s)")
    parser.add_argument("--workers", type=int, default=0, help="WEB_CONCURRENCY (the conf's)")
    parser.add_argument("--work-dir", default=None, help="where the work directory goes (/tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser.parse_args()


def interrupted(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    args = parse_args()
    began = now()
    check_tools()
    signal.signal(signal.SIGTERM, interrupted)
    work = Path(tempfile.mkdtemp(prefix="petitions-restore-", dir=args.work_dir))
    work.chmod(0o711)  # the postgres user reaches the directories below
    repository = Repository(work)
    first = Host(work, "host1", repository)
    second = Host(work, "host2", repository)
    redis = Redis(work)
    site: Site | None = None
    load: Load | None = None
    figures: dict = {"loadavg": [os.getloadavg()[0]]}
    try:
        repository.prepare()
        log(f"The database host: PostgreSQL 15 on port {first.port}, archiving to {work} ...")
        first.init()
        first.start()
        first.create_database()
        repository.run(first, "stanza-create")
        redis.start()
        env = site_environment(args, work, first, redis)
        env["NUM_PROXIES"] = "0"  # the signers post straight to gunicorn
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from lib.forms import form_token

        log(f"Migrating, seeding {args.signatures:,} signatures; collecting static files ...")
        started = now()
        collect = subprocess.Popen(
            [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT
        )
        call_command("migrate", verbosity=0)
        petition_id = seed(args.signatures)
        if collect.wait():
            raise RuntimeError("collectstatic failed")
        details = machine_details(redis.url)
        figures["database_mib"] = (
            first.query("SELECT pg_database_size(current_database())")[0][0] / 2**20
        )
        connection.close()
        figures["seed_s"] = now() - started

        log("Full backup ...")
        started = now()
        repository.run(first, "--type=full", "backup")
        figures["backup_s"] = now() - started
        backup = repository.backups(first)[-1]
        figures["backup_repo_mib"] = backup["info"]["repository"]["delta"] / 2**20
        figures["backup_mib"] = backup["info"]["size"] / 2**20

        site = Site(dict(os.environ), work)
        site.start()
        wait_healthy(site.port, 90, "gunicorn", site.log_path)
        config = LoadConfig(
            nginx_port=site.port,  # no nginx: the signers post to gunicorn
            apps=[("127.0.0.1", site.port)],
            petition_id=petition_id,
            # The form's token as the page hands it out, shown an hour ago: every signature takes
            # the real form path, the fill-time check included.
            token=form_token(petition_id, time.time() - 3600),
            signers=args.signers,
            readers=0,
            timeout=args.timeout,
        )
        watch = ArchiveWatch(first)
        watch.start()
        load = Load(config, f"r{secrets.token_hex(3)}_")
        log(f"Signing for {args.before:g} s, {args.signers} signers ...")
        CpuSample.database = DB_NAME
        cpu, ours = CpuSample(), own_cpu()
        load.start()
        time.sleep(args.before)

        figures["loadavg"].append(os.getloadavg()[0])
        figures["cpu_signing"] = clients_apart(cpu.stop(), own_cpu() - ours, args.before)
        log("The database host dies: SIGKILL, data directory deleted")
        death = figures["death"] = now()
        figures["death_wall"] = datetime.datetime.now().astimezone()
        figures["killed"] = first.kill()
        figures["dead"] = now()
        shutil.rmtree(first.dir)
        figures["gone"] = now()
        watch.stop()
        cpu, ours = CpuSample(), own_cpu()

        log("Restoring a new host from the repository ...")
        second.restore(repository)
        figures["restored"] = now()
        second.start()
        while not second.promoted():
            if now() - figures["restored"] > 600:
                raise RuntimeError(f"not promoted in 10 minutes: {second.log_path}")
            time.sleep(0.1)
        figures["promoted"] = now()
        log("Promoted; gunicorn restarted with the new DATABASE_URL ...")
        # The old gunicorn answers nothing but 503s: no request of value is in flight to wait for.
        site.stop(timeout=3)
        figures["stopped"] = now()
        site.env["DATABASE_URL"] = second.url
        site.start()
        wait_healthy(site.port, 90, "gunicorn on the restored database", site.log_path)
        figures["serving"] = now()
        figures["cpu_restore"] = clients_apart(
            cpu.stop(), own_cpu() - ours, now() - figures["gone"]
        )
        time.sleep(args.after)
        load.stop()
        figures["loadavg"].append(os.getloadavg()[0])

        figures["archived"] = watch.last
        outcome = verify(load, death, second, petition_id)
        text = report(args, outcome, figures, repository, details)
        text += f"\n\nwhole run: {now() - began:.0f} s"
        print("\n" + text)
        stamp = datetime.datetime.now().astimezone()
        out = ROOT / "bench" / "results" / f"restore-{stamp:%Y%m%d-%H%M%S}.txt"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text + "\n")
        print(f"\nwritten to {out.relative_to(ROOT)}")
        if outcome.broken:
            sys.exit("the restore lost a signature acknowledged after it, or the count is wrong")
    except KeyboardInterrupt:
        log("Interrupted: stopping everything this run started ...")
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        if load and not load.stopping.is_set():
            load.stop()
        with contextlib.suppress(Exception):
            if site:
                site.stop(timeout=10)
        with contextlib.suppress(Exception):
            redis.stop()
        with contextlib.suppress(Exception):
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
        for host in (first, second):
            with contextlib.suppress(Exception):
                if host.data.exists():
                    host.stop("immediate")
            with contextlib.suppress(Exception):
                for pid in host.archivers():
                    os.kill(pid, signal.SIGKILL)
        if args.keep:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def clients_apart(cpu: dict[str, float], ours: float, seconds: float) -> dict[str, float]:
    """CpuSample's figures with this process's own CPU (the signers' threads) taken out of
    "other", where CpuSample puts it."""
    clients = 100 * ours / seconds
    return cpu | {"clients": clients, "other": max(cpu["other"] - clients, 0)}


@dataclass
class Outcome:
    """What the restored database holds of what the signers were told."""

    before: int  # signatures acknowledged to requests sent before the death
    after: int  # ... sent after it: only the restored database can have taken them
    lost_before: list[float]  # when each missing one of `before` was acknowledged
    lost_after: int
    back: float | None  # the first acknowledgement of a request sent after the death
    errors: Counter
    recorded: int
    counted: int
    recount: str
    replayed: datetime.datetime | None

    @property
    def broken(self) -> bool:
        return bool(self.lost_after) or self.recorded != self.counted or self.back is None


def verify(load: Load, death: float, host: Host, petition_id: int) -> Outcome:
    """Every acknowledged signature looked up in the restored database, the count against the
    rows, and `manage.py recount` on it."""
    signs = [s for s in load.samples if s.kind == "sign"]
    stored = {
        row[0]
        for row in host.query(
            "SELECT email_canonical FROM signatures_signature WHERE petition_id = %s "
            "AND email_canonical LIKE %s",
            (petition_id, load.prefix.lower() + "%"),
        )
    }
    acked = [s for s in signs if s.status == 302]
    # A request sent before the death can be answered after it: its commit came first.
    before = [s for s in acked if s.started <= death]
    after = [s for s in acked if s.started > death]
    recorded, counted = host.query(
        "SELECT (SELECT coalesce(sum(count), 0) FROM signatures_signaturecount "
        "        WHERE petition_id = %s), count(*) "
        "FROM signatures_signature WHERE petition_id = %s AND status = 'counted'",
        (petition_id, petition_id),
    )[0]
    recount = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "recount"],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": host.url},
        capture_output=True,
        text=True,
        timeout=600,
    )
    said = (recount.stdout.strip() or recount.stderr.strip() or "no output").splitlines()[-1]
    return Outcome(
        before=len(before),
        after=len(after),
        lost_before=sorted(s.ended for s in before if s.email.lower() not in stored),
        lost_after=sum(1 for s in after if s.email.lower() not in stored),
        back=min((s.ended for s in after), default=None),
        errors=Counter(
            str(s.status) if s.status else s.error
            for s in signs
            if s.status != 302 and s.started > death
        ),
        recorded=recorded,
        counted=counted,
        recount=said,
        replayed=host.last_replayed(),
    )


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(args, o: Outcome, f: dict, repository: Repository, details: list[str]) -> str:
    death = f["death"]
    shipped = pgbackrest_settings()["global"]
    archive_timeout = seconds_setting(postgresql_settings()["archive_timeout"])
    version = subprocess.run(["pgbackrest", "version"], capture_output=True, text=True)
    stamp = datetime.datetime.now().astimezone()
    lines = [
        f"Petitions restore drill, {stamp:%Y-%m-%d %H:%M %Z}: the demo petition with "
        f"{args.signatures:,} signatures bulk-loaded before the base backup; {args.signers} "
        "signers posting the sign form to gunicorn (a fresh email each); the database host "
        f"killed after {args.before:g} s of signing and restored at once",
        *details,
        f"backups: {version.stdout.strip()} with deploy/pgbackrest/pgbackrest.conf "
        f"(compress-type={shipped['compress-type']}, repo1-cipher-type="
        f"{shipped['repo1-cipher-type']}, archive-async={shipped['archive-async']}), its "
        "repository a directory standing in for the object store; PostgreSQL with "
        f"deploy/pgbackrest/postgresql.conf (archive_timeout = {archive_timeout:g} s)",
        "load average (1 min) at the start, at the death, at the end: "
        + ", ".join(f"{x:.2f}" for x in f["loadavg"]),
        "",
        f"setup: migrate and seed {f['seed_s']:.0f} s (database {f['database_mib']:.0f} MiB); "
        f"full backup {f['backup_s']:.1f} s ({f['backup_mib']:.0f} MiB of files, "
        f"{f['backup_repo_mib']:.0f} MiB compressed and encrypted in the repository)",
        f"signing before the death: {o.before:,} acknowledged in {args.before:g} s "
        f"({o.before / args.before:.0f} a second)",
    ]
    if f["archived"]:
        wal, at = f["archived"]
        lines.append(
            f"the last WAL segment archived before the death ({wal}) reached the repository "
            f"{(f['death_wall'] - at).total_seconds():.1f} s before it"
        )
    if o.replayed:
        lines.append(
            "the restored database's last transaction was committed "
            f"{(f['death_wall'] - o.replayed).total_seconds():.1f} s before the death"
        )
    lines += [
        f"the death: SIGKILL to {f['killed']} processes (the postmaster, its children and "
        f"pgBackRest's archiver), all gone after {f['dead'] - death:.1f} s; the host's directory "
        f"(data, pg_wal, spool) deleted {f['gone'] - f['dead']:.1f} s later",
        f"the restore: pgbackrest restore {f['restored'] - f['gone']:.1f} s; PostgreSQL replayed "
        f"the archived WAL and promoted in {f['promoted'] - f['restored']:.1f} s; the old gunicorn "
        f"stopped in {f['stopped'] - f['promoted']:.1f} s, the new one (DATABASE_URL on the new "
        f"host) healthy {f['serving'] - f['stopped']:.1f} s later",
        f"the repository afterwards: {repository.archived_segments():,} WAL segments, "
        f"{repository.size() / 2**20:.0f} MiB in all",
        "",
    ]
    rpo = death - o.lost_before[0] if o.lost_before else 0.0
    span = (
        f", acknowledged from {rpo:.1f} s to {max(death - o.lost_before[-1], 0):.1f} s before it"
        if o.lost_before
        else ""
    )
    lines.append(
        f"RPO: {len(o.lost_before):,} of the {o.before:,} signatures acknowledged before the "
        f"death are missing{span}: {rpo:.1f} s of signatures lost (target <= "
        f"{TARGET_RPO_S:.0f} s: {verdict(rpo <= TARGET_RPO_S)})"
    )
    if o.back is None:
        lines.append("RTO: no signature was acknowledged after the death: BROKEN")
    else:
        rto = o.back - death
        lines.append(
            f"RTO: {rto:.1f} s from the death to the first signature acknowledged again (target "
            f"<= {TARGET_RTO_S:.0f} s for {TARGET_RTO_SIGNATURES:,} signatures, this run "
            f"{args.signatures:,}: {verdict(rto <= TARGET_RTO_S)})"
        )
    lines += [
        f"after the death: {o.after:,} signatures acknowledged, "
        + (f"{o.lost_after:,} of them MISSING: BROKEN" if o.lost_after else "every one stored"),
        f"count: {o.recorded:,} recorded, {o.counted:,} counted rows: "
        + ("exact" if o.recorded == o.counted else "WRONG")
        + f"; manage.py recount: {o.recount}",
        f"sign answers after the death: 302: {o.after:,}"
        + "".join(f", {k}: {v:,}" for k, v in sorted(o.errors.items()))
        + " (each signer tries again a tenth of a second after a failure)",
        "",
        f"CPU, % of one core (the machine has {(os.cpu_count() or 1) * 100}%; clients: this "
        "drill's signers; tools: pgbackrest, pg_ctl, the old gunicorn; other: not this drill's):",
        f"  {'':32} "
        + " ".join(f"{k:>7}" for k in ("app", "pg", "redis", "clients", "tools", "other")),
    ]
    for label, key in (
        ("signing before the death", "cpu_signing"),
        ("restoring (deletion to serving)", "cpu_restore"),
    ):
        cpu = f[key]
        kinds = ("app", "postgres", "redis", "clients", "load", "other")
        lines.append(f"  {label:32} " + " ".join(f"{cpu[k]:7.0f}" for k in kinds))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
