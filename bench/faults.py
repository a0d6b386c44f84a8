"""Fault suite: the site as in production, signed and read by browser-like clients while its
dependencies fail one at a time. A measurement, not a CI gate.

    make faults            (or: .venv/bin/python bench/faults.py --help)
    make faults-net        (the network mode, below)

It starts everything it uses and stops it again, also on Ctrl-C: its own PostgreSQL 15 cluster
(initdb into a temporary directory, pg_ctl on a free port; as root both run as the postgres user)
and its own Redis (redis-server on a free port, nothing saved), never the machine's shared ones.
It migrates, loads the demo petition, collects the static files and starts the site as in
production: gunicorn with config/gunicorn.conf.py, DEBUG off, a fresh SECRET_KEY, CACHE_URL on its
Redis, a pid file (GUNICORN_PIDFILE), NUM_PROXIES=1 and rate limits set out of reach, with nginx
and the shipped deploy/nginx/petitions.conf in front, as `make bench` starts them.

Every phase runs the same load: signers (30 threads, each from an address of its own) post the
sign form through nginx on kept-alive connections, each signature with a fresh email, the page's
form token and the Origin a browser sends; a few readers fetch the petition page and count.json
straight from gunicorn (nginx's micro-cache would hide what the app answers); one poller asks
/healthz four times a second.
After the baseline, each fault is injected a few seconds into its phase:

    redis-kill    Redis SIGKILLed, a new one started on its port 20 s later
    redis-hang    Redis SIGSTOPped for 15 s, then SIGCONT
    hup           gunicorn's master sent HUP (a plain gunicorn reload)
    reload        deploy/reload-gunicorn.sh PIDFILE, the zero-gap reload (skipped if absent)
    restart       gunicorn's master sent TERM; once it has exited, gunicorn started again
    postgres      PostgreSQL stopped (pg_ctl stop -m fast) for 10 s, then started
    worker-kill   one gunicorn worker SIGKILLed
    read-flood    1,000 reads a second of the page and count.json through nginx (paced wrk)

and the baseline is run again at the end, so that a machine that got slower shows.

Network mode (make faults-net, or --network; root) puts PostgreSQL, Redis and two app servers
(gunicorn) each in a network namespace of its own (bench/netns.py), behind the same nginx in the
root namespace; the app servers reach PostgreSQL through PgBouncer (deploy/pgbouncer.ini,
transaction pooling) and, before it, a relay that can add latency (bench/tcp_relay.py: this kernel
has no netem). Its faults, after the same baseline:

    redis-drop    every packet to and from Redis dropped (iptables) for 20 s
    pg-latency    20 ms added to every round trip between the app servers and PostgreSQL, 20 s
    pg-partition  every packet between app1 and PostgreSQL's host dropped for 10 s

(--only takes the single-host faults too). Unless --no-single-host, the single-host suite runs
first in the same sitting with the same timings, and both tables go to one results file.

For each phase it reports the sign requests, the acknowledged signatures (302), the errors by
status and the connection errors, the acknowledged signatures missing from the database afterwards,
the sharded count (SignatureCount.objects.total_for) against the counted rows, the longest time
with no successful signature, the recovery time, the signing rate during the fault as a share of
the baseline's (and of the same phase's seconds before the fault), the p99 and slowest sign
answers during the fault, and the 5xx answers. The table goes to stdout and to
bench/results/faults-<timestamp>.txt (network mode: faults-net-<timestamp>.txt);
docs/reliability.md says how each figure is taken. It exits non-zero only when something is
broken (an acknowledged signature lost, a count that is not the
rows, a server that does not come back), never on a slow number.
"""

