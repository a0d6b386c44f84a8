"""Deliveries are signed as Standard Webhooks specifies, and the receiver in docs/webhooks.md
accepts a real one and refuses a forgery."""

import base64
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
from pathlib import Path

import pytest

from integrations import webhooks
from integrations.models import SECRET_PREFIX, Delivery, Endpoint
from tests.factories import make_endpoint, make_petition, make_signature
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"


def spec_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """The spec's algorithm, written out again here rather than imported."""
    key = base64.b64decode(secret[len("whsec_") :])
    to_sign = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver() as receiver:
        yield receiver


def test_a_new_secret_is_whsec_and_24_random_bytes():
    first, second = make_endpoint().secret, make_endpoint().secret
    assert first.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(first.removeprefix(SECRET_PREFIX))) >= 24
    assert first != second


def test_the_signature_header_verifies_by_the_specs_algorithm(receiver):
    petition = make_petition()
    endpoint = make_endpoint(petition, url=receiver.url)
    make_signature(petition, consent_contact=True)
    webhooks.discover()
    webhooks.deliver_due()
    (request,) = receiver.received
    headers = request.headers
    assert re.fullmatch(r"msg_[0-9a-f]{32}", headers["webhook-id"])
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30
    version, _comma, signature = headers["webhook-signature"].partition(",")
    assert version == "v1"
    assert signature == spec_signature(
        endpoint.secret, headers["webhook-id"], headers["webhook-timestamp"], request.body
    )
    assert headers["content-type"] == "application/json"
    assert json.loads(request.body)["type"] == "signature.counted"
    assert request.body.isascii()


def test_a_tampered_body_or_another_secret_does_not_verify(receiver):
    petition = make_petition()
    endpoint = make_endpoint(petition, url=receiver.url)
    make_signature(petition, consent_contact=True, name="Ali")
    webhooks.discover()
    webhooks.deliver_due()
    (request,) = receiver.received
    msg_id, stamp = request.headers["webhook-id"], request.headers["webhook-timestamp"]
    sent = request.headers["webhook-signature"].removeprefix("v1,")
    tampered = request.body.replace(b'"Ali"', b'"Eve"')
    assert tampered != request.body
    assert spec_signature(endpoint.secret, msg_id, stamp, tampered) != sent
    assert spec_signature(make_endpoint().secret, msg_id, stamp, request.body) != sent
    assert spec_signature(endpoint.secret, msg_id, str(int(stamp) + 1), request.body) != sent


def guide_receiver() -> dict:
    """The receiving example in docs/webhooks.md, run as it is printed."""
    (code,) = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
    namespace: dict = {"__name__": "guide"}
    exec(compile(code, str(GUIDE), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


def test_the_guides_receiver_accepts_a_real_delivery_and_refuses_a_forgery(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    guide = guide_receiver()
    handled = []
    guide["handle"] = handled.append
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), guide["Receiver"])
    guide["Receiver"].log_message = lambda *args: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        petition = make_petition()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        endpoint = make_endpoint(petition, url=url)
        guide["SECRET"] = endpoint.secret
        make_signature(petition, consent_contact=True, email="crm@example.org")
        webhooks.discover()
        webhooks.deliver_due()
        assert Delivery.objects.get().state == Delivery.State.DELIVERED
        assert [event["data"]["signature"]["email"] for event in handled] == ["crm@example.org"]

        # The same message again (a retry) is answered, and handled once.
        delivery = Delivery.objects.get()
        Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.QUEUED)
        webhooks.deliver_due()
        assert len(handled) == 1

        # Signed with another secret: refused, so the site keeps trying.
        Endpoint.objects.filter(pk=endpoint.pk).update(secret=make_endpoint().secret)
        webhooks.ping(Endpoint.objects.get(pk=endpoint.pk), by="test")
        ping = Delivery.objects.get(event="ping")
        assert ping.state == Delivery.State.FAILED
        assert ping.status_code == 401
        assert len(handled) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_the_guides_verify_refuses_a_tampered_body_and_an_old_timestamp():
    verify = guide_receiver()["verify"]
    secret = make_endpoint().secret
    body = b'{"type":"ping"}'
    stamp = str(int(time.time()))
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + spec_signature(secret, "msg_1", stamp, body),
    }
    assert verify(secret, headers, body) == {"type": "ping"}
    with pytest.raises(ValueError, match="bad signature"):
        verify(secret, headers, body.replace(b"ping", b"pong"))
    old = str(int(time.time()) - 600)
    stale = headers | {"webhook-timestamp": old}
    stale["webhook-signature"] = "v1," + spec_signature(secret, "msg_1", old, body)
    with pytest.raises(ValueError, match="timestamp"):
        verify(secret, stale, body)
