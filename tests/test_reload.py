"""Deploys without a gap: deploy/reload-gunicorn.sh replaces a running gunicorn master
by one with the new code while readers and signers keep coming, and refuses or stalls none of
them; a new master that cannot serve is stopped and the old one serves on.

gunicorn runs as in production (config/gunicorn.conf.py, DEBUG off, PostgreSQL), with a pid file
and a control socket of its own in a temporary directory. A HUP or a TERM and start in place of
the script fails the first test: HUP re-forks workers from the preloaded app, TERM then start
refuses connections while the new master boots.
"""

import http.client
import itertools
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from signatures.models import Signature, SignatureCount
from tests.conftest import app_server_env, free_port
from tests.factories import make_petition, sign_form_data

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "deploy" / "reload-gunicorn.sh"
MAX_GAP = 1.0  # seconds without a successful answer (the bar)
THREADS = {"healthz": 2, "page": 2, "sign": 2}
# Each thread's pause between requests: steady traffic that leaves the two cores of a small CI box
# some room, so that a gap measures the reload and not a saturated machine.
PAUSE = 0.05

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def running(pid: int) -> bool:
    """Whether the process runs; one that exited but is not reaped yet (a zombie) does not."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def established_tcp(pid: int) -> list[str]:
    """The process's established TCP connections, as /proc/net/tcp rows: a master that the workers
    fork from must hold none, or they would all talk over one connection."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            sockets.add(target[len("socket:[") : -1])
    rows = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            columns = line.split()
            if columns[3] == "01" and columns[9] in sockets:  # 01: ESTABLISHED
                rows.append(line.strip())
    return rows


def children(pid: int) -> list[str]:
    ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return ps.stdout.split()


def eventually(check, seconds: float = 3) -> bool:
    """Whether `check()` comes true within a few seconds (a master forks its workers one by one,
    and reaps a child that exited within a second)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass
class Server:
    port: int
    pidfile: Path
    process: subprocess.Popen  # the first master; later ones are its children, then orphans
    log: Path
    env: dict

    def master(self) -> int:
        return int(self.pidfile.read_text())

    def get(self, path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        finally:
            conn.close()

    def reload(self, **env) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(SCRIPT), str(self.pidfile)],
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def explain(self, *more: str) -> str:
        return "\n".join([*more, "gunicorn's log:", self.log.read_text()[-6000:]])


def start_gunicorn(tmp: Path, app: str = "config.wsgi", **env: str) -> Server:
    port = free_port()
    env = app_server_env(
        HOME=str(tmp),
        PORT=str(port),
        GUNICORN_PIDFILE=str(tmp / "gunicorn.pid"),
        WEB_CONCURRENCY="2",
        # Every signature in this test comes from one address.
        SIGN_RATE_PER_IP="100000/m",
        **env,
    )
    log = tmp / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                *("-c", "config/gunicorn.conf.py", app),
                # Its own control socket: the default is one path per user.
                *("--control-socket", str(tmp / "gunicorn.ctl")),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(port, tmp / "gunicorn.pid", process, log, env)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(server.explain("gunicorn exited"))
        try:
            if server.get("/healthz") == 200 and server.pidfile.exists():
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(server.explain("gunicorn did not answer"))
        time.sleep(0.2)


def stop(server: Server) -> None:
    """Every master this test started, old and new (the new ones are not our children)."""
    pids = {server.process.pid}
    for path in (server.pidfile, Path(f"{server.pidfile}.2")):
        with suppress(OSError, ValueError):
            pids.add(int(path.read_text()))
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 25
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        server.process.poll()  # reaps the first master
        time.sleep(0.1)
    for pid in pids:
        if running(pid):
            os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=5)


@pytest.fixture
def gunicorn(tmp_path):
    servers: list[Server] = []

    def start(**kwargs) -> Server:
        servers.append(start_gunicorn(tmp_path, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        stop(server)


@dataclass
class Answer:
    kind: str
    started: float
    ended: float
    outcome: int | str  # the status, or the error instead of one

    @property
    def ok(self) -> bool:
        return self.outcome == {"healthz": 200, "page": 200, "sign": 302}[self.kind]


@dataclass
class Traffic:
    """Readers and signers, each thread one request after another, each on a new connection."""

    server: Server
    petition: object
    answers: list[Answer] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def request(self, kind: str) -> int:
        slug = self.petition.slug
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            if kind == "sign":
                conn.request(
                    "POST",
                    f"/en/p/{slug}/sign/",
                    body=urlencode(sign_form_data(self.petition)),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        # As every browser sends with a form POST; the sign view checks it.
                        "Origin": f"http://127.0.0.1:{self.server.port}",
                    },
                )
            else:
                conn.request("GET", "/healthz" if kind == "healthz" else f"/en/p/{slug}/")
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def run(self, kind: str) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                outcome = self.request(kind)
            except (OSError, http.client.HTTPException) as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            self.answers.append(Answer(kind, started, time.monotonic(), outcome))
            self.stopping.wait(PAUSE)

    def longest_gap(self, kind: str | None = None) -> float:
        """The longest time between two successful answers (of one kind, or of any)."""
        ends = sorted(a.ended for a in self.answers if a.ok and kind in (None, a.kind))
        return max(b - a for a, b in itertools.pairwise(ends))


@contextmanager
def traffic(server: Server, petition):
    load = Traffic(server, petition)
    threads = [
        threading.Thread(target=load.run, args=(kind,))
        for kind, count in THREADS.items()
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    try:
        yield load
    finally:
        load.stopping.set()
        for thread in threads:
            thread.join(timeout=30)


def test_a_reload_under_load_refuses_and_stalls_no_request(gunicorn):
    server = gunicorn()
    petition = make_petition()
    old = server.master()
    # The app is imported in the master (preload_app), and nothing connected before the fork.
    assert established_tcp(old) == []

    with traffic(server, petition) as load:
        time.sleep(1)
        reloading = time.monotonic()
        reload = server.reload()
        reloaded = time.monotonic()
        time.sleep(1)

    assert reload.returncode == 0, server.explain(reload.stdout, reload.stderr)
    new = server.master()
    assert new != old
    assert server.process.poll() is not None, "the old master still runs"
    assert running(new) and established_tcp(new) == []
    assert not Path(f"{server.pidfile}.2").exists()

    during = [a for a in load.answers if a.ended >= reloading and a.started <= reloaded]
    assert Counter(a.kind for a in during).keys() == THREADS.keys()  # all kept coming meanwhile
    failed = [a for a in load.answers if not a.ok]
    assert not failed, failed[:10]
    by_kind = {kind: round(load.longest_gap(kind), 2) for kind in THREADS}
    assert load.longest_gap() <= MAX_GAP, (by_kind, reloaded - reloading)

    signed = sum(1 for a in load.answers if a.kind == "sign")
    rows = Signature.objects.filter(petition=petition).count()
    assert rows == signed
    assert SignatureCount.objects.total_for(petition.pk) == rows


BROKEN_DEPLOYS = {
    # New code that does not import: the new master dies before it serves.
    "an import error": "raise ImportError('a deploy with a broken import')\n",
    # New code that never finishes loading: the script gives up after RELOAD_TIMEOUT.
    "a hang": "import time\n\ntime.sleep(600)\n",
}


def test_a_new_master_that_cannot_serve_is_stopped_and_the_old_one_serves_on(gunicorn, tmp_path):
    # The app through a module of the test's own, so that each "deploy" can break it.
    code = tmp_path / "code"
    code.mkdir()
    good = "from config.wsgi import application  # noqa: F401\n"
    (code / "deployed.py").write_text(good)
    server = gunicorn(app="deployed:application", PYTHONPATH=str(code), PYTHONDONTWRITEBYTECODE="1")
    old = server.master()
    assert eventually(lambda: len(children(old)) == 2)
    workers = children(old)

    for broken, source in BROKEN_DEPLOYS.items():
        (code / "deployed.py").write_text(source)
        started = time.monotonic()
        # A master that dies is noticed at once; one that hangs, after the timeout.
        timeout = 3 if broken == "a hang" else 30
        reload = server.reload(RELOAD_TIMEOUT=str(timeout), RELOAD_STOP_TIMEOUT="5")
        took = time.monotonic() - started
        explain = server.explain(broken, reload.stdout, reload.stderr)

        assert reload.returncode == 1, explain
        assert took < 10, explain
        # The old master as it was: the same workers, nothing else left running, no pid file.
        assert server.master() == old and server.process.poll() is None, explain
        assert not Path(f"{server.pidfile}.2").exists(), explain
        assert eventually(lambda: children(old) == workers), explain
        assert [server.get("/healthz") for _ in range(5)] == [200] * 5

    # Once the code is fixed, the same master reloads.
    (code / "deployed.py").write_text(good)
    reload = server.reload()
    assert reload.returncode == 0, server.explain(reload.stdout, reload.stderr)
    assert server.master() != old and server.get("/healthz") == 200