import argparse
import bisect
import contextlib
import datetime
import http.client
import itertools
import json
import os
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/faults.py` puts only bench/ on the path

from bench.netns import Network  # noqa: E402
from bench.pgbouncer import PgBouncer, as_postgres  # noqa: E402
from bench.pgbouncer import version as pgbouncer_version  # noqa: E402
from bench.run import (  # noqa: E402 - needs the path above
    GROUPS,
    WRK_DIR,
    CpuSample,
    Server,
    free_port,
    gunicorn_shape,
    log,
    machine_details,
    start_nginx,
    tool,
)
from bench.tcp_relay import Relay  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
PG_BIN = Path(os.environ.get("FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
RELOAD_SCRIPT = ROOT / "deploy" / "reload-gunicorn.sh"
SLUG = "ban-khamenei-from-twitter"  # the demo petition
DB_NAME = "petitions_faults"

# Paced reads for the flood (Debian's wrk has no -R): each connection waits delay() milliseconds
# before its next request. With C connections, a pause P and an answer taking L, the rate is
# C / (P + L); once a second the pause moves halfway to C / target - L, L taken from the last
# second's rate (halfway: L itself moves with the load). The statuses are tallied by the bench's
# common.lua.
FLOOD_LUA = """\
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local target, conns, pause, second, sent, first
function init(args)
  expected = 200
  wrk.headers["Accept-Encoding"] = "gzip"
  target, conns = tonumber(args[1]), tonumber(args[2])
  pause = conns * 1000 / target
  second, sent, first = os.time(), 0, true
end
function delay()
  local t = os.time()
  if t ~= second then
    if not first and sent > 0 then
      local achieved = sent / (t - second)
      pause = math.max(pause + (conns * 1000 / target - conns * 1000 / achieved) / 2, 0)
    end
    second, sent, first = t, 0, false
  end
  sent = sent + 1
  return math.floor(pause)
end
"""

# The targets.
TARGET_CACHE_SHARE = 0.90  # signing during a Redis fault, x the baseline
TARGET_FLOOD_SHARE = 0.80  # signing during 1,000 reads/s through nginx, x the baseline
TARGET_GAP_S = 1.0  # the longest gap in signing during a reload
# Signing has recovered once no sign request fails and no second passes without an acknowledged
# signature (this long).
RECOVERY_GAP_S = 1.0


def now() -> float:
    return time.monotonic()


# Processes ----------------------------------------------------------------------------------------


def proc_stat(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: [state, ppid, pgrp, ...], or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def running(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def processes(where: Callable[[list[str]], bool]) -> list[int]:
    """The live processes whose stat fields satisfy `where`."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat and stat[0] not in ("Z", "X") and where(stat):
                found.append(int(entry.name))
    return sorted(found)


def wait_gone(pids, timeout: float) -> bool:
    deadline = now() + timeout
    while any(running(pid) for pid in pids):
        if now() > deadline:
            return False
        time.sleep(0.05)
    return True


class Postgres:
    """A PostgreSQL cluster of our own in a temporary directory, on a free port (or, in network
    mode, on its own host's address: `wrap` runs its commands in that host's namespace); `env` is
    the environment its commands and server run with (None: this process's)."""

    def __init__(
        self, tmp: Path, name: str = "pg", database: str = DB_NAME, env=None,
        host: str = "127.0.0.1", port: int = 0, wrap=(),
    ):  # fmt: skip
        self.dir = tmp / name
        self.data = self.dir / "data"
        self.host, self.port, self.wrap = host, port or free_port(), list(wrap)
        self.log_path = self.dir / "postgres.log"
        self.database = database
        self.env: dict | None = env
        self.started = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{self.database}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*self.wrap, *as_postgres([str(PG_BIN / command[0]), *command[1:]])],
            # The postgres user may not be able to enter the checkout (a private temporary clone).
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,  # a Ctrl-C at the terminal is ours to handle, not the server's
        )
        if check and done.returncode:
            raise RuntimeError(f"{command[0]} failed:\n{done.stdout}{done.stderr}")
        return done

    def init(self) -> None:
        self.dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        # --no-sync: a throw-away cluster; the server itself runs with the default fsync settings.
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        if self.host != "127.0.0.1":  # initdb trusts loopback only; the network is ours alone
            subnet = self.host.rsplit(".", 1)[0] + ".0/24"
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {subnet} trust\n")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses={self.host} -k {self.dir}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w",
                  "-t", "60", "start")  # fmt: skip
        self.started = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def create_database(self) -> None:
        import psycopg

        admin = f"postgres://postgres@{self.host}:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.database}")


class Redis:
    """A redis-server of our own on a free port (in network mode, on its own host's address):
    no snapshots, no append-only file."""

    def __init__(self, tmp: Path, host: str = "127.0.0.1", port: int = 0, wrap=()):
        self.dir = tmp / "redis"
        self.host, self.port, self.wrap = host, port or free_port(), list(wrap)
        self.process: subprocess.Popen | None = None
        self.stopped = False

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def start(self) -> None:
        self.dir.mkdir(exist_ok=True)
        command = [*self.wrap, "redis-server", "--port", str(self.port), "--bind", self.host]
        command += ["--protected-mode", "no"]  # no password, on an address of its own
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        with open(self.dir / "redis.log", "ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = now() + 10
        while not self.ping():
            if self.process.poll() is not None or now() > deadline:
                raise RuntimeError(f"redis-server did not start: {self.dir / 'redis.log'}")
            time.sleep(0.02)

    def ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)
        self.stopped = False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()  # nothing to save; works on a stopped process too
        self.process.wait(timeout=10)


class Site:
    """The site's gunicorn, found through its pid file: a reload may replace the master. In
    network mode one per app server, each on its host's address (`wrap`: in its namespace)."""

    def __init__(self, env: dict, tmp: Path, host: str = "127.0.0.1", port: int = 0, wrap=()):
        self.tmp = tmp
        tmp.mkdir(exist_ok=True)
        self.host, self.port, self.wrap = host, port or free_port(), list(wrap)
        self.pidfile = tmp / "gunicorn.pid"
        self.log_path = tmp / "gunicorn.log"
        self.env = env | {
            "HOST": host,
            "PORT": str(self.port),
            "GUNICORN_PIDFILE": str(self.pidfile),
            "GUNICORN_ACCESSLOG": str(tmp / "access.log"),
        }
        self.popens: list[subprocess.Popen] = []
        self.groups: set[int] = set()

    def start(self) -> None:
        command = [*self.wrap, str(VENV_BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "config.wsgi"]
        # Its own control socket: gunicorn's default is one path per user (docs/scaling.md).
        command += ["--control-socket", str(self.tmp / "gunicorn.ctl")]
        if "GUNICORN_PIDFILE" not in GUNICORN_CONF.read_text():
            command += ["--pid", str(self.pidfile)]  # an older configuration without a pidfile
        with open(self.log_path, "ab") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so that we can find it all
            )
        self.popens.append(process)
        self.groups.add(process.pid)
        GROUPS[process.pid] = "app"  # for the CPU figures (bench/run.py's cpu_ticks)

    @property
    def process(self) -> subprocess.Popen:
        return self.popens[-1]

    def master(self, wait: float = 5.0) -> int | None:
        """The master's pid from the pid file (a reload may leave it missing for a moment)."""
        deadline = now() + wait
        while True:
            with contextlib.suppress(OSError, ValueError):
                pid = int(self.pidfile.read_text().strip())
                if running(pid):
                    return pid
            if now() >= deadline:
                return None
            time.sleep(0.05)

    def tidy(self) -> str:
        """After a phase: one master of ours serving, as the next phase needs. A reload that
        failed half-way can leave its new master (PIDFILE.2) running beside the old one: it is
        stopped, and said so."""
        master = self.master()
        if master is None or int(proc_stat(master)[2]) not in self.groups:
            raise RuntimeError(f"no gunicorn master of ours runs (pid file {self.pidfile})")
        note = ""
        with contextlib.suppress(OSError, ValueError):
            second = int(Path(f"{self.pidfile}.2").read_text().strip())
            if second != master and running(second):
                os.kill(second, signal.SIGTERM)
                wait_gone([second], 30)
                note = f"a second master ({second}, PIDFILE.2) was left running: stopped it"
        return note

    def workers(self) -> list[int]:
        master = self.master()
        return processes(lambda stat: int(stat[1]) == master) if master else []

    def reap(self) -> None:
        for process in self.popens:
            process.poll()

    def stop(self, timeout: float = 25) -> None:
        """TERM to the master(s), then KILL to whatever is left in our process groups."""
        masters = {p.pid for p in self.popens if p.poll() is None}
        master = self.master(wait=0)
        if master:
            masters.add(master)
        for pid in masters:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        wait_gone(masters, timeout)
        for pid in processes(lambda stat: int(stat[2]) in self.groups):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for process in self.popens:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


def get(port: int, path: str, timeout: float = 2.0, host: str = "127.0.0.1") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


def wait_healthy(
    port: int, timeout: float, what: str, log_path: Path | None = None, host: str = "127.0.0.1"
) -> None:
    deadline = now() + timeout
    while get(port, "/healthz", host=host)[0] != 200:
        if now() > deadline:
            tail = log_path.read_text()[-3000:] if log_path and log_path.exists() else ""
            raise RuntimeError(f"{what}: no healthy /healthz within {timeout:.0f} s\n{tail}")
        time.sleep(0.1)


# Load ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    """One request: what it was, when it was sent and answered, the status (0: no HTTP answer,
    `error` says why)."""

    kind: str  # sign, page, count, healthz
    started: float
    ended: float
    status: int
    error: str = ""
    email: str = ""  # an acknowledged signature's address
    note: str = ""  # /healthz: the cache's state


class Client:
    """One browser's connection: kept alive, and, as browsers do, a request sent on a kept-alive
    connection that the server had closed is sent once more on a new one."""

    def __init__(self, host: str, port: int, timeout: float, source: str | None = None):
        self.host, self.port, self.timeout, self.source = host, port, timeout, source
        self.conn: http.client.HTTPConnection | None = None
        self.used = False
        self.retries = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, str, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host,
                    self.port,
                    timeout=self.timeout,
                    source_address=(self.source, 0) if self.source else None,
                )
                self.used = False
            reused = self.used
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
            except (ConnectionResetError, BrokenPipeError) as exc:  # RemoteDisconnected too
                self.close()
                if reused and attempt == 0:
                    self.retries += 1
                    continue
                return 0, "reset" if isinstance(exc, ConnectionResetError) else "broken pipe", b""
            except ConnectionRefusedError:
                self.close()
                return 0, "refused", b""
            except TimeoutError:
                self.close()
                return 0, "timeout", b""
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                return 0, type(exc).__name__, b""
            self.used = True
            if response.will_close:
                self.close()
            return response.status, "", data
        raise AssertionError("unreachable")


@dataclass
class LoadConfig:
    nginx_port: int
    apps: list[tuple[str, int]]  # the app servers' addresses, read straight
    petition_id: int
    token: str  # the sign form's token
    signers: int
    readers: int
    timeout: float


class Load:
    """Signers through nginx; readers (spread over the app servers) and a /healthz poller for
    each app server straight to gunicorn, until stop()."""

    def __init__(self, config: LoadConfig, prefix: str):
        self.config, self.prefix = config, prefix
        self.samples: list[Sample] = []  # list.append is atomic: no lock needed
        self.stopping = threading.Event()
        self.clients: list[Client] = []
        self.threads = [
            *(threading.Thread(target=self.signer, args=(n,), daemon=True)
              for n in range(config.signers)),
            *(threading.Thread(target=self.reader, args=(config.apps[n % len(config.apps)],),
                               daemon=True) for n in range(config.readers)),
            *(threading.Thread(target=self.health, args=(app,), daemon=True)
              for app in config.apps),
        ]  # fmt: skip

    def start(self) -> None:
        self.began = now()
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        # The gaps and the seconds are counted up to here: requests still in flight (up to the
        # client's timeout) are waited for, and their answers counted, but the wait is no gap.
        self.stopped = now()
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=self.config.timeout + 5)
        self.ended = now()

    def client(self, host: str, port: int, source: str | None = None) -> Client:
        client = Client(host, port, self.config.timeout, source)
        self.clients.append(client)
        return client

    def signer(self, n: int) -> None:
        config = self.config
        # Each signer from an address of its own (all of 127/8 is this machine), as people are:
        # nginx passes it on in X-Forwarded-For, and the app keys its limits and tallies by it.
        client = self.client("127.0.0.1", config.nginx_port, f"127.1.{n // 250}.{n % 250 + 1}")
        origin = f"http://127.0.0.1:{config.nginx_port}"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin,  # as every browser sends with a form POST
            "Sec-Fetch-Site": "same-origin",
        }
        path = f"/en/p/{SLUG}/sign/"
        i = 0
        while not self.stopping.is_set():
            i += 1
            email = f"{self.prefix}-{n}-{i}@example.com"
            body = urlencode(
                {
                    "started": config.token,
                    "name": f"Sara Karimi {i}",
                    "email": email,
                    "country": "GB",
                    "locality": "",
                    "comment": "",
                    "show_name": "on",
                    "website": "",  # the honeypot, left empty as a person leaves it
                }
            )
            started = now()
            status, error, _ = client.request("POST", path, body, headers)
            self.samples.append(
                Sample("sign", started, now(), status, error, email if status == 302 else "")
            )
            if status == 0 or status >= 500:
                self.stopping.wait(0.1)  # a person presses Sign again, not a tight loop
        client.close()

    def reader(self, app: tuple[str, int]) -> None:
        client = self.client(*app)
        headers = {"Accept-Encoding": "gzip"}
        paths = (("page", f"/en/p/{SLUG}/"), ("count", f"/en/p/{SLUG}/count.json"))
        while not self.stopping.is_set():
            for kind, path in paths:
                started = now()
                status, error, _ = client.request("GET", path, headers=headers)
                self.samples.append(Sample(kind, started, now(), status, error))
            self.stopping.wait(0.1)
        client.close()

    def health(self, app: tuple[str, int]) -> None:
        host, port = app
        while not self.stopping.is_set():
            started = now()
            status, body = get(port, "/healthz", timeout=5, host=host)
            cache = ""
            with contextlib.suppress(ValueError, AttributeError):
                cache = json.loads(body).get("cache", "")
            self.samples.append(Sample("healthz", started, now(), status, note=cache))
            self.stopping.wait(0.25)


# Faults -------------------------------------------------------------------------------------------


@dataclass
class Window:
    """When the fault began and ended (the rate during the fault is taken from `start` to
    `until`: for a fault that is one signal, a window of --window seconds after it)."""

    start: float
    end: float
    until: float
    note: str = ""
    flood: list[dict] = field(default_factory=list)
    wrk_cpu: float = 0.0  # seconds of CPU the flood's wrk used


@dataclass
class Suite:
    args: argparse.Namespace
    tmp: Path
    pg: Postgres
    redis: Redis
    site: Site  # the app server that gunicorn's faults hit (in network mode, app1)
    nginx: Server
    wrks: list[subprocess.Popen] = field(default_factory=list)
    # Network mode: every app server, the namespaces, and the relay before PgBouncer.
    sites: list[Site] = field(default_factory=list)
    network: Network | None = None
    relay: Relay | None = None

    def instant(self, start: float, note: str = "") -> Window:
        return Window(start, start, start + self.args.window, note)

    # Each returns its Window; the load runs meanwhile.

    def baseline(self) -> Window:
        start = now()
        time.sleep(self.args.baseline)
        return Window(start, now(), now())

    def redis_kill(self) -> Window:
        start = now()
        self.redis.kill()
        time.sleep(self.args.redis_down)
        self.redis.start()
        end = now()
        return Window(
            start, end, end, f"Redis SIGKILLed, a new one answering {end - start:.1f} s later"
        )

    def redis_hang(self) -> Window:
        start = now()
        self.redis.pause()
        time.sleep(self.args.redis_hang)
        self.redis.resume()
        end = now()
        return Window(start, end, end, f"Redis SIGSTOPped, SIGCONT {end - start:.1f} s later")

    def hup(self) -> Window:
        os.kill(self.site.master(), signal.SIGHUP)
        return self.instant(now(), "HUP to gunicorn's master")

    def reload(self) -> Window:
        start = now()
        before = self.site.master()
        done = subprocess.run(
            [*self.site.wrap, "bash", str(RELOAD_SCRIPT), str(self.site.pidfile)],
            cwd=ROOT,
            env=self.site.env,  # the operator's environment is the app's: PORT, for its check
            capture_output=True,
            text=True,
            timeout=300,
        )
        end = now()
        (self.tmp / "reload.log").write_text(done.stdout + done.stderr)
        after = self.site.master()
        self.site.reap()
        note = f"deploy/reload-gunicorn.sh returned {done.returncode} after {end - start:.1f} s"
        note += f"; master {before} -> {after}"
        if done.returncode:
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            note += f"; its last words: {' | '.join(tail)}"
        return Window(start, end, max(end, start + self.args.window), note)

    def restart(self) -> Window:
        start = now()
        master = self.site.master()
        os.kill(master, signal.SIGTERM)
        if not wait_gone([master], 60):
            raise RuntimeError("gunicorn did not stop within 60 s of TERM")
        stopped = now()
        self.site.reap()
        self.site.start()
        end = now()
        note = f"TERM: the master exited after {stopped - start:.1f} s, then gunicorn started"
        return Window(start, end, max(end, start + self.args.window), note)

    def postgres(self) -> Window:
        start = now()
        self.pg.stop("fast")
        stopped = now()
        time.sleep(max(self.args.pg_down - (stopped - start), 0))
        self.pg.start()
        note = f"pg_ctl stop -m fast took {stopped - start:.1f} s; accepting again after "
        note += f"{now() - start:.1f} s"
        return Window(start, now(), now(), note)

    def redis_drop(self) -> Window:
        start = now()
        self.network.cut("redis")
        time.sleep(self.args.redis_drop)
        self.network.heal("redis")
        end = now()
        return Window(
            start, end, end, f"every packet to and from Redis dropped for {end - start:.1f} s"
        )

    def pg_latency(self) -> Window:
        start = now()
        self.relay.slow(True)
        time.sleep(self.args.pg_latency)
        self.relay.slow(False)
        end = now()
        note = f"{self.args.latency_ms:g} ms added to every round trip between the app servers "
        note += f"and PgBouncer for {end - start:.1f} s"
        return Window(start, end, end, note)

    def pg_partition(self) -> Window:
        start = now()
        self.network.cut("db", ["app1"])
        time.sleep(self.args.partition)
        self.network.heal("db", ["app1"])
        end = now()
        note = f"every packet between app1 and PostgreSQL's host dropped for {end - start:.1f} s "
        note += "(app2 unaffected)"
        return Window(start, end, end, note)

    def worker_kill(self) -> Window:
        workers = self.site.workers()
        if not workers:
            raise RuntimeError("gunicorn has no workers to kill")
        victim = secrets.choice(workers)
        os.kill(victim, signal.SIGKILL)
        return self.instant(now(), f"SIGKILL to worker {victim} of {len(workers)}")

    def read_flood(self) -> Window:
        args = self.args
        script = self.tmp / "flood.lua"
        script.write_text(FLOOD_LUA)
        # Half the rate each on the page and count.json, each connection pausing between requests.
        connections = max(args.flood_connections // 2, 1)
        base = f"http://127.0.0.1:{self.nginx.port}/en/p/{SLUG}/"
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = now()
        for url in (base, base + "count.json"):
            command = ["wrk", "-t1", f"-c{connections}", f"-d{args.flood}s", "--timeout", "10s"]
            command += ["-s", str(script), url, "--", str(args.flood_rate / 2), str(connections)]
            self.wrks.append(
                subprocess.Popen(
                    command,
                    env=os.environ | {"BENCH_WRK_DIR": str(WRK_DIR)},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
            )
        flood = []
        for process, kind in zip(self.wrks[-2:], ("page", "count"), strict=True):
            out = process.communicate(timeout=args.flood + 60)[0]
            lines = [line for line in out.splitlines() if line.startswith("BENCH_JSON ")]
            if not lines:
                raise RuntimeError(f"wrk printed no result:\n{out}")
            flood.append({"kind": kind} | json.loads(lines[-1].removeprefix("BENCH_JSON ")))
        end = now()
        waited = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = waited.ru_utime + waited.ru_stime - children.ru_utime - children.ru_stime
        reads = sum(f["requests"] for f in flood)
        note = (
            f"wrk through nginx, {2 * connections} paced connections: "
            f"{reads / (end - start):,.0f} reads/s achieved (asked {args.flood_rate:,})"
        )
        return Window(start, end, end, note, flood, wrk_cpu)


# Phases -------------------------------------------------------------------------------------------

# name: (label in the table, the Suite method that injects it)
PHASES = {
    "baseline": ("baseline (no fault)", "baseline"),
    "redis-kill": ("Redis killed, {redis_down} s", "redis_kill"),
    "redis-hang": ("Redis hung (SIGSTOP), {redis_hang} s", "redis_hang"),
    "hup": ("gunicorn HUP", "hup"),
    "reload": ("zero-gap reload (script)", "reload"),
    "restart": ("gunicorn TERM + start", "restart"),
    "postgres": ("PostgreSQL stopped, {pg_down} s", "postgres"),
    "worker-kill": ("a worker SIGKILLed", "worker_kill"),
    "read-flood": ("{flood_rate:,} reads/s through nginx", "read_flood"),
    # Network mode only (--network): packets dropped with iptables, latency from bench/tcp_relay.
    "redis-drop": ("Redis unreachable (dropped), {redis_drop} s", "redis_drop"),
    "pg-latency": ("+{latency_ms:g} ms to PostgreSQL, {pg_latency} s", "pg_latency"),
    "pg-partition": ("PostgreSQL cut from app1, {partition} s", "pg_partition"),
    "baseline-end": ("baseline again (no fault)", "baseline"),
}
NETWORK_FAULTS = ("redis-drop", "pg-latency", "pg-partition")


@dataclass
class Result:
    name: str
    label: str
    skipped: str = ""
    requests: int = 0
    acked: int = 0
    errors: Counter = field(default_factory=Counter)
    missing: int = 0
    stored_unacked: int = 0
    recorded: int = 0
    rows: int = 0
    gap: float = 0.0
    recovery: float | None = None
    recovered: bool = True
    rate: float = 0.0
    share: float | None = None
    before_rate: float | None = None  # the same phase's rate before the fault
    before_seconds: float = 0.0  # over how long
    reads: int = 0
    page_5xx: int = 0
    count_5xx: int = 0
    read_errors: Counter = field(default_factory=Counter)
    read_statuses: Counter = field(default_factory=Counter)  # the readers' answers other than 200
    cpu: dict = field(default_factory=dict)
    healthz: Counter = field(default_factory=Counter)
    latency: dict = field(default_factory=dict)
    # Sign requests sent within the fault's window (the baseline's: all): latency p99 and max.
    window_p99: float = 0.0
    window_max: float = 0.0
    retries: int = 0
    series: str = ""  # acknowledged signatures in each second of the phase
    window: Window | None = None

    @property
    def exact(self) -> bool:
        return self.recorded == self.rows

    @property
    def before_share(self) -> float | None:
        return self.rate / self.before_rate if self.before_rate else None

    @property
    def sign_failures(self) -> int:
        return sum(self.errors.values())

    @property
    def sign_5xx(self) -> int:
        return sum(
            n for status, n in self.errors.items() if status.isdigit() and int(status) >= 500
        )

    @property
    def unanswered(self) -> int:
        """Sign requests that got no HTTP answer at all (the client's timeout, a reset)."""
        return sum(n for status, n in self.errors.items() if not status.isdigit())


def settle(prefix: str, quiet: float = 1.0, limit: float = 30) -> None:
    """Wait until requests still in flight when the load stopped have committed (no new row of
    this phase for `quiet` seconds)."""
    from signatures.models import Signature

    def rows() -> int:
        return Signature.objects.filter(email_canonical__startswith=prefix).count()

    deadline = now() + limit
    last = rows()
    while now() < deadline:
        time.sleep(quiet)
        if (current := rows()) == last:
            return
        last = current


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(int(len(values) * p), len(values) - 1)]


def summarise(result: Result, load: Load, window: Window, petition_id: int, fault: bool) -> None:
    """Fill in `result` from the load's samples and the database."""
    from django.db import connection

    from signatures.models import Signature, SignatureCount

    samples = load.samples
    signs = [s for s in samples if s.kind == "sign"]
    result.requests = len(signs)
    ok = sorted(s.ended for s in signs if s.status == 302)
    result.acked = len(ok)
    for s in signs:
        if s.status != 302:
            result.errors[str(s.status) if s.status else s.error] += 1
    result.latency = {
        "p50": percentile([s.ended - s.started for s in signs], 0.50),
        "p99": percentile([s.ended - s.started for s in signs], 0.99),
        "max": max((s.ended - s.started for s in signs), default=float("nan")),
    }
    result.retries = sum(c.retries for c in load.clients)
    sent = [s.ended - s.started for s in signs if window.start <= s.started <= window.until]
    if not fault:
        sent = [s.ended - s.started for s in signs]
    result.window_p99 = percentile(sent, 0.99)
    result.window_max = max(sent, default=float("nan"))

    # The longest time in the phase with no signature acknowledged.
    edges = [load.began, *(t for t in ok if t < load.stopped), load.stopped]
    result.gap = max(b - a for a, b in itertools.pairwise(edges))
    # Recovery: from the fault's end until signing is undisturbed again. A disturbance is a sign
    # request that failed after the end (over with the next acknowledged signature) or a gap
    # longer than RECOVERY_GAP_S ending after it (over with the signature that ends it). Without
    # any, the time to the first signature acknowledged after the end.
    if fault:

        def next_ok(t: float) -> float | None:
            i = bisect.bisect_left(ok, t)
            return ok[i] if i < len(ok) else None

        ends = [
            next_ok(s.ended)
            for s in signs
            if s.status != 302 and window.end <= s.ended < load.stopped
        ]
        ends += [
            b for a, b in itertools.pairwise(edges) if b >= window.end and b - a > RECOVERY_GAP_S
        ]
        if ends and (None in ends or load.stopped in ends):
            result.recovered = False
            result.recovery = load.stopped - window.end
        else:
            back = max(ends, default=None) or next_ok(window.end)
            result.recovered = back is not None
            result.recovery = (back or load.stopped) - window.end
    # Acknowledged signatures second by second, the fault's seconds in brackets.
    per_second = Counter(int(t - load.began) for t in ok)
    first, last = int(window.start - load.began), int(window.end - load.began)
    cells = []
    for second in range(int(load.stopped - load.began) + 1):
        cell = str(per_second[second])
        if fault and second == first:
            cell = "[" + cell
        if fault and second == last:
            cell += "]"
        cells.append(cell)
    result.series = " ".join(cells)
    during = [t for t in ok if window.start <= t <= window.until]
    result.rate = len(during) / max(window.until - window.start, 1e-9)
    # The same phase before its fault (its first second left out: connections opening) is a
    # reference nearer in time than the baseline, on a machine whose speed drifts.
    if fault and window.start - load.began > 2:
        before = [t for t in ok if load.began + 1 <= t < window.start]
        result.before_seconds = window.start - load.began - 1
        result.before_rate = len(before) / result.before_seconds

    for s in samples:
        if s.kind in ("page", "count"):
            result.reads += 1
            if s.status >= 500:
                if s.kind == "page":
                    result.page_5xx += 1
                else:
                    result.count_5xx += 1
            if s.status == 0:
                result.read_errors[f"{s.kind} {s.error}"] += 1
            elif s.status != 200:
                result.read_statuses[f"{s.kind} {s.status}"] += 1
        elif s.kind == "healthz":
            answer = f"{s.status} cache {s.note or '?'}" if s.status else "no answer"
            result.healthz[answer] += 1
    for flood in window.flood:
        result.reads += flood["requests"]
        fives = sum(n for code, n in flood["statuses"].items() if int(code) >= 500)
        if flood["kind"] == "page":
            result.page_5xx += fives
        else:
            result.count_5xx += fives
        errors = flood["socket_errors"] + flood["timeouts"]
        if errors:
            result.read_errors[f"{flood['kind']} (wrk) socket errors"] += errors

    # The database: every acknowledged signature is there, and the count is the rows.
    connection.close()  # a fresh connection: PostgreSQL may have restarted since the last one
    settle(load.prefix)
    stored = set(
        Signature.objects.filter(
            petition_id=petition_id, email_canonical__startswith=load.prefix
        ).values_list("email_canonical", flat=True)
    )
    acked = {s.email.lower() for s in signs if s.status == 302}
    result.missing = len(acked - stored)
    result.stored_unacked = len(stored - acked)
    result.recorded = SignatureCount.objects.total_for(petition_id)
    result.rows = Signature.objects.counted().filter(petition_id=petition_id).count()


def own_cpu() -> float:
    """This process's CPU time so far, in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def warm_up(config: LoadConfig, run_id: str, seconds: float) -> None:
    """The same load, not reported: every worker imports and connects before the baseline."""
    log(f"Warming up for {seconds:g} s ...")
    load = Load(config, f"{run_id}-warmup")
    load.start()
    time.sleep(seconds)
    load.stop()


def run_phase(suite: Suite, config: LoadConfig, run_id: str, name: str) -> Result:
    args = suite.args
    label, method = PHASES[name]
    result = Result(name, label.format(**vars(args)))
    if name == "reload" and not RELOAD_SCRIPT.exists():
        result.skipped = (
            "deploy/reload-gunicorn.sh is not in this checkout (yet): the zero-gap reload was "
            "not measured"
        )
        log(f"{name}: skipped: {result.skipped}")
        return result
    fault = not name.startswith("baseline")
    # "_" ends the prefix: no phase's is the start of another's ("baseline", "baseline-end").
    load = Load(config, f"{run_id}-{name}_")
    log(f"{name}: {result.label} ...")
    cpu, ours = CpuSample(), own_cpu()
    load.start()
    try:
        if fault:
            time.sleep(args.before)
        window = getattr(suite, method)()
        time.sleep(max(window.until - now(), 0) + (args.after if fault else 0))
    finally:
        load.stop()
    # CpuSample's "load" is every child this process waited for, which after a restart includes
    # the old gunicorn master: here it is our clients alone, this process and the flood's wrk.
    result.cpu = cpu.stop()
    clients = 100 * (own_cpu() - ours + window.wrk_cpu) / (load.ended - load.began)
    result.cpu["other"] = max(result.cpu["other"] + result.cpu["load"] - clients, 0)
    result.cpu["load"] = clients
    result.window = window
    summarise(result, load, window, config.petition_id, fault)
    # The next phase starts from one master that answers, on every app server.
    for site in suite.sites or [suite.site]:
        site.reap()
        tidied = site.tidy()
        if tidied:
            window.note = f"{window.note}; {tidied}" if window.note else tidied
            log(f"{name}: {tidied}")
        wait_healthy(site.port, 60, f"{site.host} after {name}", site.log_path, site.host)
    wait_healthy(suite.nginx.port, 60, f"the site after {name}", suite.site.log_path)
    return result


# Report -------------------------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def report(results: list[Result], header: list[str], baseline_rate: float) -> tuple[str, bool]:
    head = (
        f"{'fault':32} {'requests':>8} {'acked':>7} {'missing':>7} {'count=rows':>10} "
        f"{'longest gap':>11} {'recovery':>9} {'rate':>5} {'before':>6} {'p99':>7} {'max':>7} "
        f"{'5xx':>6} {'reads':>6} {'page 5xx':>8} {'count 5xx':>9}  sign errors"
    )
    lines = [*header, "", head, "-" * (len(head) + 20)]
    broken = False
    for r in results:
        if r.skipped:
            lines.append(f"{r.label:32} skipped: {r.skipped}")
            continue
        broken |= bool(r.missing) or not r.exact
        share = f"{100 * r.share:4.0f}%" if r.share is not None else f"{'-':>5}"
        before = f"{100 * r.before_share:5.0f}%" if r.before_share is not None else f"{'-':>6}"
        recovery = seconds(r.recovery) if r.recovered else f">{r.recovery:.0f} s"
        exact = "yes" if r.exact else f"NO {r.recorded - r.rows:+d}"
        errors = ", ".join(f"{k}: {v:,}" for k, v in sorted(r.errors.items())) or "none"
        fives = r.sign_5xx + r.page_5xx + r.count_5xx
        lines.append(
            f"{r.label:32} {r.requests:8,} {r.acked:7,} {r.missing:7,} {exact:>10} "
            f"{seconds(r.gap):>11} {recovery:>9} {share} {before} {seconds(r.window_p99):>7} "
            f"{seconds(r.window_max):>7} {fives:6,} {r.reads:6,} {r.page_5xx:8,} "
            f"{r.count_5xx:9,}  {errors}"
        )
    lines += [
        "",
        f"baseline signing rate: {baseline_rate:.0f} acknowledged signatures a second",
        "",
    ]
    lines.append("each phase:")
    for r in results:
        if r.skipped:
            continue
        w = r.window
        text = f"  {r.name}: "
        if w.note:
            text += w.note + "; "
        text += f"rate {r.rate:.0f}/s over {w.until - w.start:.1f} s; sign latency p50 "
        text += f"{1000 * r.latency['p50']:.0f} ms, p99 {1000 * r.latency['p99']:.0f} ms, max "
        text += f"{1000 * r.latency['max']:.0f} ms"
        if r.before_rate:
            text += f" ({r.before_rate:.0f}/s in the {r.before_seconds:.0f} s before)"
        if r.read_statuses:
            text += "; readers got " + ", ".join(
                f"{k}: {v}" for k, v in sorted(r.read_statuses.items())
            )
        if r.read_errors:
            text += "; read connection errors " + ", ".join(
                f"{k}: {v}" for k, v in sorted(r.read_errors.items())
            )
        text += "; /healthz " + ", ".join(f"{k}: {v}" for k, v in sorted(r.healthz.items()))
        if r.stored_unacked:
            text += f"; {r.stored_unacked} stored though not acknowledged"
        if r.retries:
            text += f"; {r.retries} requests re-sent on a new connection (as browsers do)"
        if w.flood:
            for f in w.flood:
                rate = f["requests"] / (f["duration_us"] / 1e6)
                statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(f["statuses"].items()))
                text += f"; {f['kind']} through nginx {rate:.0f}/s ({statuses}, "
                text += f"{f['from_cache']:,} from nginx's cache, p99 {f['p99_us'] / 1000:.1f} ms)"
        lines.append(text)
    lines += ["", "acknowledged signatures in each second of each phase (the fault's in brackets):"]
    lines += [f"  {r.name:14} {r.series}" for r in results if r.series]
    cores = os.cpu_count() or 1
    lines += ["", f"CPU during each phase, % of one core (the machine has {cores * 100}%; clients: "
              "this script's signers and readers, and wrk):"]  # fmt: skip
    kinds = ("app", "nginx", "postgres", "redis", "load", "other")
    lines.append(f"  {'':14} " + " ".join(f"{k:>8}" for k in (*kinds[:-2], "clients", "other")))
    for r in results:
        if r.cpu:
            lines.append(f"  {r.name:14} " + " ".join(f"{r.cpu[k]:8.0f}" for k in kinds))
    noisy = [r.name for r in results if r.cpu and r.cpu["other"] > 25]
    if noisy:
        lines.append(
            f"  NOTE: other work took more than a quarter of a core during {', '.join(noisy)} "
            "(someone else's, or that of processes that ended during the phase: replaced "
            "workers, database connections closed after CONN_MAX_AGE): those figures are noisy."
        )
    lines += ["", "targets:"]
    by_name = {r.name: r for r in results if not r.skipped}

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    def shares(r: Result, target: float) -> str:
        """The signing rate against the baseline and against the seconds before the fault."""
        text = f"signing >= {target:.0%} of the baseline ({r.share or 0:.0%}: "
        text += verdict((r.share or 0) >= target)
        if r.before_share is not None:
            text += f"; of the seconds before the fault {r.before_share:.0%}: "
            text += verdict(r.before_share >= target)
        return text + ")"

    measured = list(by_name.values())
    lines.append(
        "  every phase: acknowledged-but-missing 0 and count == rows: "
        + verdict(all(r.missing == 0 and r.exact for r in measured))
    )
    # A fault that needs no restart of ours (the network faults, Redis) must cost no request its
    # answer: every call the app makes ends within its timeout, and the request gets a decided
    # answer (a 302, or a 503 that says try again), never the client's own timeout.
    for r in measured:
        if r.name in (*NETWORK_FAULTS, "redis-kill", "redis-hang"):
            lines.append(
                f"  {r.label}: every sign request answered ({r.unanswered} without an answer: "
                f"{verdict(not r.unanswered)}); the slowest answer {seconds(r.window_max)}"
            )
    for name in ("redis-kill", "redis-hang", "redis-drop"):
        if r := by_name.get(name):
            fives = r.page_5xx + r.count_5xx
            lines.append(
                f"  {r.label}: no 5xx on the page or count.json ({fives}: {verdict(not fives)}); "
                + shares(r, TARGET_CACHE_SHARE)
            )
    for name in ("hup", "reload"):
        if r := by_name.get(name):
            refused = r.sign_failures + r.page_5xx + r.count_5xx + sum(r.read_errors.values())
            ok = refused == 0 and r.gap <= TARGET_GAP_S
            lines.append(
                f"  {r.label}: no request refused ({refused}), no gap over {TARGET_GAP_S:.0f} s "
                f"({r.gap:.2f} s): {verdict(ok)}"
            )
    if r := by_name.get("read-flood"):
        lines.append(f"  {r.label}: " + shares(r, TARGET_FLOOD_SHARE))
    end = by_name.get("baseline-end")
    if end and abs((end.share or 1) - 1) > 0.10:
        lines.append(
            f"NOTE: the closing baseline signed at {end.share:.0%} of the first: the machine's "
            "speed drifted by about that much during the run, and the shares against the "
            "baseline carry that error."
        )
    return "\n".join(lines), broken


# The run ------------------------------------------------------------------------------------------


def check_tools(network: bool) -> None:
    """wrk and nginx (and for the network mode iptables and pgbouncer) are installed from Debian
    when missing and root, as `make bench` does; the servers it breaks are not (installing
    postgresql-15 would start the machine a cluster)."""
    wanted = {"wrk": "wrk", "nginx": "nginx"}
    if network:
        wanted |= {"iptables": "iptables", "pgbouncer": "pgbouncer"}
    packages = [package for command, package in wanted.items() if not tool(command)]
    if packages and os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"Installing {', '.join(packages)} ...")
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", *packages]
        if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
            subprocess.run(install, env=env, stdout=subprocess.DEVNULL)
    missing = [f"{name} (Debian: {package})" for name, package in wanted.items() if not tool(name)]
    if not shutil.which("redis-server"):
        missing.append("redis-server (Debian: redis-server)")
    if not (PG_BIN / "initdb").exists():
        missing.append(f"PostgreSQL 15's server binaries in {PG_BIN} (Debian: postgresql-15)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        missing.append("runuser (util-linux), to run PostgreSQL as the postgres user")
    if network and not tool("ip"):
        missing.append("ip (Debian: iproute2)")
    if network and os.geteuid() != 0:
        missing.append("root, for network namespaces and iptables")
    if missing:
        sys.exit(f"make {'faults-net' if network else 'faults'} needs " + "; ".join(missing))


def site_environment(args, tmp: Path, pg: Postgres, redis: Redis) -> dict:
    unlimited = "100000000/m"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": pg.url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CACHE_URL": redis.url,
        "STATIC_MANIFEST": "true",
        "STATIC_ROOT": str(tmp / "static"),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "NUM_PROXIES": "1",  # behind nginx, as deploy/README.md says
        # One address signs thousands of times: the limits are out of reach, but still checked.
        "SIGN_RATE_PER_IP": unlimited,
        "SIGN_RATE_PER_PETITION": unlimited,
    }
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    return env


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--signers", type=int, default=30, help="signing threads (30)")
    parser.add_argument("--readers", type=int, default=4, help="threads reading page+count (4)")
    parser.add_argument("--baseline", type=float, default=20, help="seconds of baseline (20)")
    parser.add_argument("--warmup", type=float, default=5, help="unreported load first (5 s)")
    parser.add_argument("--before", type=float, default=8, help="load before each fault (8 s)")
    parser.add_argument("--after", type=float, default=10, help="load after each fault (10 s)")
    parser.add_argument(
        "--window", type=float, default=10,
        help="for a one-signal fault (HUP, reload, restart, worker kill): seconds after it over "
        "which its signing rate is taken (10)",
    )  # fmt: skip
    parser.add_argument("--redis-down", type=int, default=20, help="seconds Redis is dead (20)")
    parser.add_argument("--redis-hang", type=int, default=15, help="seconds Redis is hung (15)")
    parser.add_argument("--pg-down", type=int, default=10, help="seconds PostgreSQL is down (10)")
    parser.add_argument("--flood", type=int, default=20, help="seconds of the read flood (20)")
    parser.add_argument("--flood-rate", type=int, default=1000, help="reads a second (1000)")
    parser.add_argument("--flood-connections", type=int, default=20, help="wrk connections (20)")
    parser.add_argument("--timeout", type=float, default=10, help="a client's timeout (10 s)")
    parser.add_argument("--workers", type=int, default=0, help="WEB_CONCURRENCY (the conf's)")
    parser.add_argument(
        "--only", default="",
        help="comma-separated faults to run after the baseline (none: only the baseline): "
        + ", ".join(n for n in PHASES if not n.startswith("baseline")),
    )  # fmt: skip
    parser.add_argument("--no-end-baseline", action="store_true", help="skip the last baseline")
    parser.add_argument("--keep-tmp", action="store_true", help="keep logs and the cluster dir")
    network = parser.add_argument_group(
        "network mode (make faults-net)",
        "PostgreSQL behind PgBouncer, Redis and two app servers each in a network namespace of "
        "its own; its faults are " + ", ".join(NETWORK_FAULTS) + " (the default there), and "
        "--only takes any fault",
    )
    network.add_argument("--network", action="store_true", help="run in network mode")
    network.add_argument("--redis-drop", type=int, default=20, help="seconds Redis is cut (20)")
    network.add_argument("--latency-ms", type=float, default=20, help="round trip added (20)")
    network.add_argument("--pg-latency", type=int, default=20, help="seconds of latency (20)")
    network.add_argument("--partition", type=int, default=10, help="seconds app1 is cut (10)")
    network.add_argument(
        "--no-single-host", action="store_true",
        help="skip the single-host suite that otherwise runs first, in the same sitting, with "
        "the same timings",
    )  # fmt: skip
    network.add_argument(
        "--single-host-args", default="", help="more options for that single-host run ('')"
    )
    args = parser.parse_args()
    faults = [n for n in PHASES if not n.startswith("baseline")]
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip() not in ("", "none")]
        unknown = set(wanted) - set(faults)
        if unknown:
            parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
        if not args.network and set(wanted) & set(NETWORK_FAULTS):
            parser.error(f"{', '.join(NETWORK_FAULTS)} need --network")
        faults = [n for n in faults if n in wanted]
    else:
        faults = [n for n in faults if (n in NETWORK_FAULTS) == args.network]
    args.phases = ["baseline", *faults] + ([] if args.no_end_baseline else ["baseline-end"])
    return args


def interrupted(signum, frame):
    raise KeyboardInterrupt


# The ports inside the namespaces: each host has its own, so the usual ones.
PG_PORT, PGBOUNCER_PORT, RELAY_PORT, REDIS_PORT, APP_PORT = 5432, 6433, 6432, 6379, 8000
# The single-host run in the same sitting gets the same timings.
SHARED_OPTIONS = (
    "signers", "readers", "baseline", "warmup", "before", "after", "window", "timeout", "workers",
    "redis_down", "redis_hang", "pg_down", "flood", "flood_rate", "flood_connections",
)  # fmt: skip


def single_host_run(args) -> tuple[str, str]:
    """The single-host suite in a process of its own (its Django settings are not ours); its
    output is shown as it comes. Returns its table and the file it wrote ("" if it failed)."""
    command = [sys.executable, str(Path(__file__).resolve())]
    for name in SHARED_OPTIONS:
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    command += shlex.split(args.single_host_args)
    log(f"The single-host suite first, in the same sitting: {shlex.join(command[1:])}")
    written = ""
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith("written to "):
                written = line.removeprefix("written to ").strip()
    if process.returncode or not written:
        return f"(the single-host run exited with status {process.returncode})", written
    return (ROOT / written).read_text().rstrip(), written


def main():
    args = parse_args()
    check_tools(args.network)
    single = single_host_run(args) if args.network and not args.no_single_host else None
    began = now()
    signal.signal(signal.SIGTERM, interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="petitions-faults-"))
    tmp.chmod(0o711)  # the postgres user and nginx's workers reach their directories below
    net = Network(["db", "redis", "app1", "app2"]) if args.network else None
    if net:
        db = net.address["db"]
        pg = Postgres(tmp, host=db, port=PG_PORT, wrap=net.run("db"))
        redis = Redis(tmp, net.address["redis"], REDIS_PORT, net.run("redis"))
    else:
        pg, redis = Postgres(tmp), Redis(tmp)
    sites: list[Site] = []
    suite: Suite | None = None
    nginx: Server | None = None
    pgbouncer: PgBouncer | None = None
    relay: Relay | None = None
    try:
        if net:
            net.up()
            log(
                f"Network {net.prefix}.0/24: PostgreSQL on {db}, Redis on {net.address['redis']},"
                f" app servers on {net.address['app1']} and {net.address['app2']} ({tmp}) ..."
            )
        else:
            log(f"PostgreSQL 15 cluster on port {pg.port}, Redis on port {redis.port} ({tmp}) ...")
        pg.init()
        pg.start()
        pg.create_database()
        redis.start()
        env = site_environment(args, tmp, pg, redis)
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from lib.forms import form_token
        from petitions.models import Petition

        log("Migrating, loading the demo petition; collecting static files meanwhile ...")
        collect = subprocess.Popen(
            [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT
        )
        call_command("migrate", verbosity=0)
        call_command("load_demo", verbosity=0)
        petition_id = Petition.objects.get(slug=SLUG).pk
        if collect.wait():
            raise RuntimeError("collectstatic failed")
        header_details = machine_details(redis.url)
        connection.close()

        if net:
            # The app servers reach PostgreSQL through the relay (where latency is added) and
            # PgBouncer, both on the database's host; this script's own queries go straight.
            log("Starting PgBouncer and the relay in front of it, two gunicorns, nginx ...")
            pgbouncer = PgBouncer(
                tmp / "pgbouncer",
                server=(db, PG_PORT),
                listen=(db, PGBOUNCER_PORT),
                wrap=net.run("db"),
            )
            pgbouncer.start()
            with open(tmp / "relay.log", "ab") as relay_log:
                relay = Relay(
                    db, RELAY_PORT, db, PGBOUNCER_PORT, delay_ms=args.latency_ms,
                    wrap=net.run("db"), log=relay_log,
                )  # fmt: skip
            GROUPS[pgbouncer.process.pid] = GROUPS[relay.process.pid] = "postgres"
            app_env = dict(os.environ) | {
                "DATABASE_URL": f"postgres://postgres@{db}:{RELAY_PORT}/{DB_NAME}",
                "DATABASE_POOLER": "pgbouncer",
                "FORWARDED_ALLOW_IPS": net.host_address,  # nginx, on the bridge
                # The readers ask each app server by its address.
                "ALLOWED_HOSTS": ",".join(["127.0.0.1", "localhost", *net.address.values()]),
            }
            sites = [
                Site(app_env, tmp / name, net.address[name], APP_PORT, net.run(name))
                for name in ("app1", "app2")
            ]
            header_details.append(
                f"network mode: PostgreSQL, Redis and two app servers each in a network namespace "
                f"of its own on {net.prefix}.0/24 (veth pairs on a bridge; nginx and the load in "
                f"the root namespace); the app servers reach PostgreSQL through bench/tcp_relay.py "
                f"(where latency is added) and {pgbouncer_version()} (deploy/pgbouncer.ini, "
                "transaction pooling, DATABASE_POOLER=pgbouncer) on its host; faults are packets "
                "dropped by iptables in a namespace. CPU: the relay and PgBouncer count as postgres"
            )
        else:
            log("Starting gunicorn and nginx in front of it ...")
            sites = [Site(dict(os.environ), tmp)]
        for site in sites:
            site.start()
        for site in sites:
            wait_healthy(site.port, 90, f"gunicorn on {site.host}", site.log_path, site.host)
        site = sites[0]
        nginx = start_nginx(
            Server("site", site.port, site.process, site.log_path),
            tmp,
            upstreams=[f"{s.host}:{s.port}" for s in sites],
        )
        wait_healthy(nginx.port, 30, "nginx", nginx.log_path)
        suite = Suite(
            args, tmp, pg, redis, site, nginx, sites=sites if net else [], network=net, relay=relay
        )
        config = LoadConfig(
            nginx_port=nginx.port,
            apps=[(s.host, s.port) for s in sites],
            petition_id=petition_id,
            # The form's token as the page hands it out, shown an hour ago: every signature takes
            # the real form path, the fill-time check included.
            token=form_token(petition_id, time.time() - 3600),
            signers=args.signers,
            readers=args.readers,
            timeout=args.timeout,
        )
        run_id = f"f{secrets.token_hex(3)}"
        CpuSample.database = DB_NAME
        warm_up(config, run_id, args.warmup)
        results: list[Result] = []
        baseline_rate = 0.0
        for name in args.phases:
            result = run_phase(suite, config, run_id, name)
            if result.skipped:
                results.append(result)
                continue
            if name == "baseline":
                baseline_rate = result.rate
            result.share = result.rate / baseline_rate if baseline_rate else None
            results.append(result)
            errors = ", ".join(f"{k}: {v}" for k, v in sorted(result.errors.items())) or "none"
            log(
                f"{name}: {result.acked:,} of {result.requests:,} acknowledged, errors {errors}; "
                f"missing {result.missing}, count {'==' if result.exact else '!='} rows; gap "
                f"{result.gap:.2f} s, recovery {seconds(result.recovery)}, "
                f"{100 * (result.share or 0):.0f}% of baseline; page/count 5xx "
                f"{result.page_5xx}/{result.count_5xx}"
            )
            time.sleep(1)  # let the server catch its breath between phases

        stamp = datetime.datetime.now().astimezone()
        workers, threads = gunicorn_shape()
        workers = args.workers or workers
        servers = "two app servers of gunicorn" if net else "gunicorn"
        header = [
            f"Petitions fault suite{', network mode' if net else ''}, {stamp:%Y-%m-%d %H:%M %Z}: "
            f"the demo petition; {args.signers} signers through nginx (keep-alive, a fresh email "
            f"each, the form token, Origin), {args.readers} readers of the page and count.json "
            f"straight from gunicorn, /healthz polled 4 times a second; {args.before:g} s of "
            f"load before each fault, {args.after:g} s after it; {servers}, {workers} workers x "
            f"{threads} threads",
            *header_details,
        ]
        text, broken = report(results, header, baseline_rate)
        text += f"\n\nwhole run: {now() - began:.0f} s; load average at the end "
        text += f"{os.getloadavg()[0]:.2f}"
        name = "faults-net" if net else "faults"
        out = ROOT / "bench" / "results" / f"{name}-{stamp:%Y%m%d-%H%M%S}.txt"
        if single is not None:
            table, written = single
            text += "\n\n\nThe single-host suite, in the same sitting just before"
            text += f" ({written or 'no file'}):\n\n{table}"
        print("\n" + text)
        out.parent.mkdir(exist_ok=True)
        out.write_text(text + "\n")
        print(f"\nwritten to {out.relative_to(ROOT)}")
        if broken:
            sys.exit("an acknowledged signature was lost or a count is not the rows")
    except KeyboardInterrupt:
        log("Interrupted: stopping everything this run started ...")
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        if suite:
            for process in suite.wrks:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=5)
        with contextlib.suppress(Exception):
            if nginx:
                nginx.stop()
        for site in sites:
            with contextlib.suppress(Exception):
                site.stop(timeout=10)
        with contextlib.suppress(Exception):
            redis.stop()
        with contextlib.suppress(Exception):
            if relay:
                relay.stop()
        with contextlib.suppress(Exception):
            if pgbouncer:
                pgbouncer.stop()
        with contextlib.suppress(Exception):
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
        with contextlib.suppress(Exception):
            if pg.data.exists():
                pg.stop("immediate")
        if net:
            net.down()
        if args.keep_tmp:
            log(f"logs and the cluster kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
