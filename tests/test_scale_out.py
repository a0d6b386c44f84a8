"""Scale out: two gunicorn app servers behind the shipped nginx configuration
(deploy/nginx/petitions.conf), one PostgreSQL, one Redis (docs/scaling.md).

The test writes only what differs per site: a minimal main nginx.conf with temporary paths, and
the three per-site files petitions.conf includes (its two gunicorns, its port, its cache
directory). Everything else is the shipped file itself.

Several clients sign through nginx at once, each from its own loopback address (127.0.0.x), with
nginx round-robining the requests over both app servers and telling them the client's address in
X-Forwarded-For (NUM_PROXIES=1). Afterwards the count equals the rows, and every address got
exactly its limit of signatures, however its requests were spread over the two servers: the limit
lives in Redis, not in either process. Then what nginx caches: the petition page and count.json,
for returning supporters too; never their own sign box.
"""

import gzip
import html
import http.client
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from signatures.models import Signature, SignatureCount
from tests.conftest import app_server_env, free_ports, running_in_ci
from tests.factories import make_petition, sign_form_data
from tests.nginx import main_conf, nginx_binary
from tests.test_rate_limit_processes import redis_available

ROOT = Path(settings.BASE_DIR)
REDIS_URL = "redis://127.0.0.1:6379/12"
LIMIT = 5  # signatures per address; "/d" so that no window boundary falls inside the test
CLIENTS = 4  # addresses, 127.0.0.11 ...
THREADS_PER_CLIENT = 2
ATTEMPTS_PER_THREAD = 4  # 8 attempts per address against a limit of 5

# The per-site files, found by petitions.conf relative to the directory of nginx.conf.
SITE_FILES = {
    "upstream.conf": "server 127.0.0.1:{app1};\nserver 127.0.0.1:{app2};\n",
    # The test's own addition: which app server answered, so it can tell them apart.
    "listen.conf": "listen 127.0.0.1:{port};\nadd_header X-Upstream $upstream_addr always;\n",
    "cache-path.conf": "proxy_cache_path {tmp}/cache levels=1:2 keys_zone=petitions:1m;\n",
}


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
    """nginx with deploy/nginx/petitions.conf on a free loopback port in front of two gunicorns;
    yields (nginx's port, the app servers' ports)."""
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
        # The form token comes from a page nginx may have cached a moment ago; the fill-time
        # check has tests of its own (tests/test_abuse.py).
        SIGN_MIN_FILL_SECONDS="0",
    )
    *app_ports, port = free_ports(3)
    values = {"tmp": tmp, "port": port, "app1": app_ports[0], "app2": app_ports[1]}
    (tmp / "nginx.conf").write_text(main_conf(tmp))
    (tmp / "petitions").mkdir()
    for name, text in SITE_FILES.items():
        (tmp / "petitions" / name).write_text(text.format(**values))
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
        command = [nginx, "-p", str(tmp), "-e", str(tmp / "error.log")]
        command += ["-c", str(tmp / "nginx.conf")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        processes.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def cache(self) -> str:
        """nginx's X-Cache-Status: HIT, MISS, EXPIRED, STALE, UPDATING, BYPASS, or ""."""
        return self.headers.get("X-Cache-Status", "")

    @property
    def upstream(self) -> str:
        return self.headers.get("X-Upstream", "")

    @property
    def cache_control(self) -> set[str]:
        return {part.strip() for part in self.headers.get("Cache-Control", "").split(",")}

    def json(self) -> dict:
        return json.loads(self.body)


class Browser:
    """One person's browser at one loopback address, talking to nginx."""

    def __init__(self, port: int, address: str = "127.0.0.1"):
        self.port, self.address = port, address
        self.origin = f"http://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, **headers) -> Answer:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.address, 0)
        )
        headers = {key.replace("_", "-"): value for key, value in headers.items()}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin  # as every browser sends with a form POST
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        answer = Answer(response.status, response.headers, response.read())
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";")[0].split("=", 1)
            self.cookies[name] = value
        conn.close()
        return answer

    def get(self, path: str, **headers) -> Answer:
        return self.request("GET", path, **headers)

    def open_form(self, petition) -> None:
        """Read the page, keeping the form token it carries (the same for every reader)."""
        page = self.get(f"/en/p/{petition.slug}/")
        assert page.status == 200
        token = re.search(r'name="started" value="([^"]*)"', page.body.decode()).group(1)
        self.started = html.unescape(token)

    def sign(self, petition, **fields) -> Answer:
        form = sign_form_data(petition, **fields) | {"started": self.started}
        return self.request("POST", f"/en/p/{petition.slug}/sign/", form)


pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_app_servers_behind_nginx_count_exactly_and_share_the_limit(behind_nginx):
    port, app_ports = behind_nginx
    petition = make_petition()
    results: list[tuple[str, int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def person(address: str):
        browser = Browser(port, address)
        try:
            browser.open_form(petition)
            for _ in range(ATTEMPTS_PER_THREAD):
                answer = browser.sign(petition)
                with lock:
                    results.append((address, answer.status, answer.upstream))
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
    browser.open_form(petition)
    alone = [browser.sign(petition) for _ in range(LIMIT + 2)]
    assert [a.status for a in alone] == [302] * LIMIT + [429, 429]
    assert {a.upstream for a in alone if a.status == 429} == upstreams

    rows = Signature.objects.filter(petition=petition).count()
    assert rows == (CLIENTS + 1) * LIMIT
    assert SignatureCount.objects.total_for(petition.pk) == rows


def test_nginx_serves_the_anonymous_petition_page_from_its_cache(behind_nginx):
    port, _ = behind_nginx
    petition = make_petition()
    page = f"/en/p/{petition.slug}/"

    first, second = Browser(port).get(page), Browser(port).get(page)
    assert first.status == second.status == 200
    assert "public" in first.cache_control
    assert (first.cache, second.cache) == ("MISS", "HIT")
    assert second.body == first.body
    # Links with share trackers are the same page, from the same entry.
    tracked = Browser(port).get(f"{page}?fbclid=abc&utm_source=x")
    assert (tracked.cache, tracked.body) == ("HIT", first.body)

    # nginx compresses the page for a browser that accepts it...
    zipped = Browser(port).get(page, Accept_Encoding="gzip")
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == first.body
    # ...but sends static files as whitenoise serves them (in production compressed once, by
    # collectstatic; here, without the manifest, not at all).
    static = Browser(port).get("/static/favicon.svg", Accept_Encoding="gzip")
    assert static.status == 200
    assert "Content-Encoding" not in static.headers and static.cache == ""


def test_a_returning_supporter_gets_the_page_from_the_cache_and_only_their_sign_box_from_the_app(
    behind_nginx,
):
    port, _ = behind_nginx
    first, second = make_petition(), make_petition()
    page = f"/en/p/{second.slug}/"
    anonymous = Browser(port).get(page)
    assert Browser(port).get(page).cache == "HIT"

    # A signature through nginx leaves the supporter cookie; with it, the page is still the
    # cached one, and only the small answer its script asks for is theirs, kept by no cache.
    supporter = Browser(port)
    supporter.open_form(first)
    signed = supporter.sign(first, name="Sara Karimi")
    assert signed.status == 302 and signed.cache == ""  # a POST never touches the cache
    assert "supporter" in supporter.cookies
    theirs = supporter.get(page)
    assert (theirs.cache, theirs.body) == ("HIT", anonymous.body)
    own = supporter.get(f"/en/p/{second.slug}/me/")
    assert own.status == 200 and own.cache == ""
    assert "Sign as" in own.body.decode()
    assert {"private", "no-store"} <= own.cache_control
    # Their own box without a script (?form) passes by the cache.
    asked = supporter.get(f"{page}?form")
    assert asked.cache == "BYPASS" and "Sign as" in asked.body.decode()
    assert "private" in asked.cache_control
    after = Browser(port).get(page)
    assert (after.cache, after.body) == ("HIT", anonymous.body)

    # The same for a staff session, a message waiting to be shown and the full form (?form).
    for cookie in ("sessionid=x", "messages=x"):
        assert Browser(port).get(page, Cookie=cookie).cache == "BYPASS", cookie
    assert Browser(port).get(f"{page}?form=full").cache == "BYPASS"
    assert Browser(port).get(page).body == anonymous.body
    # The admin is never cached.
    assert Browser(port).get(f"/{settings.ADMIN_URL}login/").cache == ""


def test_nginx_caches_the_widget_and_badge_but_not_a_returning_readers_widget(behind_nginx):
    port, _ = behind_nginx
    first, second = make_petition(), make_petition()
    widget, badge = f"/en/p/{second.slug}/embed/", f"/en/p/{second.slug}/badge/"
    for path in (widget, badge):
        assert [Browser(port).get(path).cache for _ in range(2)] == ["MISS", "HIT"], path
    anonymous = Browser(port).get(widget)

    # Signing in the widget leaves the partitioned cookie; the widget stays the cached one, and
    # the one click (type your first name) comes from the answer its script asks for.
    reader = Browser(port)
    reader.open_form(first)
    signed = reader.sign(first, embed="1", name="Sara Karimi")
    assert signed.status == 302 and "supporter_embed" in reader.cookies
    theirs = reader.get(widget)
    assert (theirs.cache, theirs.body) == ("HIT", anonymous.body)
    own = reader.get(f"/en/p/{second.slug}/me/?embed=1")
    assert "private" in own.cache_control and 'name="first_name"' in own.body.decode()
    assert Browser(port).get(f"{widget}?form=full").cache == "BYPASS"
    after = Browser(port).get(widget)
    assert (after.cache, after.body) == ("HIT", anonymous.body)


def test_count_json_is_cached_for_a_second_and_exact_within_two_seconds(behind_nginx):
    port, _ = behind_nginx
    petition = make_petition()
    reader, signer = Browser(port), Browser(port, "127.0.0.31")
    url = f"/en/p/{petition.slug}/count.json"
    seen: list[str] = []

    def read() -> Answer:
        answer = reader.get(url)
        assert answer.status == 200
        seen.append(answer.cache)
        return answer

    first = read()
    assert first.cache == "MISS" and first.json()["count"] == 0
    # One second, and no stale answers: nginx would honour a stale-while-revalidate here.
    assert {"public", "max-age=1"} <= first.cache_control
    assert not any(part.startswith("stale-") for part in first.cache_control)
    assert read().cache == "HIT"
    # nginx keeps time in whole seconds; the app's X-Accel-Expires ends an answer with the second
    # it was made in.
    stored = time.time()
    while read().cache == "HIT":
        assert time.time() - stored <= 1.1
        time.sleep(0.05)

    # A watcher reading all along sees a signature within two seconds.
    signer.open_form(petition)
    assert signer.sign(petition).status == 302
    signed = time.monotonic()
    while True:
        asked = time.monotonic()
        if read().json()["count"] == 1:
            break
        assert asked - signed <= 2.0, "count.json still shows the count from before"
        time.sleep(0.02)

    # After a quiet spell longer than any answer is kept, the first reader gets the count of now
    # (an hour of quiet is the same to nginx: the old answer is never served).
    assert signer.sign(petition).status == 302
    time.sleep(2.5)
    quiet = read()
    assert quiet.json()["count"] == 2
    assert quiet.cache in {"EXPIRED", "MISS"}
    assert not {"STALE", "UPDATING"} & set(seen)
