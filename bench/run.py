"""Load benchmark: the site as in production on this machine, against floors from the same run.

    make bench            (or: .venv/bin/python bench/run.py)

It makes its own database (petitions_perf, dropped and created), seeds the demo petition with
1,000,000 signatures, collects the static files into a temporary STATIC_ROOT and starts two
gunicorns with config/gunicorn.conf.py, DEBUG off, a fresh SECRET_KEY, whitenoise's manifest and
the Redis cache: the site, and the floor (bench/floor_app: a one-line view that inserts one row and
a cached hello-world, behind the same middleware). In front of the site it starts nginx with the
shipped configuration (deploy/nginx/petitions.conf), through which the petition page is measured
as visitors get it; signing and count.json go to the site's gunicorn directly, as their floors do.
wrk drives them over loopback from its own process with the Lua scripts in bench/wrk/; pgbench
gives plain PostgreSQL's one-row insert rate.

The table goes to stdout and to bench/results/perf-<timestamp>.txt with the machine's details.
Every figure is also given as a ratio to its floor, so runs on noisy machines stay comparable, and
each run says where the machine's CPU went (the app, PostgreSQL, Redis, the load tool, and anything
else: someone else's work on a shared machine). A figure, not a test: it fails only when something
is broken (a server that will not start, a lost signature), never on a slow number.
"""

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import re
import resource
import runpy
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WRK_DIR = BENCH / "wrk"
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/petitions_perf"
DEFAULT_CACHE = "redis://127.0.0.1:6379/13"  # a Redis database of its own, flushed before and after
SLUG = "ban-khamenei-from-twitter"  # the demo petition: a real letter in both languages
PGBENCH_SQL = "INSERT INTO bench_floor (note) VALUES ('pgbench');\n"
SIGN_CLIENTS = (32, 256)

NGINX_CONF = ROOT / "deploy" / "nginx" / "petitions.conf"

# The targets, each against its floor.
TARGET_SIGNING = 0.60  # x the one-row insert view, zero errors, exact count
TARGET_COUNT_JSON = 0.90  # x the cached hello-world
TARGET_PAGE_NGINX = 1.0  # the page through nginx, x the cached hello-world
TARGET_FRESH_S = 2.0  # count.json exact this soon after the last signature
# The page and the widget straight from gunicorn (no nginx), x the cached hello-world,
# for a petition of a million signatures over four years; the median worker's memory after it all.
TARGET_PAGE_DIRECT = 0.50
TARGET_WORKER_RSS_MIB = 120

SEED_SQL = """
INSERT INTO signatures_signature
  (petition_id, name, email, email_canonical, country, locality, comment, show_name,
   consent_contact, language, status, created_at, ip_hash)
SELECT %(petition)s,
       CASE WHEN n %% 2 = 0 THEN 'سارا کریمی ' || n ELSE 'Sara Karimi ' || n END,
       'seed' || n || '@example.com', 'seed' || n || '@example.com',
       CASE WHEN n %% 2 = 0 THEN 'IR' ELSE 'GB' END,
       CASE WHEN n %% 3 = 0 THEN 'تهران' ELSE 'London' END,
       CASE WHEN n %% 10 = 0 THEN 'Because, "free speech"' ELSE '' END,
       n %% 5 <> 0, n %% 4 = 0, CASE WHEN n %% 2 = 0 THEN 'fa' ELSE 'en' END, 'counted',
       now() - ((%(rows)s - n) || ' seconds')::interval, md5((n %% 5000)::text)
FROM generate_series(1, %(rows)s) AS n
"""
# The same signers `spacing` seconds apart rather than one (the other benches seed with SEED_SQL).
SPREAD_SEED_SQL = SEED_SQL.replace(
    "((%(rows)s - n) || ' seconds')::interval", "(%(rows)s - n) * %(spacing)s * interval '1 second'"
)
# The bench petition's signatures are spread over this long, as a petition open for years has them:
# its chart then costs what an old petition's does.
SEED_SPAN_SECONDS = 4 * 365 * 86400


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def tool(command: str) -> str | None:
    """A program's path; nginx lives in sbin, which a user's PATH may lack."""
    return shutil.which(command) or shutil.which(command, path="/usr/local/sbin:/usr/sbin:/sbin")


def ensure_tools(pgbouncer: bool = False) -> None:
    """wrk, nginx and the PostgreSQL client tools (and with --pgbouncer, PgBouncer) come from
    Debian; install what is missing when root."""
    wanted = {
        "wrk": "wrk",
        "nginx": "nginx",
        "psql": "postgresql-client",
        "pgbench": "postgresql-client",
    }
    if pgbouncer:
        wanted["pgbouncer"] = "pgbouncer"
    missing = sorted({pkg for cmd, pkg in wanted.items() if not tool(cmd)})
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"bench needs {', '.join(missing)}: sudo apt-get install {' '.join(missing)}")
    log(f"Installing {', '.join(missing)} ...")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", *missing]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Servers ------------------------------------------------------------------------------------------

