"""The site through a real PgBouncer in transaction pooling mode, run with the shipped
deploy/pgbouncer.ini (bench/pgbouncer.py): signatures from several threads at once are all stored
and counted exactly, the page and count.json are served, and every one of it went through the
pooler (docs/scaling.md)."""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from bench.pgbouncer import PgBouncer, binary
from signatures.models import Signature, SignatureCount
from tests.conftest import app_server_env, free_port, running_gunicorn, running_in_ci
from tests.factories import make_petition, sign_form_data

ROOT = Path(settings.BASE_DIR)
SIGNERS, EACH = 6, 20


def test_the_pgbouncer_pooler_turns_off_prepared_statements_and_server_side_cursors():
    program = (
        "import django, json\ndjango.setup()\nfrom django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "print(json.dumps([db['DISABLE_SERVER_SIDE_CURSORS'], db['OPTIONS']['prepare_threshold'],"
        " db['OPTIONS'].get('options'), db['CONN_MAX_AGE']]))"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://petitions@127.0.0.1:6432/petitions",
        "DATABASE_POOLER": "pgbouncer",
        # PgBouncer 1.18 refuses startup options: none is sent, whatever gunicorn asks for.
        "DB_STATEMENT_TIMEOUT": "15",
    }
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, None, None, 60]


@pytest.fixture
def pgbouncer(tmp_path):
    if not binary():
        if running_in_ci():
            pytest.fail("pgbouncer is needed and CI must provide it")
        pytest.skip("needs pgbouncer (Debian: pgbouncer)")
    from django.db import connection

    db = connection.settings_dict
    # As root, PgBouncer runs as the postgres user, which must reach its directory (pytest's own
    # are the running user's only).
    tmp = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    tmp.chmod(0o711)
    bouncer = PgBouncer(
        tmp / "pgbouncer",
        server=(db["HOST"], int(db["PORT"])),
        listen=("127.0.0.1", free_port()),
        user=db["USER"],
    )
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def site_through_pgbouncer(pgbouncer, tmp_path):
    """gunicorn (8 one-thread workers) whose database is PgBouncer; yields its port."""
    from django.db import connection

    port = free_port()
    env = app_server_env(
        HOME=str(tmp_path),
        PORT=str(port),
        DATABASE_URL=pgbouncer.url(connection.settings_dict["NAME"]),
        DATABASE_POOLER="pgbouncer",
        WEB_CONCURRENCY="8",
        SIGN_RATE_PER_IP="100000/m",
        SIGN_RATE_PER_PETITION="100000/m",
    )
    with running_gunicorn(tmp_path, port, env):
        yield port


def request(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


@pytest.mark.system
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_site_signs_and_counts_exactly_through_pgbouncer(pgbouncer, site_through_pgbouncer):
    port = site_through_pgbouncer
    petition = make_petition()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": f"http://127.0.0.1:{port}",
    }
    statuses: list[tuple[int, str]] = []

    def signer(n: int):
        for i in range(EACH):
            email = f"pooled-{n}-{i}@example.com"
            form = urlencode(sign_form_data(petition, email=email))
            status, _ = request(port, "POST", f"/en/p/{petition.slug}/sign/", form, headers)
            statuses.append((status, email))

    threads = [threading.Thread(target=signer, args=(n,)) for n in range(SIGNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [s for s, _ in statuses] == [302] * SIGNERS * EACH
    stored = set(
        Signature.objects.filter(petition=petition).values_list("email_canonical", flat=True)
    )
    assert stored == {email for _, email in statuses}
    assert SignatureCount.objects.total_for(petition.pk) == SIGNERS * EACH
    time.sleep(1.1)  # count.json's one-second copy
    status, body = request(port, "GET", f"/en/p/{petition.slug}/count.json")
    assert status == 200
    assert json.loads(body)["count"] == SIGNERS * EACH
    assert request(port, "GET", f"/fa/p/{petition.slug}/")[0] == 200

    # All of it through the pooler, in transaction mode, on no more server connections than the
    # pool's 20.
    from django.db import connection

    name = connection.settings_dict["NAME"]
    config = {row["key"]: row["value"] for row in pgbouncer.show("CONFIG")}
    assert config["pool_mode"] == "transaction"
    stats = {row["database"]: row for row in pgbouncer.show("STATS")}
    assert stats[name]["total_xact_count"] >= SIGNERS * EACH
    pools = [row for row in pgbouncer.show("POOLS") if row["database"] == name]
    assert sum(row["sv_active"] + row["sv_idle"] + row["sv_used"] for row in pools) <= 20
