"""The signing limit holds across app servers: two gunicorn processes sharing Redis."""

import http.cookiejar
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from signatures.models import Signature, SignatureCount
from tests.conftest import app_server_env, free_ports, running_in_ci
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.system

ROOT = Path(settings.BASE_DIR)
REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis():
    if not redis_available():
        if running_in_ci():
            pytest.fail("Redis on 127.0.0.1:6379 is needed and CI must provide it")
        pytest.skip("needs Redis on 127.0.0.1:6379")
    import redis as redis_client

    client = redis_client.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def two_app_servers(redis, tmp_path):
    env = app_server_env(CACHE_URL=REDIS_URL, SIGN_RATE_PER_IP="4/m")
    ports = free_ports(2)
    processes = [
        subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                *("-c", "config/gunicorn.conf.py"),
                # Each its own control socket: gunicorn's default is one path per user.
                *("--control-socket", str(tmp_path / f"gunicorn-{port}.ctl")),
                "config.wsgi",
            ],
            cwd=ROOT,
            env=env | {"PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 60
        for port in ports:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
                    break
                except OSError:  # refused while booting, or slow on a busy machine
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_through(base: str, petition, opener, jar) -> int:
    data = urllib.parse.urlencode(sign_form_data(petition)).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base}/en/p/{petition.slug}/sign/", data=data, headers={"Origin": base}
    )
    try:
        return opener.open(request).status
    except urllib.error.HTTPError as answer:
        return answer.code


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rate_limit_holds_across_two_app_processes(two_app_servers):
    petition = make_petition()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    statuses = [sign_through(two_app_servers[n % 2], petition, opener, jar) for n in range(7)]

    # Four signatures from this address, whichever server took them; then both refuse.
    assert statuses == [302] * 4 + [429] * 3
    rows = Signature.objects.filter(petition=petition).count()
    assert rows == 4
    assert SignatureCount.objects.total_for(petition.pk) == rows