# The process groups this run started, and what each is: "app" (a gunicorn) or "nginx".
GROUPS: dict[int, str] = {}


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """TERM to the gunicorn or nginx master, KILL to its group if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def gunicorn_shape() -> tuple[int, int]:
    """Workers and threads as config/gunicorn.conf.py makes them in this environment."""
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    return conf["workers"], conf["threads"]


def start_gunicorn(name: str, env: dict, tmp: Path) -> Server:
    port = free_port()
    log_path = tmp / f"gunicorn-{name}.log"
    command = [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi"]
    # Its own control socket: gunicorn's default is one path per user, and a second server would
    # take it over from the first.
    command += ["--control-socket", str(tmp / f"gunicorn-{name}.ctl")]
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env | {"PORT": str(port), "GUNICORN_ACCESSLOG": str(tmp / f"access-{name}.log")},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stuck one can be killed whole
        )
    GROUPS[process.pid] = "app"
    return Server(name, port, process, log_path)


# Only what a site sets itself: its paths, its app server, its port. The rest is the shipped file.
NGINX_MAIN = """
worker_processes auto;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  include {shipped};
}}
"""


def start_nginx(site: Server, tmp: Path, upstreams: list[str] | None = None) -> Server:
    """nginx with deploy/nginx/petitions.conf in front of the site's gunicorn (or of every
    `host:port` in `upstreams`)."""
    port = free_port()
    conf = tmp / "nginx"
    (conf / "petitions").mkdir(parents=True)
    # Run as root, nginx's workers run as nobody: they must reach the paths below tmp.
    tmp.chmod(0o711)
    (conf / "nginx.conf").write_text(NGINX_MAIN.format(dir=conf, shipped=NGINX_CONF))
    servers = upstreams or [f"127.0.0.1:{site.port}"]
    (conf / "petitions" / "upstream.conf").write_text("".join(f"server {s};\n" for s in servers))
    (conf / "petitions" / "listen.conf").write_text(f"listen 127.0.0.1:{port};\n")
    (conf / "petitions" / "cache-path.conf").write_text(
        f"proxy_cache_path {conf}/cache levels=1:2 keys_zone=petitions:10m;\n"
    )
    log_path = conf / "error.log"
    command = [tool("nginx"), "-p", str(conf), "-e", str(log_path), "-c", str(conf / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if checked.returncode:
        raise RuntimeError(f"nginx -t:\n{checked.stderr}")
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    GROUPS[process.pid] = "nginx"
    return Server("nginx", port, process, log_path)


def wait_healthy(server: Server, deadline: float) -> None:
    url = f"{server.base}/healthz"
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log_path.read_text()}")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(url, timeout=2) as answer,  # noqa: S310
        ):
            if answer.status == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name}: no /healthz\n{server.log_path.read_text()}")
        time.sleep(0.2)


# Where the CPU goes -------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(database: str) -> dict:
    """CPU time so far, in clock ticks: the whole machine's, and per process for our gunicorns
    and nginx, PostgreSQL (its own processes and the backends serving `database`), Redis, and the
    children this script has waited for (wrk, pgbench)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _wait, irq, softirq, steal = map(
            int, stat.readline().split()[1:9]
        )
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ticks = {
        "machine": user + nice + system + irq + softirq + steal,
        "load": round((children.ru_utime + children.ru_stime) * CLK_TCK),
        "processes": {},
    }
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            if int(fields[2]) in GROUPS:
                kind = GROUPS[int(fields[2])]
            elif comm.startswith("redis"):
                kind = "redis"
            elif comm.startswith("postgres"):
                title = Path(entry.path, "cmdline").read_bytes().decode(errors="replace")
                # Backends name their database in their title; the server's own processes don't.
                other_db = re.search(r"postgres: \S+: \S+ (\S+) ", title)
                if other_db and other_db.group(1) != database:
                    continue
                kind = "postgres"
            else:
                continue
        except (OSError, ValueError):
            continue
        ticks["processes"][int(entry.name)] = (kind, int(fields[11]) + int(fields[12]))
    return ticks


class CpuSample:
    """Where the machine's CPU went during one run, in percent of one core. A process that ended
    during the run is not counted (its time shows up as "other"); one that started is, whole."""

    database = ""

    def __init__(self):
        self.start, self.started = cpu_ticks(self.database), time.monotonic()

    def stop(self) -> dict[str, float]:
        end, seconds = cpu_ticks(self.database), time.monotonic() - self.started
        used = dict.fromkeys(("app", "nginx", "postgres", "redis"), 0)
        for pid, (kind, now) in end["processes"].items():
            used[kind] += now - self.start["processes"].get(pid, (kind, 0))[1]
        used["load"] = end["load"] - self.start["load"]
        used["other"] = max(end["machine"] - self.start["machine"] - sum(used.values()), 0)
        return {kind: 100 * t / CLK_TCK / seconds for kind, t in used.items()}


