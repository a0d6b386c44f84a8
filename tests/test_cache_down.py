"""The cache is a convenience: with Redis down or hung, the page and count.json are
served from the database, signing goes on with its rate limit tallied as unchecked, and a hung
Redis costs one timeout per process, not one per call."""

import socket
import threading
import time

import pytest

from lib import cache
from signatures.models import BlockedAttempt, Signature, SignatureCount
from tests.factories import make_petition, make_signature, sign_form_data

pytestmark = pytest.mark.django_db


def redis_at(port: int, timeout: float = 0.3) -> dict:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{port}/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": timeout, "SOCKET_TIMEOUT": timeout},
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once it is closed


class HungRedis(threading.Thread):
    """Accepts connections and never answers: a Redis stopped with SIGSTOP."""

    def __init__(self):
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = []

    def run(self):
        while True:
            conn, _ = self.server.accept()
            self.connections.append(conn)


@pytest.fixture
def redis_down(settings):
    down = redis_at(closed_port())
    settings.CACHES = {"default": down, "shared": down}
    cache.reset()
    yield
    cache.reset()


@pytest.fixture
def redis_hung(settings):
    redis = HungRedis()
    redis.start()
    hung = redis_at(redis.port)
    settings.CACHES = {"default": hung, "shared": hung}
    cache.reset()
    yield redis
    cache.reset()


def test_the_page_and_count_json_are_served_from_the_database_without_redis(client, redis_down):
    petition = make_petition()
    make_signature(petition)
    page = client.get(f"/fa/p/{petition.slug}/")
    assert page.status_code == 200
    assert page.context["count"] == 1
    count = client.get(f"/en/p/{petition.slug}/count.json")
    assert count.status_code == 200 and count.json()["count"] == 1


def test_signing_goes_on_without_redis_and_is_marked_unchecked(client, redis_down):
    petition = make_petition()
    for n in range(3):
        response = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
        assert response.status_code == 302, n
    assert Signature.objects.count() == SignatureCount.objects.total_for(petition.pk) == 3
    assert not BlockedAttempt.objects.exists()  # let through, not refused
    unchecked = Signature.objects.filter(rate_checked=False)
    assert unchecked.count() == 3
    # What lets a moderator invalidate such a burst afterwards: its source.
    assert {s.ip_hash for s in unchecked} == {Signature.objects.first().ip_hash} != {""}


def test_a_signature_counted_against_the_limits_is_marked_checked(client):
    petition = make_petition()
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    assert Signature.objects.get().rate_checked


def test_moderation_still_works_without_redis(client, redis_down):
    petition = make_petition()
    make_signature(petition)
    Signature.objects.all().invalidate(by="test")
    assert SignatureCount.objects.total_for(petition.pk) == 0


def test_health_keeps_the_server_in_and_says_the_cache_is_down(client, redis_down):
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "ok", "cache": "unreachable"}
    assert client.get("/readyz").status_code == 503


def test_health_says_ok_when_everything_answers(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert client.get("/readyz").status_code == 200


def test_a_hung_redis_costs_one_timeout_then_nothing(client, redis_hung):
    petition = make_petition()
    started = time.monotonic()
    first = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    first_took = time.monotonic() - started
    assert first.status_code == 302
    assert first_took < 2  # one or two timeouts of 0.3 s, not redis-py's default of none

    started = time.monotonic()
    for _ in range(5):
        assert client.get(f"/en/p/{petition.slug}/count.json").status_code == 200
        assert client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition)).status_code
    assert time.monotonic() - started < 1  # the breaker: no more waiting on the hung cache
    assert Signature.objects.count() == 6


def test_the_cache_is_tried_again_after_the_breaker_opens(redis_down, settings, monkeypatch):
    assert cache.get("anything") is None  # fails, and opens the breaker
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    cache.set("key", "value", 60)
    assert cache.get("key") is None  # still left alone
    later = time.monotonic() + cache.BREAKER_SECONDS + 0.1
    monkeypatch.setattr(cache.time, "monotonic", lambda: later)
    cache.set("key", "value", 60)
    assert cache.get("key") == "value"


def test_the_signature_list_and_its_country_filter_work_without_redis(admin_client, redis_down):
    petition = make_petition()
    make_signature(petition, country="GB", name="Sara Karimi")
    make_signature(petition, country="DE", name="Lena Vogel")
    listed = admin_client.get("/admin/signatures/signature/")
    assert listed.status_code == 200
    assert "?country=DE" in listed.content.decode()
    filtered = admin_client.get("/admin/signatures/signature/?country=DE").content.decode()
    assert "Lena Vogel" in filtered and "Sara Karimi" not in filtered
