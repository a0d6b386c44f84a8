"""Scale out: two gunicorn app servers behind nginx, one PostgreSQL, one Redis (docs/scaling.md).

Several clients sign through nginx at once, each from its own loopback address (127.0.0.x), with
nginx round-robining the requests over both app servers and telling them the client's address in
X-Forwarded-For (NUM_PROXIES=1). Afterwards the count equals the rows, and every address got
exactly its limit of signatures, however its requests were spread over the two servers: the limit
lives in Redis, not in either process.
"""

import http.client
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from signatures.models import Signature, SignatureCount
from tests.conftest import app_server_env, free_port, running_in_ci
from tests.factories import make_petition, sign_form_data
from tests.test_rate_limit_processes import redis_available

ROOT = Path(settings.BASE_DIR)
REDIS_URL = "redis://127.0.0.1:6379/12"
LIMIT = 5  # signatures per address; "/d" so that no window boundary falls inside the test
CLIENTS = 4  # addresses, 127.0.0.11 ...
THREADS_PER_CLIENT = 2
ATTEMPTS_PER_THREAD = 4  # 8 attempts per address against a limit of 5

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  upstream app {{
    server 127.0.0.1:{app1};
    server 127.0.0.1:{app2};
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def need(what: str) -> None:
    if running_in_ci():
        pytest.fail(f"{what} is needed and CI must provide it")
    pytest.skip(f"needs {what}")


def wait_for(port: int, process: subprocess.Popen, log: Path, deadline: float) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"exited early:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer on {port}:\n{log.read_text()}")
        time.sleep(0.2)


@pytest.fixture
def behind_nginx():
    """nginx on a free loopback port in front of two gunicorns; yields (port, app ports)."""
    nginx = nginx_binary()
    if not nginx:
        need("nginx (Debian's package)")
    if not redis_available():
        need("Redis on 127.0.0.1:6379")
    import redis as redis_client

    client = redis_client.Redis.from_url(REDIS_URL)
    client.flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="scale-out-"))
    tmp.chmod(0o755)  # nginx's workers may run as another user and must reach the temp paths
    env = app_server_env(
        HOME=str(tmp),
        CACHE_URL=REDIS_URL,
        NUM_PROXIES="1",
        SIGN_RATE_PER_IP=f"{LIMIT}/d",
    )
    app_ports = [free_port(), free_port()]
    port = free_port()
    (tmp / "nginx.conf").write_text(
        NGINX_CONF.format(tmp=tmp, port=port, app1=app_ports[0], app2=app_ports[1])
    )
    processes, logs = [], []
    try:
        for n, app_port in enumerate(app_ports):
            log = tmp / f"gunicorn-{n}.log"
            logs.append(log)
            with open(log, "wb") as out:
                processes.append(
                    subprocess.Popen(
                        [
                            str(ROOT / ".venv" / "bin" / "gunicorn"),
                            *("-c", "config/gunicorn.conf.py", "config.wsgi"),
                            # Each its own control socket: the default is one path per user.
                            *("--control-socket", str(tmp / f"gunicorn-{n}.ctl")),
                        ],
                        cwd=ROOT,
                        env=env | {"PORT": str(app_port)},
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        logs.append(tmp / "error.log")
        processes.append(
            subprocess.Popen(
                [
                    nginx,
                    "-p",
                    str(tmp),
                    "-e",
                    str(tmp / "error.log"),
                    "-c",
                    str(tmp / "nginx.conf"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + 60
        for app_port, process, log in zip([*app_ports, port], processes, logs, strict=True):
            wait_for(app_port, process, log, deadline)
        yield port, app_ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        client.flushdb()
        shutil.rmtree(tmp, ignore_errors=True)


class Browser:
    """One person's browser at one loopback address, talking to nginx."""

    def __init__(self, port: int, address: str):
        self.port, self.address = port, address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.address, 0)
        )
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        answer = conn.getresponse()
        text = answer.read().decode()
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";")[0].split("=", 1)
            self.cookies[name] = value
        conn.close()
        return answer.status, answer.headers.get("X-Upstream", ""), text

    def open_form(self, slug: str) -> None:
        """Read the page once, keeping its CSRF cookie and token (Django takes them again)."""
        status, _, page = self.request("GET", f"/en/p/{slug}/")
        assert status == 200
        self.token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    def sign(self, slug: str) -> tuple[int, str]:
        form = sign_form_data() | {"csrfmiddlewaretoken": self.token}
        status, upstream, _ = self.request("POST", f"/en/p/{slug}/sign/", form)
        return status, upstream


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_app_servers_behind_nginx_count_exactly_and_share_the_limit(behind_nginx):
    port, app_ports = behind_nginx
    petition = make_petition()
    results: list[tuple[str, int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def person(address: str):
        browser = Browser(port, address)
        try:
            browser.open_form(petition.slug)
            for _ in range(ATTEMPTS_PER_THREAD):
                status, upstream = browser.sign(petition.slug)
                with lock:
                    results.append((address, status, upstream))
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)

    addresses = [f"127.0.0.{11 + n}" for n in range(CLIENTS)]
    threads = [
        threading.Thread(target=person, args=(address,))
        for address in addresses
        for _ in range(THREADS_PER_CLIENT)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == CLIENTS * THREADS_PER_CLIENT * ATTEMPTS_PER_THREAD

    # Both app servers took signatures.
    upstreams = {f"127.0.0.1:{p}" for p in app_ports}
    assert {u for _, s, u in results if s == 302} == upstreams
    assert {s for _, s, _ in results} == {302, 429}
    # Each address signed exactly its limit, though its requests went to both servers: the
    # limit is one count in Redis. Each address counted on its own: the app read it from nginx.
    signed = Counter(address for address, status, _ in results if status == 302)
    assert signed == dict.fromkeys(addresses, LIMIT)

    # A client alone alternates between the servers (round robin): the refusals come from both.
    browser = Browser(port, "127.0.0.99")
    browser.open_form(petition.slug)
    alone = [browser.sign(petition.slug) for _ in range(LIMIT + 2)]
    assert [s for s, _ in alone] == [302] * LIMIT + [429, 429]
    assert {u for s, u in alone if s == 429} == upstreams

    rows = Signature.objects.filter(petition=petition).count()
    assert rows == (CLIENTS + 1) * LIMIT
    assert SignatureCount.objects.total_for(petition.pk) == rows