# Load ---------------------------------------------------------------------------------------------


@dataclass
class Load:
    """One wrk run, as bench/wrk/common.lua reports it."""

    label: str
    connections: int
    requests: int
    duration_us: int
    ok: int
    bad: int
    queries: int
    counted: int
    with_queries: int
    statuses: dict
    socket_errors: int
    timeouts: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    mean_us: float
    from_cache: int = 0  # answered from nginx's cache (HIT, STALE, UPDATING): the app not asked
    cpu: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Answers with the expected status per second."""
        return self.ok / (self.duration_us / 1e6)

    @property
    def errors(self) -> int:
        return self.bad + self.socket_errors + self.timeouts

    @property
    def queries_per_request(self) -> float:
        return self.queries / self.counted if self.counted else float("nan")


def wrk(label: str, url: str, script: str, connections: int, duration: int, args=()) -> Load:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s"]
    command += ["--timeout", "10s", "-s", str(WRK_DIR / script), url, "--", *args]
    cpu = CpuSample()
    out = subprocess.run(
        command,
        env=os.environ | {"BENCH_WRK_DIR": str(WRK_DIR)},
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    ).stdout
    used = cpu.stop()
    lines = [line for line in out.splitlines() if line.startswith("BENCH_JSON ")]
    if not lines:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    data = json.loads(lines[-1].removeprefix("BENCH_JSON "))
    return Load(label=label, connections=connections, cpu=used, **data)


def merge(label: str, parts: list[Load]) -> Load:
    """Several slices of one load as one: totals added up, the median p50 and the worst p99."""
    first = parts[0]
    total = {k: sum(getattr(p, k) for p in parts) for k in (
        "requests", "duration_us", "ok", "bad", "queries", "counted", "with_queries",
        "socket_errors", "timeouts", "from_cache",
    )}  # fmt: skip
    statuses: dict = {}
    for part in parts:
        for code, n in part.statuses.items():
            statuses[code] = statuses.get(code, 0) + n
    seconds = [p.duration_us for p in parts]
    cpu = {k: sum(p.cpu[k] * s for p, s in zip(parts, seconds, strict=True)) / sum(seconds)
           for k in first.cpu}  # fmt: skip
    return Load(
        label=label,
        connections=first.connections,
        statuses=statuses,
        p50_us=sorted(p.p50_us for p in parts)[len(parts) // 2],
        p90_us=max(p.p90_us for p in parts),
        p99_us=max(p.p99_us for p in parts),
        max_us=max(p.max_us for p in parts),
        mean_us=sum(p.mean_us * p.ok for p in parts) / max(sum(p.ok for p in parts), 1),
        cpu=cpu,
        **total,
    )


def pgbench(database_url: str, clients: int, duration: int, tmp: Path) -> dict:
    script = tmp / "pgbench-insert.sql"
    script.write_text(PGBENCH_SQL)
    command = ["pgbench", "-n", "-f", str(script), "-c", str(clients), "-j", "2"]
    command += ["-T", str(duration), database_url]
    cpu = CpuSample()
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    used = cpu.stop()
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    return {"tps": tps, "latency_ms": latency, "clients": clients, "cpu": used}


class Watcher(threading.Thread):
    """Reads a JSON URL every few milliseconds, as a watcher's browser would (without its cache),
    and notes when each answer arrived and what it said under `key` (count.json's "count").

    Each signing slice has one: the site's watches count.json, which the counter's freshness is
    read from; the floor's reads its cached hello-world at the same pace. That keeps the two
    slices under the same extra load: a watcher on the site's slices alone (about 30 requests a
    second on new connections, and this process's own work making them) took 4-5% off signing
    and nothing off its floor."""

    def __init__(self, url: str, key: str = "count", interval: float = 0.02):
        super().__init__(daemon=True)
        self.url, self.key, self.interval = url, key, interval
        self.samples: list[tuple[float, object]] = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            with (
                # One failed answer (a worker restarting mid-reply, say) must not end the watch.
                contextlib.suppress(OSError, ValueError, KeyError, http.client.HTTPException),
                urllib.request.urlopen(self.url, timeout=5) as answer,  # noqa: S310
            ):
                self.samples.append((time.time(), json.loads(answer.read())[self.key]))
            time.sleep(self.interval)

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)

    def exact_since(self, total: int) -> float | None:
        """When count.json first showed `total` and never anything else after."""
        since = None
        for at, count in self.samples:
            since = (since or at) if count == total else None
        return since


def worker_rss_mib(server: Server) -> list[float]:
    """The resident memory of each of a gunicorn's workers (the master's children), in MiB."""
    sizes = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError):
            status = dict(
                line.split(":", 1) for line in Path(entry.path, "status").read_text().splitlines()
            )
            if int(status["PPid"]) == server.process.pid:
                sizes.append(int(status["VmRSS"].split()[0]) / 1024)
    return sorted(sizes) or [float("nan")]


# The database, through the ORM in this process ----------------------------------------------------


def db_counts(petition_id: int) -> tuple[int, int, float]:
    """(the recorded count, the counted rows, the newest signature's time as a Unix time)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT coalesce(sum(count), 0) FROM signatures_signaturecount"
            "        WHERE petition_id = %s),"
            "       count(*), extract(epoch FROM max(created_at))"
            "  FROM signatures_signature WHERE petition_id = %s AND status = 'counted'",
            [petition_id, petition_id],
        )
        recorded, rows, newest = cursor.fetchone()
    return int(recorded), int(rows), float(newest)


