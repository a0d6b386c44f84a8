import socket
import threading
import time

import pytest

from lib.cache import CacheUnavailable
from lib.forms import FORM_TOKEN_STEP_SECONDS, form_token, form_token_age
from lib.models import RateCounter
from lib.ratelimit import count_hits
from signatures.models import BlockedAttempt, Signature
from tests.factories import make_petition, one_click_data, sign_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _low_limits(settings):
    settings.SIGN_RATE_PER_IP = "3/m"
    settings.SIGN_RATE_PER_PETITION = "1000/m"


def count_hit(alias: str, key: str, seconds: int) -> int:
    return count_hits(alias, {key: seconds})[key]


def sign(client, petition, language="en", ip="198.51.100.1", **fields):
    return client.post(
        f"/{language}/p/{petition.slug}/sign/", sign_form_data(petition, **fields), REMOTE_ADDR=ip
    )


def test_honeypot_filled_in_is_refused_and_tallied(client):
    petition = make_petition()
    response = sign(client, petition, website="http://spam.example")
    assert response.status_code == 400
    assert "Something went wrong. Please press Sign again." in response.content.decode()
    assert not Signature.objects.exists()
    assert BlockedAttempt.objects.get().reason == "honeypot"


def test_the_honeypot_is_hidden_from_people_and_screen_readers(client):
    petition = make_petition()
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    start = html.index('<div class="hp" aria-hidden="true">')
    block = html[start : html.index("</div>", start)]
    assert 'tabindex="-1"' in block
    assert 'autocomplete="off"' in block


def test_a_form_sent_faster_than_a_person_types_is_refused(client):
    petition = make_petition()
    response = sign(client, petition, language="fa", started=form_token(petition.pk))
    assert response.status_code == 400
    assert "لطفاً اطلاعاتتان را بررسی کنید" in response.content.decode()
    assert not Signature.objects.exists()
    assert BlockedAttempt.objects.get().reason == "too_fast"


def test_a_person_refused_for_speed_signs_by_pressing_again(client, settings):
    petition = make_petition()
    # The process's first request imports the URL modules, which can take longer than the 0.2 s.
    client.get(f"/en/p/{petition.slug}/")
    settings.SIGN_MIN_FILL_SECONDS = 0.2
    token = form_token(petition.pk)
    assert sign(client, petition, started=token).status_code == 400
    time.sleep(0.3)
    assert sign(client, petition, started=token).status_code == 302
    assert Signature.objects.count() == 1


def test_the_pages_form_token_never_understates_how_long_the_form_was_open(client):
    """Every visitor within the same ten seconds gets the same page, token included: the token
    dates from the start of those seconds, so it may make a form look older, never younger."""
    petition = make_petition()
    before = time.time()
    page = client.get(f"/fa/p/{petition.slug}/").content.decode()
    token = page.split('name="started" value="')[1].split('"')[0]
    age = form_token_age(token, petition.pk)
    assert 0 <= age < FORM_TOKEN_STEP_SECONDS + (time.time() - before)


def test_a_forged_start_time_is_refused_and_replaced(client):
    petition = make_petition()
    response = sign(client, petition, started="1700000000")
    assert response.status_code == 400
    assert 'name="started" value="1700000000"' not in response.content.decode()


def test_too_many_signatures_from_one_address_are_refused_in_the_page_language(client):
    petition = make_petition()
    for _ in range(3):
        assert sign(client, petition, ip="198.51.100.7").status_code == 302
    refused = sign(client, petition, language="fa", ip="198.51.100.7")

    assert refused.status_code == 429
    assert "لطفاً چند دقیقه صبر کنید" in refused.content.decode()
    assert refused["Retry-After"] == "300"
    assert Signature.objects.count() == 3
    blocked = BlockedAttempt.objects.get()
    assert (blocked.reason, blocked.attempts) == ("rate_ip", 1)
    assert "198.51.100.7" not in blocked.ip_hash

    # Someone else on the same petition is not held back.
    assert sign(client, petition, ip="203.0.113.9").status_code == 302


def test_a_flood_on_one_petition_is_capped(client, settings):
    settings.SIGN_RATE_PER_PETITION = "5/m"
    settings.SIGN_RATE_PER_IP = "100/m"
    petition, other = make_petition(), make_petition()
    statuses = [sign(client, petition, ip=f"198.51.100.{n}").status_code for n in range(7)]
    assert statuses == [302] * 5 + [429] * 2
    assert [(b.reason, b.attempts) for b in BlockedAttempt.objects.all()] == [
        ("rate_petition", 1),
        ("rate_petition", 1),
    ]
    assert sign(client, other).status_code == 302


def test_repeated_refusals_are_tallied_not_stored_one_by_one(client, settings):
    settings.SIGN_RATE_PER_IP = "100/m"
    petition = make_petition()
    for _ in range(10):
        sign(client, petition, website="bot")
    assert BlockedAttempt.objects.count() == 1
    assert BlockedAttempt.objects.get().attempts == 10


def test_one_click_is_protected_by_its_signed_cookie_not_the_timer(client):
    first, second = make_petition(), make_petition()
    sign(client, first)
    response = client.post(f"/en/p/{second.slug}/sign/", one_click_data(client, second))
    assert response.status_code == 302
    assert Signature.objects.filter(petition=second).count() == 1


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("20/10m", (20, 600)), ("6000/m", (6000, 60)), ("5/s", (5, 1)), ("3/2h", (3, 7200))],
)
def test_rates_read_as_attempts_per_seconds(rate, expected):
    from lib.ratelimit import parse_rate

    assert parse_rate(rate) == expected


