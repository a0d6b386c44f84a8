import socket
import threading
import time

import pytest

from signatures.models import BlockedAttempt, Signature
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _low_limits(settings):
    settings.SIGN_RATE_PER_IP = "3/m"
    settings.SIGN_RATE_PER_PETITION = "1000/m"


def sign(client, petition, language="en", ip="198.51.100.1", **fields):
    return client.post(
        f"/{language}/p/{petition.slug}/sign/", sign_form_data(**fields), REMOTE_ADDR=ip
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
    page = client.get(f"/fa/p/{petition.slug}/").content.decode()
    token = page.split('name="started" value="')[1].split('"')[0]
    response = sign(client, petition, language="fa", started=token)
    assert response.status_code == 400
    assert "لطفاً اطلاعاتتان را بررسی کنید" in response.content.decode()
    assert not Signature.objects.exists()
    assert BlockedAttempt.objects.get().reason == "too_fast"


def test_a_person_refused_for_speed_signs_by_pressing_again(client, settings):
    petition = make_petition()
    settings.SIGN_MIN_FILL_SECONDS = 0.2
    page = client.get(f"/en/p/{petition.slug}/").content.decode()
    token = page.split('name="started" value="')[1].split('"')[0]
    assert sign(client, petition, started=token).status_code == 400
    import time

    time.sleep(0.3)
    assert sign(client, petition, started=token).status_code == 302
    assert Signature.objects.count() == 1


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
    response = client.post(f"/en/p/{second.slug}/sign/", {"one_click": "1"})
    assert response.status_code == 302
    assert Signature.objects.filter(petition=second).count() == 1


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("20/10m", (20, 600)), ("6000/m", (6000, 60)), ("5/s", (5, 1)), ("3/2h", (3, 7200))],
)
def test_rates_read_as_attempts_per_seconds(rate, expected):
    from signatures.abuse import parse_rate

    assert parse_rate(rate) == expected


def test_a_rate_that_is_not_one_is_refused():
    from signatures.abuse import parse_rate

    with pytest.raises(ValueError):
        parse_rate("twenty a minute")


def test_each_limit_counts_its_own_window_in_the_shared_cache():
    """Through whichever shared cache is configured: Redis (one command for both) under CI, the
    database table on a laptop."""
    from django.conf import settings
    from django.core.cache import caches

    from signatures.abuse import count_hits

    shared = caches[settings.SIGN_RATE_CACHE]
    windows = [("test-limit:a", 60), ("test-limit:b", 60)]
    assert count_hits(shared, windows) == [1, 1]
    assert count_hits(shared, windows) == [2, 2]
    assert count_hits(shared, windows[1:]) == [3]


def test_a_count_whose_answer_was_never_read_does_not_answer_the_next():
    from django.conf import settings
    from django.core.cache import caches

    from signatures.abuse import send_hits

    shared = caches[settings.SIGN_RATE_CACHE]
    windows = [("test-limit:unread", 60)]
    send_hits(shared, windows)  # counted, but its answer is never read
    assert send_hits(shared, windows)() == [2]


def test_counting_still_works_after_redis_forgets_its_scripts():
    """A restarted or flushed Redis no longer knows the counting script by its hash."""
    from django.conf import settings
    from django.core.cache import caches

    from signatures.abuse import count_hits

    shared = caches[settings.SIGN_RATE_CACHE]
    if not hasattr(shared, "send_count_hits"):
        pytest.skip("the shared cache is not Redis here (it is under CI)")
    windows = [("test-limit:flushed", 60)]
    assert count_hits(shared, windows) == [1]
    shared._cache.get_client(write=True).script_flush()
    assert count_hits(shared, windows) == [2]


class Chunks:
    """A socket that hands over its bytes a few at a time, as TCP may."""

    def __init__(self, data: bytes, size: int):
        self.parts = [data[i : i + size] for i in range(0, len(data), size)]

    def recv(self, _limit):
        return self.parts.pop(0) if self.parts else b""


@pytest.mark.parametrize("size", [1, 3, 100])
def test_redis_answers_are_read_whole_however_they_arrive(size):
    from config.cache import _read_integers

    assert _read_integers(Chunks(b"*2\r\n:17\r\n:1\r\n", size), 2) == [17, 1]


def test_a_redis_error_or_a_strange_answer_is_raised_not_counted():
    from redis import exceptions

    from config.cache import _read_integers

    with pytest.raises(exceptions.NoScriptError):
        _read_integers(Chunks(b"-NOSCRIPT No matching script.\r\n", 4), 1)
    with pytest.raises(exceptions.ResponseError, match="not an integer"):
        _read_integers(Chunks(b"-ERR value is not an integer\r\n", 100), 1)
    with pytest.raises(exceptions.ResponseError, match="Unexpected"):
        _read_integers(Chunks(b"*2\r\n$1\r\na\r\n", 100), 2)
    with pytest.raises(exceptions.ResponseError, match="Unexpected"):
        _read_integers(Chunks(b"*1\r\n:1\r\n:2\r\n", 100), 1)
    with pytest.raises(exceptions.ConnectionError):
        _read_integers(Chunks(b"*2\r\n:1\r\n", 100), 2)


def test_counting_goes_on_after_redis_refuses_a_count():
    """A key that is not a counter makes Redis answer with an error: that count fails, and the
    thread's next count works on a fresh connection."""
    from django.conf import settings
    from django.core.cache import caches
    from redis import exceptions

    from signatures.abuse import count_hits

    shared = caches[settings.SIGN_RATE_CACHE]
    if not hasattr(shared, "send_count_hits"):
        pytest.skip("the shared cache is not Redis here (it is under CI)")
    shared.set("test-limit:text", "not a number", 60)
    with pytest.raises(exceptions.ResponseError):
        count_hits(shared, [("test-limit:text", 60)])
    assert count_hits(shared, [("test-limit:fine", 60)]) == [1]


class SilentRedis(threading.Thread):
    """A server that answers +OK to redis-py's greeting on connecting, then never answers a
    count: a Redis that hangs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]

    def run(self):
        conn, _ = self.server.accept()
        with conn:
            while data := conn.recv(65536):
                if b"EVALSHA" in data:
                    time.sleep(5)
                    return
                if b"HELLO" in data:  # redis-py's greeting, answered as Redis 7 does
                    conn.sendall(b"%1\r\n$5\r\nproto\r\n:3\r\n")
                else:
                    commands = data.count(b"\r\n*") + data.startswith(b"*")
                    conn.sendall(b"+OK\r\n" * commands)


def test_a_redis_that_stops_answering_fails_the_count_within_its_timeout():
    """Counting sockets block with a timeout the kernel keeps; a hung Redis must still not hold a
    signer's thread longer than it."""
    from redis import exceptions

    from config.cache import RedisCache
    from signatures.abuse import count_hits

    redis = SilentRedis()
    redis.start()
    cache = RedisCache(f"redis://127.0.0.1:{redis.port}/0", {"OPTIONS": {"socket_timeout": 0.3}})
    started = time.monotonic()
    with pytest.raises(exceptions.TimeoutError):
        count_hits(cache, [("test-limit:hung", 60)])
    assert time.monotonic() - started < 2
