"""No signer's email (or raw address) in anything the public can fetch, or in the logs."""

import base64
import io
import logging
import re
import runpy
import zlib
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import make_petition, make_signature, sign_form_data
from tests.nginx import SHIPPED_CONF, shipped_nginx

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
EMAILS = ["sara.secret@example.com", "reza.private@example.org", "bot@spam.example"]


def test_no_public_response_contains_a_signers_email(client, caplog):
    caplog.set_level(logging.DEBUG)
    petition = make_petition(slug="free-press")
    closed = make_petition(slug="closed-one", status="closed")
    for n, email in enumerate(EMAILS):
        client.post(
            f"/{'fa' if n % 2 else 'en'}/p/free-press/sign/",
            sign_form_data(petition, email=email, name=f"Signer {n}", locality="Tehran"),
            REMOTE_ADDR=f"198.51.100.{n}",
        )
    # A failed attempt echoes the form back to the person who typed it: that page is theirs, so
    # it is fetched with a fresh client below, never shared.
    anonymous = client.__class__()
    pages = []
    for language in ("en", "fa"):
        for path in (
            "/",
            "p/free-press/",
            "p/free-press/thanks/",
            "p/free-press/count.json",
            "p/closed-one/",
            "privacy/",
            "p/no-such-petition/",
        ):
            url = f"/{language}/{path}" if path != "/" else f"/{language}/"
            pages.append((url, anonymous.get(url)))
            pages.append((url + " (signed-in browser)", client.get(url)))
    pages.append(("/healthz", anonymous.get("/healthz")))
    assert closed

    for url, response in pages:
        body = response.content.decode()
        for email in EMAILS:
            local = email.split("@")[0]
            assert local not in body, (url, email)
        assert "198.51.100." not in body, url
        assert "198.51.100." not in response.get("Set-Cookie", ""), url

    logged = caplog.text
    for email in EMAILS:
        assert email.split("@")[0] not in logged
    assert "198.51.100." not in logged
    assert petition


# -- what the logs keep ----------------------------------------------------------------------------

EMAILED_TOKEN = "WzksInNhcmFAZXhhbXBsZS5uZXQiXQ:1xaABh:H_pjTOKENsignatureXYZ"
LINKS = ("confirm", "start/link", "unsubscribe")


def server_blocks(conf: str) -> list[str]:
    """The text of each top-level `server {...}` block (petitions.conf nests none)."""
    blocks = []
    for start in re.finditer(r"^server \{", conf, re.M):
        depth, i = 0, start.start()
        while True:
            depth += {"{": 1, "}": -1}.get(conf[i], 0)
            i += 1
            if conf[i - 1] == "}" and depth == 0:
                break
        blocks.append(conf[start.start() : i])
    return blocks


def test_the_shipped_nginx_config_logs_no_request_and_no_client_address():
    conf = SHIPPED_CONF.read_text()
    code = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    blocks = server_blocks(code)
    assert blocks
    for block in blocks:
        assert re.search(r"^\s*access_log off;", block, re.M), block[:80]
        # nginx names the client in every error line: only what stops nginx is kept.
        assert re.search(r"^\s*error_log \S+ emerg;", block, re.M), block[:80]
    for variable in ("$remote_addr", "$http_x_forwarded_for", "$proxy_add_x_forwarded_for"):
        assert variable not in code.replace("X-Forwarded-For $proxy_add_x_forwarded_for", "")


@pytest.mark.system
def test_nginx_running_the_shipped_config_writes_no_address_or_token():
    site = {
        "upstream.conf": "server 127.0.0.1:{app};\n",
        "listen.conf": "listen 127.0.0.1:{port_public};\n",
        "cache-path.conf": "proxy_cache_path {tmp}/cache keys_zone=petitions:1m;\n",
    }
    with shipped_nginx(site) as nginx:
        status, _ = nginx.request("public", "GET", f"/en/confirm/{EMAILED_TOKEN}/")
        assert status == 200
        nginx.request("public", "GET", "/en/p/free-press/?source=x", Referer="https://a.example/")
        logged = nginx.logs()
    assert "127.0.0.1 -" not in logged
    assert EMAILED_TOKEN not in logged
    assert "free-press" not in logged