def settle(petition_id: int, quiet: float = 0.5, limit: float = 30) -> tuple[int, int, float]:
    """Wait until requests still in flight when wrk stopped have committed (no new row for
    `quiet` seconds), then return db_counts."""
    deadline = time.monotonic() + limit
    last = db_counts(petition_id)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = db_counts(petition_id)
        if now[1] == last[1]:
            return now
        last = now
    return last


def seed_signatures(petition_id: int, rows: int, span_seconds: float) -> int:
    """`rows` signatures spread evenly over the `span_seconds` up to now; returns the petition's
    signature count."""
    from django.db import connection

    spacing = span_seconds / max(rows, 1)
    with connection.cursor() as cursor:
        cursor.execute(SPREAD_SEED_SQL, {"petition": petition_id, "rows": rows, "spacing": spacing})
        cursor.execute(
            "SELECT count(*) FROM signatures_signature WHERE petition_id = %s", [petition_id]
        )
        return cursor.fetchone()[0]


def seed(rows: int) -> int:
    """The demo petition with `rows` signatures over four years, its count and hourly counts
    exact as the app keeps them (manage.py rebuild_hourly_counts); the floor's table."""
    from django.db import connection

    from bench.floor_app.views import TABLE_SQL
    from petitions.demo.loader import load_demo
    from signatures import history
    from signatures.models import SignatureCount

    petition = load_demo(0)
    total = seed_signatures(petition.pk, rows, SEED_SPAN_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL)
    SignatureCount.set_total(petition.pk, total)
    history.rebuild(petition.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return petition.pk


# Report -------------------------------------------------------------------------------------------


def machine_details(cache_url: str) -> list[str]:
    import django
    import gunicorn
    import psycopg
    import redis
    from django.db import connection

    cpu, mem = "unknown", "unknown"
    with contextlib.suppress(OSError, StopIteration):
        info = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    with contextlib.suppress(OSError, StopIteration):
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    settings = {}
    with connection.cursor() as cursor:
        for name in ("server_version", "synchronous_commit", "max_connections", "shared_buffers"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    client = redis.Redis.from_url(cache_url, socket_timeout=2)
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    nginx = subprocess.run([tool("nginx"), "-v"], capture_output=True, text=True).stderr
    nginx_version = nginx.strip().rsplit("/", 1)[-1]
    workers, threads = gunicorn_shape()
    return [
        f"machine: {os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} "
        f"{platform.release()} {platform.machine()}; load average at start "
        f"{os.getloadavg()[0]:.2f}",
        f"software: Python {platform.python_version()}, Django {django.__version__}, gunicorn "
        f"{gunicorn.__version__} (gthread, {workers} workers x {threads} threads), psycopg "
        f"{psycopg.__version__}, redis-py {redis.__version__}",
        f"services: PostgreSQL {settings['server_version'].split()[0]} (synchronous_commit="
        f"{settings['synchronous_commit']}, shared_buffers={settings['shared_buffers']}, "
        f"max_connections={settings['max_connections']}), Redis {redis_version}, nginx "
        f"{nginx_version} ({os.cpu_count()} workers, deploy/nginx/petitions.conf), wrk "
        f"{wrk_version}; everything on this machine, over 127.0.0.1",
    ]


def ms(us: float) -> str:
    return f"{us / 1000:.1f}ms"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def cpu_line(label: str, cpu: dict) -> str:
    kinds = ("app", "nginx", "postgres", "redis", "load", "other")
    parts = " ".join(f"{cpu[k]:5.0f}" for k in kinds)
    return f"  {label:34} {parts}"


def report(results: dict, header: list[str]) -> str:
    loads: dict[str, Load] = results["loads"]
    hello, pg = loads["floor-hello"], results["pgbench"]
    head = (
        f"{'':34} {'req/s':>7} {'p50':>8} {'p99':>8} {'errors':>6} {'q/req':>6} "
        f"{'x floor':>7} {'target':>7}"
    )
    lines = [*header, "", head, "-" * (len(head) + 8)]

    def row(label, load, ratio=None, target=None, met=None):
        # No answer reported its queries: every one came from nginx's cache.
        queries = f"{load.queries_per_request:6.3f}" if load.counted else f"{'-':>6}"
        text = (
            f"{label:34} {load.rate:7.0f} {ms(load.p50_us):>8} {ms(load.p99_us):>8} "
            f"{load.errors:6d} {queries}"
        )
        if ratio is not None:
            text += f" {ratio:7.2f}"
        if target is not None:
            text += f" {'>= ' + format(target, '.2f'):>7}  {verdict(met)}"
        lines.append(text)

    for n in SIGN_CLIENTS:
        sign, floor = loads[f"sign-{n}"], loads[f"floor-insert-{n}"]
        ratio = sign.rate / floor.rate
        met = ratio >= TARGET_SIGNING and sign.errors == 0 and results["exact"]
        row(f"signing, {n} clients", sign, ratio, TARGET_SIGNING, met)
    # The widget beside the page, held to the page's target: as cacheable as it.
    for kind, lang in (("page", "EN"), ("page", "FA"), ("widget", "EN"), ("widget", "FA")):
        page = loads[f"nginx-{kind}-{lang.lower()}"]
        ratio = page.rate / hello.rate
        met = ratio >= TARGET_PAGE_NGINX and page.errors == 0
        label = f"{kind} {lang} through nginx, {page.connections} clients"
        row(label, page, ratio, TARGET_PAGE_NGINX, met)
    returning = loads["nginx-supporter-page-en"]
    ratio = returning.rate / hello.rate
    met = ratio >= TARGET_PAGE_NGINX and returning.errors == 0
    row("returning supporter's page view through nginx", returning, ratio, TARGET_PAGE_NGINX, met)
    count = loads["count-json"]
    ratio = count.rate / hello.rate
    met = ratio >= TARGET_COUNT_JSON and count.errors == 0
    row(f"count.json, {count.connections} clients", count, ratio, TARGET_COUNT_JSON, met)
    proxied_count = loads["nginx-count-json"]
    row(
        f"count.json through nginx, {proxied_count.connections} c.",
        proxied_count,
        proxied_count.rate / hello.rate,
    )
    # What every visitor the cache in front cannot answer gets: a returning supporter, `?form`.
    for kind, lang in (("page", "EN"), ("page", "FA"), ("widget", "EN"), ("widget", "FA")):
        page = loads[f"{kind}-{lang.lower()}"]
        ratio = page.rate / hello.rate
        met = ratio >= TARGET_PAGE_DIRECT and page.errors == 0
        label = f"{kind} {lang} from gunicorn, {page.connections} c."
        row(label, page, ratio, TARGET_PAGE_DIRECT, met)
    lines.append("floors (same run, same gunicorn, same middleware):")
    for n in SIGN_CLIENTS:
        row(f"  one-row insert view, {n} clients", loads[f"floor-insert-{n}"])
    row(f"  cached hello-world, {hello.connections} clients", hello)
    lines.append(
        f"{'  pgbench one-row INSERT, ' + str(pg['clients']) + ' clients':34} {pg['tps']:7.0f} "
        f"{'(mean ' + format(pg['latency_ms'], '.1f') + 'ms)':>17}"
    )
    rss = results["worker_rss_mib"]
    lines.append(
        f"{'median worker RSS after the run':34} {statistics.median(rss):6.0f} MiB "
        f"(workers: {', '.join(f'{m:.0f}' for m in rss)})"
        f"{'':4}<= {TARGET_WORKER_RSS_MIB}  "
        f"{verdict(statistics.median(rss) <= TARGET_WORKER_RSS_MIB)}"
    )
    lines.append("")
    lines.append(
        f"count after signing: {results['recorded']:,} recorded, {results['rows']:,} counted rows "
        f"({results['signed']:,} signed in this run): {'exact' if results['exact'] else 'WRONG'}"
    )
    lag = results["freshness_s"]
    lag_text = "not within 10 s" if lag is None else f"{lag:.2f} s"
    lines.append(
        f"count.json showed the exact total {lag_text} after the last signature (worst of the "
        f"signing runs; target <= {TARGET_FRESH_S:.0f} s): "
        f"{verdict(lag is not None and lag <= TARGET_FRESH_S)}"
    )
    for n in SIGN_CLIENTS:
        sign = loads[f"sign-{n}"]
        statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(sign.statuses.items()))
        lines.append(
            f"signing, {n} clients: {sign.rate / pg['tps']:.3f} x pgbench; answers {statuses}; "
            f"{sign.queries_per_request:.1f} queries a signature (the floor's view makes one)"
        )
    seconds = count.duration_us / 1e6
    lines.append(
        f"count.json: {count.with_queries:,} of {count.counted:,} answers touched the database "
        f"({count.queries:,} queries, {count.with_queries / seconds:.1f} answers a second): the "
        "count is kept in Redis for a second, and counted again by the request(s) that find it "
        "expired"
    )
    lines.append(
        f"count.json through nginx: {proxied_count.from_cache:,} of {proxied_count.ok:,} answers "
        f"from nginx's cache; {proxied_count.queries:,} queries in all, "
        f"{proxied_count.queries / max(proxied_count.ok, 1):.5f} a reader's answer"
    )
    for kind, lang in (("page", "EN"), ("page", "FA"), ("widget", "EN"), ("widget", "FA")):
        page = loads[f"nginx-{kind}-{lang.lower()}"]
        lines.append(
            f"{kind} {lang} through nginx: {page.from_cache:,} of {page.ok:,} answers from "
            f"nginx's cache, {page.counted:,} rendered by the app (q/req is theirs)"
        )
    lines.append(
        f"returning supporter's page view through nginx: {returning.from_cache:,} of "
        f"{returning.ok:,} answers from nginx's cache ({returning.counted:,} rendered by the app)"
    )
    cores = os.cpu_count() or 1
    lines += ["", f"CPU during each run, % of one core (the machine has {cores * 100}%):"]
    lines.append(
        f"  {'':34} {'app':>5} {'nginx':>5} {'pg':>5} {'redis':>5} {'load':>5} {'other':>5}"
    )
    for load in loads.values():
        lines.append(cpu_line(load.label, load.cpu))
    # pgbench's own backends start and end within its run, so they show as "other".
    lines.append(cpu_line("pgbench (its backends: other)", pg["cpu"]))
    noisy = [k for k, load in loads.items() if load.cpu["other"] > 25]
    if noisy:
        lines.append(
            "NOTE: other work took more than a quarter of a core during "
            f"{', '.join(noisy)}: those figures are noisy."
        )
    return "\n".join(lines)


# The run ------------------------------------------------------------------------------------------


# The organisation's receiver: answers 204 to every POST and prints how many it got when stopped.
RECEIVER = """
import http.server, signal, sys
got = 0
class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global got
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        got += 1
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
def stop(*args):
    print(got, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
"""


class WebhookLoad:
    """--webhook: two endpoints (the petition's and a site-wide one) that hear every event, a
    receiver in a process of its own, and the dispatcher as production runs it, in a process of
    its own (with the immediate task backend it delivers there too). Both run at nice 19: on this
    one 2-core machine they stand for a worker host and the organisation's own server, and at
    normal priority they would take their CPU from the app servers being measured, not from
    signing's own path (docs/webhooks.md gives the figures both ways)."""

    def __init__(self, petition_id: int, tmp: Path, *, niced: bool = True):
        self.petition_id = petition_id
        self.tmp = tmp
        self.niced = niced
        self.received = 0

    def spawn(self, command: list[str], **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            command, preexec_fn=(lambda: os.nice(19)) if self.niced else None, **kwargs
        )

    def start(self) -> None:
        from integrations.models import Endpoint

        port = free_port()
        self.receiver = self.spawn(
            [sys.executable, "-c", RECEIVER, str(port)], stdout=subprocess.PIPE, text=True
        )
        url = f"http://127.0.0.1:{port}/hooks"
        for petition_id in (self.petition_id, None):
            Endpoint.objects.create(
                petition_id=petition_id, url=url, owner_email="bench@example.org"
            )
        self.log = open(self.tmp / "webhooks.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = self.spawn(
            [str(VENV_BIN / "python"), "manage.py", "webhooks", "--forever"],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> str:
        from django.db import connection
        from django.db.models import Count

        from integrations.models import Delivery

        time.sleep(15)  # the last looks and deliveries
        self.process.terminate()
        self.process.wait(10)
        self.receiver.terminate()
        self.received = int(self.receiver.communicate(timeout=10)[0].strip() or 0)
        self.log.close()
        states = dict(Delivery.objects.values_list("state").annotate(n=Count("pk")).order_by())
        connection.close()
        priority = "nice 19" if self.niced else "normal priority"
        return (
            "webhooks: 2 endpoints (the petition's, site-wide), every signer consenting; "
            f"finder and receiver at {priority}; {self.received:,} POSTs received; "
            f"deliveries by state {states}"
        )


def bench_environment(args, tmp: Path) -> dict:
    unlimited = "100000000/m"
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": args.database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CACHE_URL": args.cache_url,
        "STATIC_MANIFEST": "true",
        "STATIC_ROOT": str(tmp / "static"),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # wrk is one address: the limits are set out of reach, but still checked every time.
        "SIGN_RATE_PER_IP": unlimited,
        "SIGN_RATE_PER_PETITION": unlimited,
        # --webhook: the receiver is on this machine, and every signer consents to be sent.
        **(
            {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true", "BENCH_SIGN_CONSENT": "1"}
            if args.webhook
            else {}
        ),
    }


def supporter_cookie() -> str:
    """A returning supporter's signed cookie, as signing leaves it in their browser."""
    from django.http import HttpResponse

    from signatures import supporter

    response = HttpResponse()
    who = supporter.Supporter(name="Sara Karimi", email="sara@example.com", country="GB")
    supporter.remember(response, who)
    return response.cookies[supporter.COOKIE_NAME].value


def measure(args, petition_id: int, site: Server, floor: Server, proxy: Server) -> dict:
    """Every figure and its floor, taken in alternating slices (floor, site, floor, site, ...)
    so that both meet the same noise on a shared machine."""

    from lib.forms import form_token

    # The form's token as the page hands it out, issued an hour ago, so every signature takes the
    # real form path, the fill-time check included; and the Origin a browser sends with the form.
    started = form_token(petition_id, time.time() - 3600)
    origin = site.base
    sign_url = f"{site.base}/en/p/{SLUG}/sign/"
    floor_url = f"{floor.base}/en/floor/insert/"
    count_url = f"{site.base}/en/p/{SLUG}/count.json"
    hello_url = f"{floor.base}/en/floor/hello.json"
    pages = {
        "page-en": f"{site.base}/en/p/{SLUG}/",
        "page-fa": f"{site.base}/fa/p/{SLUG}/",
        "widget-en": f"{site.base}/en/p/{SLUG}/embed/",
        "widget-fa": f"{site.base}/fa/p/{SLUG}/embed/",
    }
    proxied = {f"nginx-{key}": url.replace(site.base, proxy.base) for key, url in pages.items()}
    proxied["nginx-count-json"] = count_url.replace(site.base, proxy.base)
    supporter_page = proxied["nginx-page-en"]
    cookie = supporter_cookie()
    rounds, readers = args.rounds, args.read_clients
    slice_s = max(1, round(args.duration / rounds))

    def sign(label, url, clients, seconds=slice_s):
        # A new email on every request: the run's label is in each address.
        return wrk(label, url, "sign.lua", clients, seconds, (origin, started, label))

    log("Warming up every worker on every path ...")
    warm = max(2, args.duration // 4)
    for url in (*pages.values(), *proxied.values(), count_url, hello_url):
        wrk("warm", url, "get.lua", readers, warm)
    sign("warm", sign_url, 32, warm)
    sign("warmfloor", floor_url, 32, warm)
    settle(petition_id)

    slices: dict[str, list[Load]] = {}
    lags = []
    for n in SIGN_CLIENTS:
        log(f"Signing and its floor (the one-row insert view), {n} clients, {rounds} x 2 slices")
        for r in range(rounds):
            watcher = Watcher(hello_url, key="hello")  # the same extra load as the site's
            watcher.start()
            try:
                floor_slice = sign(f"floor{n}r{r}", floor_url, n)
            finally:
                watcher.stop()
            slices.setdefault(f"floor-insert-{n}", []).append(floor_slice)
            poller = Watcher(count_url)  # a watcher, throughout
            poller.start()
            try:
                slices.setdefault(f"sign-{n}", []).append(sign(f"sign{n}r{r}", sign_url, n))
                _, rows, newest = settle(petition_id)
                deadline = time.time() + 10
                while time.time() < deadline and poller.exact_since(rows) is None:
                    time.sleep(0.05)
                    # A request wrk had given up on can still be signed after settle(): at 256
                    # clients one in a hundred waits a second in gunicorn's queue. The lag is
                    # measured from the signature that really was the last.
                    _, rows, newest = db_counts(petition_id)
            finally:
                poller.stop()
            since = poller.exact_since(rows)
            lags.append(None if since is None else max(since - newest, 0.0))
            if since is None:
                last = [(round(at - newest, 2), count) for at, count in poller.samples[-3:]]
                log(f"count.json never settled on {rows:,}; its last answers (s, count): {last}")
    recorded, rows, _ = db_counts(petition_id)
    reads = (("floor-hello", hello_url), ("count-json", count_url), *pages.items())
    log(
        "count.json, the petition pages and widgets (direct and through nginx) and their "
        f"floor (hello-world), {rounds} x {len(reads) + len(proxied)} slices"
    )
    for _ in range(rounds):
        for key, url in (*reads, *proxied.items()):
            slices.setdefault(key, []).append(wrk(key, url, "get.lua", readers, slice_s))
        slices.setdefault("nginx-supporter-page-en", []).append(
            wrk(
                "nginx-supporter-page-en",
                supporter_page,
                "supporter.lua",
                readers,
                slice_s,
                (cookie,),
            )
        )
    return {
        "loads": {key: merge(key, parts) for key, parts in slices.items()},
        "recorded": recorded,
        "rows": rows,
        "signed": rows - args.rows,
        "exact": recorded == rows,
        "freshness_s": None if None in lags else max(lags),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="signatures to seed")
    # Eight slices of three seconds: on a host shared with other tenants one slice's ratio to its
    # floor's ranged from 0.6 to 1.2 on identical code; three slices left a whole figure +-0.07.
    parser.add_argument("--duration", type=int, default=24, help="seconds per figure")
    parser.add_argument("--rounds", type=int, default=8, help="slices each figure is cut into")
    parser.add_argument("--read-clients", type=int, default=64, help="connections for GET runs")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--pgbouncer",
        action="store_true",
        help="the site and the floor reach PostgreSQL through PgBouncer (deploy/pgbouncer.ini, "
        "transaction pooling, DATABASE_POOLER=pgbouncer) on a free port; seeding and pgbench "
        "go straight to PostgreSQL",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="sign with webhook endpoints registered (the petition's and a site-wide one, every "
        "event) and consenting signers, while `manage.py webhooks --forever` finds and delivers "
        "their events to a local receiver; the report says how many arrived",
    )
    parser.add_argument(
        "--webhook-priority",
        choices=("nice", "normal"),
        default="nice",
        help="with --webhook: the finder and the receiver at nice 19 (the default: on one machine "
        "they stand for other hosts) or at the app servers' own priority",
    )
    args = parser.parse_args()
    began = time.monotonic()
    ensure_tools(args.pgbouncer)

    tmp = Path(tempfile.mkdtemp(prefix="petitions-bench-"))
    tmp.chmod(0o711)  # as root, PgBouncer runs as the postgres user and reaches its directory
    os.environ.update(bench_environment(args, tmp))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connection

    admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
    db_name = args.database_url.rsplit("/", 1)[1]
    CpuSample.database = db_name
    servers: list[Server] = []
    bouncer = None

    def psql(sql: str) -> None:
        subprocess.run(["psql", admin_url, "-qc", sql], check=True, stdout=subprocess.DEVNULL)

    try:
        log(f"Database {db_name}: drop, create, migrate ...")
        psql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        psql(f"CREATE DATABASE {db_name}")
        call_command("migrate", verbosity=0)
        caches["default"].clear()

        log("Collecting static files (hashed, compressed), meanwhile seeding ...")
        collect = subprocess.Popen(
            [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT
        )
        seeding = time.monotonic()
        petition_id = seed(args.rows)
        log(f"Seeded {args.rows:,} signatures in {time.monotonic() - seeding:.0f} s")
        if collect.wait():
            raise RuntimeError("collectstatic failed")
        connection.close()

        app_env = dict(os.environ)
        if args.pgbouncer:
            from bench.pgbouncer import PgBouncer

            server = urllib.parse.urlsplit(args.database_url)
            bouncer = PgBouncer(
                tmp / "pgbouncer",
                server=(server.hostname, server.port or 5432),
                listen=("127.0.0.1", free_port()),
                user=server.username or "postgres",
            )
            log(f"Starting PgBouncer on port {bouncer.listen[1]} in front of PostgreSQL ...")
            bouncer.start()
            GROUPS[bouncer.process.pid] = "postgres"
            app_env |= {"DATABASE_URL": bouncer.url(db_name), "DATABASE_POOLER": "pgbouncer"}
        log("Starting gunicorn (the site and the floor) and nginx in front of the site ...")
        servers.append(start_gunicorn("site", app_env, tmp))
        floor_env = app_env | {"DJANGO_SETTINGS_MODULE": "bench.floor_app.settings"}
        servers.append(start_gunicorn("floor", floor_env, tmp))
        servers.append(start_nginx(servers[0], tmp))
        deadline = time.monotonic() + 90
        for server in servers:
            wait_healthy(server, deadline)

        hooks = (
            WebhookLoad(petition_id, tmp, niced=args.webhook_priority == "nice")
            if args.webhook
            else None
        )
        if hooks:
            log("Registering webhook endpoints and starting `manage.py webhooks --forever` ...")
            hooks.start()
        results = measure(args, petition_id, *servers)
        webhooks_line = hooks.stop() if hooks else ""
        results["worker_rss_mib"] = worker_rss_mib(servers[0])
        for server in servers:
            server.stop()
        log("pgbench, one-row INSERT, 32 clients ...")
        results["pgbench"] = pgbench(args.database_url, 32, args.duration, tmp)

        stamp = datetime.datetime.now().astimezone()
        header = [
            f"Petitions load benchmark, {stamp:%Y-%m-%d %H:%M %Z}: the demo petition with "
            f"{args.rows:,} seeded signatures; wrk over loopback, {args.duration} s a figure "
            f"in {args.rounds} slices alternating with its floor's",
            *machine_details(args.cache_url),
        ]
        if webhooks_line:
            header.append(webhooks_line)
        if bouncer:
            from bench.pgbouncer import version

            header.append(
                f"database: the site and the floor through {version()} (deploy/pgbouncer.ini, "
                "transaction pooling, DATABASE_POOLER=pgbouncer); pgbench straight to PostgreSQL"
            )
        text = report(results, header) + f"\n\nwhole run: {time.monotonic() - began:.0f} s"
        print("\n" + text)
        out = BENCH / "results" / f"perf-{stamp:%Y%m%d-%H%M%S}.txt"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text + "\n")
        print(f"\nwritten to {out.relative_to(ROOT)}")
        if not results["exact"]:
            sys.exit("the count is not exact")
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                server.stop()
        if bouncer:
            bouncer.stop()
        with contextlib.suppress(Exception):
            caches["default"].clear()
        connection.close()
        if not args.keep:
            with contextlib.suppress(subprocess.CalledProcessError):
                psql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
        if os.environ.get("BENCH_KEEP_TMP"):
            log(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
