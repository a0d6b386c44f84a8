"""Redis killed while people sign: CI's short version of the fault suite's first fault
(`make faults`, bench/faults.py; docs/reliability.md).

A Redis of the test's own on a free port (never the shared one: it is killed), one gunicorn as in
production against the test database with CACHE_URL on that Redis, a few signers on kept-alive
connections and a reader of the petition page and count.json. Redis is SIGKILLed while they run
and started again a few seconds later. The cache is a convenience: while it is down
signing goes on and the page and count.json are answered, and afterwards every acknowledged
signature is in the database and the count equals the rows.
"""

import http.client
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from bench.faults import Redis
from signatures.models import Signature, SignatureCount
from tests.conftest import app_server_env, free_port, running_gunicorn, running_in_ci
from tests.factories import make_petition, sign_form_data

ROOT = Path(settings.BASE_DIR)
SIGNERS = 4
BEFORE_S, DOWN_S, AFTER_S = 2.0, 4.0, 2.0

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        if running_in_ci():
            pytest.fail("redis-server is needed and CI must provide it")
        pytest.skip("needs redis-server (Debian: redis-server)")
    redis = Redis(tmp_path)  # the fault suite's own: a redis-server on a free port
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def app_server(own_redis, tmp_path):
    """gunicorn with config/gunicorn.conf.py on a free port; yields the port."""
    port = free_port()
    env = app_server_env(
        HOME=str(tmp_path),
        PORT=str(port),
        CACHE_URL=own_redis.url,
        # One address signs a few hundred times: limits out of reach, but still checked.
        SIGN_RATE_PER_IP="100000/m",
        SIGN_RATE_PER_PETITION="100000/m",
    )
    with running_gunicorn(tmp_path, port, env):
        yield port


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


@dataclass
class Answer:
    kind: str  # sign, page, count
    at: float  # when it came back
    status: int  # 0: no HTTP answer
    email: str = ""


class Browser:
    """A kept-alive connection; a request on a connection the server had closed is sent again
    on a new one, as browsers do."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: str | None = None, headers=None) -> int:
        for attempt in range(2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return response.status
            except (OSError, http.client.HTTPException):
                self.close()
                if not (reused and attempt == 0):
                    return 0
        return 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


def test_signing_and_reading_go_on_while_redis_is_killed(own_redis, app_server):
    port = app_server
    petition = make_petition()
    answers: list[Answer] = []
    stop = threading.Event()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": f"http://127.0.0.1:{port}",
    }

    def signer(n: int):
        browser, i = Browser(port), 0
        while not stop.is_set():
            i += 1
            email = f"smoke-{n}-{i}@example.com"
            form = sign_form_data(petition, name=f"Sara Karimi {i}", email=email)
            status = browser.request(
                "POST", f"/en/p/{petition.slug}/sign/", urlencode(form), headers
            )
            answers.append(Answer("sign", time.monotonic(), status, email))
        browser.close()

    def reader():
        browser = Browser(port)
        paths = (
            ("page", f"/en/p/{petition.slug}/"),
            ("count", f"/en/p/{petition.slug}/count.json"),
        )
        while not stop.is_set():
            for kind, path in paths:
                answers.append(Answer(kind, time.monotonic(), browser.request("GET", path)))
            stop.wait(0.05)
        browser.close()

    threads = [threading.Thread(target=signer, args=(n,)) for n in range(SIGNERS)]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    try:
        time.sleep(BEFORE_S)
        own_redis.kill()
        killed = time.monotonic()
        time.sleep(DOWN_S)
        own_redis.start()
        restarted = time.monotonic()
        time.sleep(AFTER_S)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)

    signs = [a for a in answers if a.kind == "sign"]
    failed_signs = Counter(a.status for a in signs if a.status >= 500 or a.status == 0)
    assert signs
    assert not failed_signs, f"of {len(signs)} sign POSTs (status 0: no answer): {failed_signs}"
    acknowledged = {a.email for a in signs if a.status == 302}
    assert [a for a in signs if killed < a.at < restarted and a.status == 302], (
        "no signature was acknowledged while Redis was down"
    )
    down = [a for a in answers if a.kind != "sign" and killed < a.at < restarted]
    assert down, "nothing was read while Redis was down"
    failed_reads = Counter((a.kind, a.status) for a in down if a.status >= 500 or a.status == 0)
    assert not failed_reads, f"of {len(down)} reads while Redis was down: {failed_reads}"

    # Every acknowledged signature is stored, and the count is the rows.
    stored = set(
        Signature.objects.filter(petition=petition).values_list("email_canonical", flat=True)
    )
    assert acknowledged - stored == set()
    rows = Signature.objects.counted().filter(petition=petition).count()
    assert SignatureCount.objects.total_for(petition.pk) == rows
