"""PgBouncer run with the shipped deploy/pgbouncer.ini, for the fault suite's network mode,
`make bench BENCH_ARGS=--pgbouncer` and tests/test_pgbouncer.py.

Every setting is the shipped file's but what a site sets for itself: [databases] (one entry, `*`,
for whichever database the run made), the listen address, authentication (trust: the servers
behind it are throwaway or the machine's own trusting one) and the files, in a directory of its
own. As root it runs as the postgres user: PgBouncer refuses to run as root."""

import configparser
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "deploy" / "pgbouncer.ini"


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: as root, run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def binary() -> str | None:
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")


def version() -> str:
    done = subprocess.run([binary(), "--version"], capture_output=True, text=True)
    return done.stdout.split("\n", 1)[0].strip()


class PgBouncer:
    def __init__(
        self,
        directory: Path,
        *,
        server: tuple[str, int],
        listen: tuple[str, int],
        user: str = "postgres",
        wrap: list[str] | tuple = (),
    ):
        self.dir = directory
        self.server, self.listen, self.user, self.wrap = server, listen, user, list(wrap)
        self.log_path = directory / "pgbouncer.log"
        self.process: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@{self.listen[0]}:{self.listen[1]}/{database}"

    def config(self) -> str:
        parser = configparser.ConfigParser(
            delimiters=("=",), comment_prefixes=(";",), interpolation=None
        )
        parser.optionxform = str  # keys as written
        parser.read(SHIPPED)
        parser.remove_section("databases")
        parser["databases"] = {"*": f"host={self.server[0]} port={self.server[1]}"}
        parser["pgbouncer"].update(
            {
                "listen_addr": self.listen[0],
                "listen_port": str(self.listen[1]),
                "unix_socket_dir": "",
                "auth_type": "trust",
                "auth_file": str(self.dir / "userlist.txt"),
                "admin_users": self.user,
                "logfile": str(self.log_path),
            }
        )
        lines = []
        for section in parser.sections():
            lines.append(f"[{section}]")
            lines += [f"{key} = {value}" for key, value in parser[section].items()]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 20) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "userlist.txt").write_text(f'"{self.user}" ""\n')
        ini = self.dir / "pgbouncer.ini"
        ini.write_text(self.config())
        if os.geteuid() == 0:
            for path in (self.dir, *self.dir.iterdir()):
                shutil.chown(path, "postgres", "postgres")
        with open(self.dir / "stderr.log", "ab") as out:
            self.process = subprocess.Popen(
                [*self.wrap, *as_postgres([binary(), str(ini)])],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: runuser and PgBouncer under it
            )
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection(self.listen, timeout=1):
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                logs = (self.log_path, self.dir / "stderr.log")
                text = "".join(path.read_text() for path in logs if path.exists())
                raise RuntimeError(f"pgbouncer did not start:\n{text[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def show(self, what: str) -> list[dict]:
        """A SHOW command on PgBouncer's admin console (SHOW STATS, SHOW POOLS)."""
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(
            self.url("pgbouncer"), autocommit=True, connect_timeout=5, row_factory=dict_row
        ) as conn:
            return conn.execute(f"SHOW {what}", prepare=False).fetchall()