def test_a_rate_that_is_not_one_is_refused():
    from lib.ratelimit import parse_rate

    with pytest.raises(ValueError):
        parse_rate("twenty a minute")


def test_each_limit_counts_its_own_window_in_the_shared_cache():
    """Through whichever shared cache is configured: Redis under CI, the database table on a
    laptop."""
    from django.conf import settings

    shared = settings.RATE_LIMIT_CACHE
    assert [count_hit(shared, "test-limit:a", 60) for _ in range(3)] == [1, 2, 3]
    assert count_hit(shared, "test-limit:b", 60) == 1


def test_a_window_that_expired_starts_again_at_one():
    from django.conf import settings
    from django.core.cache import caches

    shared = settings.RATE_LIMIT_CACHE
    assert count_hit(shared, "test-limit:expiring", 60) == 1
    # What its expiry does, in Redis and in the database.
    caches[shared].delete("test-limit:expiring")
    RateCounter.objects.filter(key="test-limit:expiring").update(expires_at=0)
    assert count_hit(shared, "test-limit:expiring", 60) == 1


class SilentRedis(threading.Thread):
    """A server that accepts connections and never answers: a Redis that hangs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]

    def run(self):
        conn, _ = self.server.accept()
        with conn:
            while conn.recv(65536):
                pass


def test_a_redis_that_stops_answering_fails_a_count_within_the_cache_timeout(settings):
    """Every cache call has a short timeout (settings.CACHES): a hung Redis must not hold a
    signer's thread for redis-py's default of no timeout at all."""

    redis = SilentRedis()
    redis.start()
    settings.CACHES = settings.CACHES | {
        "hung": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{redis.port}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
        }
    }
    started = time.monotonic()
    with pytest.raises(CacheUnavailable) as failure:
        count_hit("hung", "test-limit:hung", 60)
    assert "timeout" in repr(failure.value.__cause__).lower()
    assert time.monotonic() - started < 2


def test_one_ipv6_64_counts_as_one_address(client, settings):
    """Every IPv6 host has at least a /64 to itself: its addresses are one source to a limit."""
    settings.SIGN_RATE_PER_IP = "20/10m"
    petition = make_petition()
    statuses = [
        sign(client, petition, ip=f"2001:db8:1:2:{n:x}::1", email=f"p{n}@example.org").status_code
        for n in range(60)
    ]
    assert statuses == [302] * 20 + [429] * 40
    # Another /64 is another source.
    assert sign(client, petition, ip="2001:db8:1:3::1", email="q@example.org").status_code == 302


def test_an_ipv4_mapped_ipv6_address_is_its_ipv4_address(client):
    petition = make_petition()
    for n in range(3):
        sign(client, petition, ip="198.51.100.7", email=f"p{n}@example.org")
    refused = sign(client, petition, ip="::ffff:198.51.100.7", email="q@example.org")
    assert refused.status_code == 429


@pytest.mark.parametrize("forwarded", ["unknown", "1.2.3", "::ffff:zz", "fe80::1%eth0", "x" * 500])
def test_a_malformed_forwarded_address_signs_without_crashing(client, settings, forwarded):
    settings.NUM_PROXIES = 1
    petition = make_petition()
    response = client.post(
        f"/en/p/{petition.slug}/sign/",
        sign_form_data(petition),
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert response.status_code == 302


def test_junk_posts_do_not_lock_a_petition_for_real_signers(client, settings):
    settings.SIGN_RATE_PER_PETITION = "5/m"
    settings.SIGN_RATE_PER_IP = "100/m"
    petition = make_petition()
    for n in range(10):
        junk = client.post(f"/en/p/{petition.slug}/sign/", {}, REMOTE_ADDR=f"203.0.113.{n}")
        assert junk.status_code == 400
    assert sign(client, petition, ip="198.51.100.50").status_code == 302


@pytest.fixture
def database_cache(settings):
    """The shared cache as it is without Redis, whatever this run's CACHE_URL."""
    settings.CACHES = settings.CACHES | {
        "limits-db": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "shared_cache",
        }
    }
    return "limits-db"


def test_a_limit_without_redis_keeps_its_window_however_often_it_is_hit(
    database_cache, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from lib.ratelimit import WINDOW_GRACE_SECONDS

    start = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: start)
    assert [count_hit(database_cache, "test-limit:window", 600) for _ in range(30)][-1] == 30
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=400))
    assert count_hit(database_cache, "test-limit:window", 600) == 31
    later = start + timedelta(seconds=600 + WINDOW_GRACE_SECONDS + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert count_hit(database_cache, "test-limit:window", 600) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_limit_without_redis_counts_every_one_of_concurrent_hits(database_cache):
    from django.db import connection

    seen: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def hits():
        try:
            barrier.wait()
            mine = [count_hit(database_cache, "test-limit:race", 600) for _ in range(25)]
            with lock:
                seen.extend(mine)
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=hits) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(seen) == list(range(1, 201))


def test_a_limit_the_database_cannot_count_is_unchecked_not_refused(
    database_cache, settings, monkeypatch
):
    from django.db import OperationalError

    from signatures.abuse import check_limits

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    settings.RATE_LIMIT_CACHE = database_cache
    monkeypatch.setattr(RateCounter, "hit", down)
    verdict = check_limits(make_petition(), "somehash", onion=False, valid=True)
    assert not verdict.checked
    assert not verdict.refused
