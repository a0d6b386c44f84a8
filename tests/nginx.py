"""nginx running the shipped deploy/nginx/petitions.conf in front of a stub app that answers every
request with the headers nginx sent it, for tests of what nginx itself does (what it logs, which
requests it marks as the onion service's). tests/test_scale_out.py runs the real app behind it."""

import contextlib
import http.client
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_ports, running_in_ci

SHIPPED_CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "petitions.conf"

# Only what a site sets in its own nginx.conf; the behaviour is the shipped file's. Debian's own
# nginx.conf logs every request in the combined format at the http {} level: a test of what is
# logged keeps that (`access_log`), so that the shipped file must override it.
MAIN_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log {error_level};
events {{ worker_connections {connections}; }}
http {{
  access_log {access_log};
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  include {shipped};
}}
"""


def main_conf(tmp: Path, *, access_log="off", error_level="warn", connections=256) -> str:
    """An nginx.conf around the shipped petitions.conf, everything under `tmp`."""
    return MAIN_CONF.format(
        tmp=tmp,
        shipped=SHIPPED_CONF,
        access_log=access_log,
        error_level=error_level,
        connections=connections,
    )


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


class EchoHeaders(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(dict(self.headers.items())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


class Nginx:
    """The running nginx: the port of each listener by name, and its temporary directory."""

    def __init__(self, tmp: Path, ports: dict[str, int]):
        self.tmp = tmp
        self.ports = ports

    def request(self, listener: str, method: str, path: str, **headers) -> tuple[int, dict]:
        """Status and, for an answer from the stub app, the headers nginx sent it."""
        conn = http.client.HTTPConnection("127.0.0.1", self.ports[listener], timeout=5)
        try:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.getheader("Content-Type") == "application/json":
            return response.status, json.loads(body)
        return response.status, {}

    def logs(self) -> str:
        return "".join(
            path.read_text() for path in sorted(self.tmp.glob("*.log")) if path.is_file()
        )


@contextlib.contextmanager
def shipped_nginx(site_files: dict[str, str], listeners: tuple[str, ...] = ("public",)):
    """nginx with the shipped petitions.conf; `site_files` are the per-site files of
    petitions/ (formatted with `port_<listener>` and `app`)."""
    nginx = nginx_binary()
    if not nginx:
        if running_in_ci():
            pytest.fail("nginx is needed and CI must provide it")
        pytest.skip("needs nginx (Debian's package)")
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHeaders)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    tmp = Path(tempfile.mkdtemp(prefix="nginx-"))
    tmp.chmod(0o755)  # nginx's workers may run as another user
    ports = dict(zip(listeners, free_ports(len(listeners)), strict=True))
    values = {f"port_{name}": port for name, port in ports.items()}
    values |= {"app": app.server_address[1], "tmp": tmp}
    conf = main_conf(tmp, access_log=f"{tmp}/access.log combined", error_level="info")
    (tmp / "nginx.conf").write_text(conf)
    (tmp / "petitions").mkdir()
    for name, text in site_files.items():
        (tmp / "petitions" / name).write_text(text.format(**values))
    command = [nginx, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        for port in ports.values():
            while True:
                try:
                    socket_ok = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    socket_ok.connect()
                    socket_ok.close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError((tmp / "error.log").read_text()) from None
                    time.sleep(0.1)
        yield Nginx(tmp, ports)
    finally:
        process.terminate()
        process.wait(timeout=10)
        app.shutdown()
        app.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