def test_gunicorn_logs_requests_without_the_address_query_or_emailed_token(tmp_path):
    import datetime
    from types import SimpleNamespace

    from gunicorn.config import Config

    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    cfg = Config()
    for name in ("access_log_format", "logger_class"):
        if name in conf:
            cfg.set(name, conf[name])
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = cfg.logger_class(cfg)
    headers = [("X-Forwarded-For", "203.0.113.9"), ("Referer", f"/en/confirm/{EMAILED_TOKEN}/")]
    for link in LINKS:
        path = f"/fa/{link}/{EMAILED_TOKEN}/"
        environ = {
            "REQUEST_METHOD": "POST",
            "RAW_URI": path + "?email=sara@example.net",
            "PATH_INFO": path,
            "QUERY_STRING": "email=sara@example.net",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "198.51.100.4",
            "HTTP_REFERER": f"/en/confirm/{EMAILED_TOKEN}/",
        }
        response = SimpleNamespace(status="302 Found", headers=[], sent=0)
        request = SimpleNamespace(headers=headers)
        logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
        logger.exception(f"Error handling request POST {path}")
        logger.warning("Invalid request from ip=198.51.100.4: Invalid HTTP Version")
    logged = (tmp_path / "access.log").read_text() + (tmp_path / "error.log").read_text()
    assert "POST /fa/confirm/" in logged
    for secret in (EMAILED_TOKEN[:20], "sara@", "198.51.100.", "203.0.113."):
        assert secret not in logged


def configured_output() -> io.StringIO:
    """What the handlers of settings.LOGGING write, in a buffer."""
    buffer = io.StringIO()
    for handler in logging.getLogger().handlers:
        if handler.get_name() == "console":
            handler.setStream(buffer)
    return buffer


@pytest.fixture
def site_log():
    handlers = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert handlers, "settings.LOGGING's console handler"
    streams = [handler.stream for handler in handlers]
    yield configured_output()
    for handler, stream in zip(handlers, streams, strict=True):
        handler.setStream(stream)


def test_a_csrf_failure_on_an_emailed_link_logs_the_path_without_its_token(site_log):
    client = Client(enforce_csrf_checks=True)
    for link in LINKS:
        response = client.post(f"/en/{link}/{EMAILED_TOKEN}/")
        assert response.status_code in (400, 403)
    logging.getLogger("signatures.confirmation").error(
        "Gave up: %s", {"sara@example.net": (550, b"no such user")}
    )
    logged = site_log.getvalue()
    assert "Forbidden (CSRF cookie not set.): /en/confirm/" in logged
    assert EMAILED_TOKEN[:20] not in logged
    assert "sara@example.net" not in logged


def test_every_emailed_link_is_redacted_in_the_logs():
    """A new kind of emailed link must be added to the redaction."""
    from django.urls import URLResolver, get_resolver

    from lib.redaction import redact

    def with_a_token(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from with_a_token(pattern.url_patterns, inner)
            elif "token" in pattern.pattern.converters:
                yield namespace + pattern.name

    names = set(with_a_token(get_resolver().url_patterns))
    assert len(names) >= 3
    for language in ("en", "fa"):
        with translation.override(language):
            for name in names:
                path = reverse(name, kwargs={"token": EMAILED_TOKEN})
                assert EMAILED_TOKEN[:12] not in redact(f"POST {path} HTTP/1.1"), path


def test_an_emailed_token_does_not_carry_the_address():
    from petitions import mailing, starting
    from signatures import confirmation

    petition = make_petition(
        starter_email="Sara.K@example.net", starter_email_canonical="sara.k@example.net"
    )
    signature = make_signature(petition, email="Sara.K@example.net")
    tokens = [
        confirmation.make_token(signature),
        starting.make_token(petition),
        mailing.unsubscribe_token(signature.pk, signature.email_canonical),
    ]
    for token in tokens:
        payload = token.split(":")[0]
        raw = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload) % 4))
        if payload.startswith("."):
            raw = zlib.decompress(raw)
        assert b"sara" not in raw.lower()
        assert b"@" not in raw


def test_a_link_mailed_before_tokens_were_opaque_still_works_for_its_own_address(client):
    from django.core import signing

    from petitions.mailing import UNSUBSCRIBE_SALT

    petition = make_petition()
    signature = make_signature(petition, email="sara@example.net", consent_contact=True)
    other = make_signature(petition, email="reza@example.net", consent_contact=True)
    old = signing.dumps([signature.pk, "sara@example.net"], salt=UNSUBSCRIBE_SALT, compress=True)
    forged = signing.dumps([other.pk, "sara@example.net"], salt=UNSUBSCRIBE_SALT, compress=True)
    assert client.post(f"/en/unsubscribe/{forged}/").status_code == 400
    assert client.post(f"/en/unsubscribe/{old}/").status_code == 200
    signature.refresh_from_db()
    other.refresh_from_db()
    assert (signature.consent_contact, other.consent_contact) == (False, True)
