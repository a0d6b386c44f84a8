"""Every call to another server ends within its timeout with a decided answer (docs/reliability.md):
a database, mail server or network peer that stops answering costs a request seconds, never
forever. Each setting is read from the environment, so each test runs the site's settings in a
process of its own with the variable set."""

import json
import os
import runpy
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import running_in_ci

ROOT = Path(settings.BASE_DIR)


def run_with_settings(code: str, timeout: float = 30, **env: str) -> dict:
    """Run `code` after django.setup() in a new process with `env` over the test's environment;
    it prints one JSON object, returned here."""
    program = "import django, json, time\ndjango.setup()\n" + code
    environment = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings"} | env
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_database_settings_give_every_connection_network_timeouts():
    found = run_with_settings(
        "from django.conf import settings\n"
        "print(json.dumps(settings.DATABASES['default']['OPTIONS']))",
        DATABASE_URL="postgres://petitions@127.0.0.1:5432/petitions",
        DB_NETWORK_TIMEOUT="3",
        DB_STATEMENT_TIMEOUT="7",
    )
    assert found["connect_timeout"] == 5
    # Sent data not acknowledged for 3 s, or an idle connection whose peer no longer answers
    # keepalive probes, ends the connection.
    assert found["tcp_user_timeout"] == 3000
    assert found["keepalives"] == 1
    assert found["keepalives_idle"] == 3
    assert "-c statement_timeout=7000" in found["options"]


class SilentServer:
    """Accepts TCP connections and never says a word: a peer that has stopped answering."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


def test_a_database_that_never_answers_fails_the_connection_within_its_connect_timeout(
    silent_server,
):
    found = run_with_settings(
        "from django.db import connection, OperationalError\n"
        "began = time.monotonic()\n"
        "try:\n"
        "    connection.ensure_connection()\n"
        "    error = None\n"
        "except OperationalError as exc:\n"
        "    error = type(exc).__name__\n"
        "print(json.dumps({'error': error, 'took': time.monotonic() - began}))",
        DATABASE_URL=f"postgres://petitions@127.0.0.1:{silent_server.port}/petitions",
        DB_CONNECT_TIMEOUT="2",
    )
    assert found["error"] == "OperationalError"
    assert 1.5 < found["took"] < 5


def test_a_mail_server_that_never_answers_fails_the_send_within_the_email_timeout(silent_server):
    found = run_with_settings(
        "from django.core.mail import send_mail\n"
        "began = time.monotonic()\n"
        "try:\n"
        "    send_mail('Hi', 'Body', 'a@example.org', ['b@example.org'])\n"
        "    error = None\n"
        "except OSError as exc:\n"
        "    error = type(exc).__name__\n"
        "print(json.dumps({'error': error, 'took': time.monotonic() - began}))",
        timeout=20,
        EMAIL_URL=f"smtp://127.0.0.1:{silent_server.port}",
        EMAIL_TIMEOUT="1",
    )
    assert found["error"] is not None
    assert found["took"] < 4


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_running_past_the_statement_timeout_is_cancelled():
    from django.db import connection

    db = connection.settings_dict
    found = run_with_settings(
        "from django.db import connection, OperationalError\n"
        "began = time.monotonic()\n"
        "try:\n"
        "    with connection.cursor() as cursor:\n"
        "        cursor.execute('SELECT pg_sleep(10)')\n"
        "    error = None\n"
        "except OperationalError as exc:\n"
        "    error = type(exc).__name__\n"
        "print(json.dumps({'error': error, 'took': time.monotonic() - began}))",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        DB_STATEMENT_TIMEOUT="1",
    )
    assert found["error"] == "OperationalError"
    assert found["took"] < 4


def test_gunicorn_gives_every_request_a_statement_timeout(monkeypatch):
    """Requests run with a statement timeout; management commands (a migration, a bulk import)
    keep none unless DB_STATEMENT_TIMEOUT says so."""
    from gunicorn.config import Config

    def gunicorn_environment() -> dict:
        conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
        cfg = Config()
        cfg.set("raw_env", conf["raw_env"])
        return cfg.env

    monkeypatch.delenv("DB_STATEMENT_TIMEOUT", raising=False)
    assert gunicorn_environment() == {"DB_STATEMENT_TIMEOUT": "15"}
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", "0")  # the operator's own choice stands
    assert gunicorn_environment() == {}
    monkeypatch.delenv("DB_STATEMENT_TIMEOUT")
    options = run_with_settings(
        "from django.conf import settings\n"
        "print(json.dumps(settings.DATABASES['default']['OPTIONS'].get('options', '')))",
        DATABASE_URL="postgres://petitions@127.0.0.1:5432/petitions",
    )
    assert options == ""


def network_tools() -> None:
    """Root, `ip` and iptables: what a network namespace with dropped packets needs."""
    missing = [tool for tool in ("ip", "iptables") if not shutil.which(tool)]
    if os.geteuid() != 0:
        missing.append("root")
    if missing:
        if running_in_ci():
            pytest.fail(f"needs {', '.join(missing)}, and CI must provide them")
        pytest.skip(f"needs {', '.join(missing)} (Debian: iproute2, iptables)")


@pytest.mark.system
@pytest.mark.postgres
@pytest.mark.django_db
def test_a_database_that_stops_answering_mid_query_fails_within_the_network_timeout(tmp_path):
    """PostgreSQL behind a namespace whose packets are dropped while a query runs: without
    tcp_user_timeout and keepalives the query would wait for TCP's own give-up, 15 minutes."""
    network_tools()
    from django.db import connection

    from bench.netns import Network
    from bench.tcp_relay import Relay

    db = connection.settings_dict
    with Network(["db"]) as net:
        # The database's host: a relay in the namespace, on to a relay on the bridge's address,
        # on to PostgreSQL.
        outer = Relay(net.host_address, 0, db["HOST"], int(db["PORT"]))
        inner = Relay(net.address["db"], 5432, net.host_address, outer.port, wrap=net.run("db"))
        with outer, inner:
            began_at = tmp_path / "began"
            code = (
                "from django.db import connection, OperationalError\n"
                "connection.ensure_connection()\n"
                "with connection.cursor() as cursor:\n"
                "    cursor.execute('SELECT 1')\n"
                f"open({str(began_at)!r}, 'w').close()\n"
                "began = time.monotonic()\n"
                "try:\n"
                "    with connection.cursor() as cursor:\n"
                "        cursor.execute('SELECT pg_sleep(1)')\n"
                "    error = None\n"
                "except OperationalError as exc:\n"
                "    error = type(exc).__name__\n"
                "print(json.dumps({'error': error, 'took': time.monotonic() - began}))"
            )
            environment = os.environ | {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": f"postgres://{db['USER']}@{net.address['db']}:5432/{db['NAME']}",
                "DB_NETWORK_TIMEOUT": "2",
            }
            program = "import django, json, time\ndjango.setup()\n" + code
            process = subprocess.Popen(
                [sys.executable, "-c", program],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 20
            while not began_at.exists():
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline
                time.sleep(0.02)
            net.cut("db")  # the query is on its way: every packet from now on is dropped
            try:
                out, err = process.communicate(timeout=30)
            finally:
                process.kill()
    assert process.returncode == 0, err
    found = json.loads(out.strip().splitlines()[-1])
    assert found["error"] == "OperationalError"
    assert found["took"] < 8
