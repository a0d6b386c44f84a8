"""What one signature costs the database and the shared cache: counted, so that a regression shows
(the figures behind them are in docs/performance.md). SQL statements are counted with Django's
CaptureQueriesContext (Django's own `SELECT 1` connection health check bypasses it, and is not
counted); Redis round trips by counting what redis-py sends (one send per command, or one for a
whole pipeline)."""

import os
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lib.models import RateCounter
from petitions.models import Petition
from signatures.abuse import check_limits
from signatures.models import Signature, SignatureCount
from tests.conftest import running_in_ci
from tests.factories import make_petition, sign_form_data

REDIS_URL = os.environ.get("CACHE_URL", "").strip() or "redis://127.0.0.1:6379/15"


def broken_limit(petition, ip_hash: str, valid: bool = True) -> str | None:
    """The name of the signing limit this attempt breaks, if any."""
    verdict = check_limits(petition, ip_hash, onion=False, valid=valid)
    assert verdict.checked
    return verdict.broken.name if verdict.refused else None


def post_signature(client, petition, **fields):
    response = client.post(
        f"/en/p/{petition.slug}/sign/",
        sign_form_data(petition, **fields),
        HTTP_ORIGIN="http://testserver",
    )
    client.cookies.clear()
    return response


def redis_cache() -> dict:
    """Redis, under a prefix of this test's own."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError:
        if running_in_ci():
            pytest.fail("Redis is needed and CI must provide it")
        pytest.skip(f"needs Redis at {REDIS_URL}")
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
    }


@pytest.fixture
def redis_limits(settings):
    """The signing limits in Redis."""
    settings.CACHES = settings.CACHES | {"limits-redis": redis_cache()}
    settings.RATE_LIMIT_CACHE = "limits-redis"
    return "limits-redis"


@pytest.fixture
def all_in_redis(settings):
    """As production with CACHE_URL: every cache in Redis."""
    redis = redis_cache()
    settings.CACHES = {"default": redis, "shared": redis}
    settings.RATE_LIMIT_CACHE = "shared"


@pytest.fixture
def database_limits(settings, monkeypatch):
    """The signing limits as they are without Redis, with the occasional purge of expired rows
    kept out of the count."""
    settings.CACHES = settings.CACHES | {
        "limits-db": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "shared_cache",
        }
    }
    settings.RATE_LIMIT_CACHE = "limits-db"
    monkeypatch.setattr(RateCounter, "PURGE_ONE_IN", 10**9)
    return "limits-db"


@pytest.fixture(params=["redis_limits", "database_limits"])
def any_limits(request):
    return request.getfixturevalue(request.param)


class RedisRoundTrips:
    """Counts what redis-py sends: one send per command, or one for a whole pipeline."""

    def __init__(self, monkeypatch):
        from redis.connection import AbstractConnection

        self.sent = 0
        send = AbstractConnection.send_packed_command

        def counting(connection, command, check_health=True):
            self.sent += 1
            return send(connection, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)


@pytest.mark.django_db
def test_both_rate_limits_cost_one_redis_round_trip(redis_limits, monkeypatch):
    petition = make_petition()
    assert broken_limit(petition, "warm-up") is None  # the pool's connection made
    trips = RedisRoundTrips(monkeypatch)
    assert broken_limit(petition, "hash-a") is None
    assert trips.sent == 1
    assert broken_limit(petition, "hash-b", valid=False) is None
    assert trips.sent == 2


@pytest.mark.django_db
def test_limits_still_count_when_redis_has_forgotten_their_script(redis_limits, settings):
    """A restarted Redis holds no scripts: the first attempt after it loads the script again,
    and is counted like any other."""
    from django_redis import get_redis_connection

    settings.SIGN_RATE_PER_IP = "2/m"
    petition = make_petition()
    assert broken_limit(petition, "same") is None
    get_redis_connection(redis_limits).script_flush()
    assert broken_limit(petition, "same") is None
    assert broken_limit(petition, "same") == "rate_ip"


@pytest.mark.django_db
def test_both_rate_limits_cost_one_statement_without_redis(database_limits):
    petition = make_petition()
    with CaptureQueriesContext(connection) as queries:
        assert broken_limit(petition, "hash-a") is None
    # The savepoint around it is the test's transaction's, not production's.
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) == 1, statements
    assert sorted(RateCounter.objects.values_list("hits", flat=True)) == [1, 1]


@pytest.mark.django_db
def test_both_rate_limits_still_refuse_past_either_limit_in_one_round_trip(any_limits, settings):
    settings.SIGN_RATE_PER_IP = "2/m"
    settings.SIGN_RATE_PER_PETITION = "3/m"
    petition = make_petition()
    assert [broken_limit(petition, "same") for _ in range(3)] == [None, None, "rate_ip"]
    # The attempt the address's limit refused did not use up the petition's.
    assert broken_limit(petition, "other") is None
    assert broken_limit(petition, "third") == "rate_petition"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_signature_costs_one_sql_statement_on_postgresql(client, redis_limits):
    petition = make_petition()
    assert post_signature(client, petition).status_code == 302  # the petition's facts cached
    with CaptureQueriesContext(connection) as queries:
        assert post_signature(client, petition).status_code == 302
    assert [query["sql"].split()[0] for query in queries] == ["WITH"], queries.captured_queries
    assert Signature.objects.filter(petition=petition).count() == 2
    assert SignatureCount.objects.total_for(petition.pk) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_webhook_endpoints_add_nothing_to_signing(client, redis_limits):
    """The signatures table is the webhooks' outbox: signing writes nothing more for them."""
    from integrations.models import Delivery
    from tests.factories import make_endpoint

    petition = make_petition()
    make_endpoint(petition)
    make_endpoint(None)  # and one for every petition
    assert post_signature(client, petition).status_code == 302
    with CaptureQueriesContext(connection) as queries:
        assert post_signature(client, petition, consent_contact="on").status_code == 302
    assert [query["sql"].split()[0] for query in queries] == ["WITH"], queries.captured_queries
    assert "integrations" not in queries[0]["sql"]
    assert Signature.objects.filter(petition=petition, consent_contact=True).count() == 1
    assert not Delivery.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_signature_with_redis_costs_one_statement_and_one_redis_round_trip(
    client, all_in_redis, monkeypatch
):
    """Both limits in one script; nothing of the petition is read, not even on its first
    signature: the form's token names it and the signing statement checks it."""
    warm = make_petition()
    assert post_signature(client, warm).status_code == 302  # the pool's connections made
    petition = make_petition()
    trips = RedisRoundTrips(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert post_signature(client, petition).status_code == 302
    assert [query["sql"].split()[0] for query in queries] == ["WITH"], queries.captured_queries
    assert trips.sent == 1
    assert SignatureCount.objects.total_for(petition.pk) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_form_token_of_another_petition_signs_neither(client):
    """The statement finds the token's petition under another address and writes nothing; the
    petition read, the form is refused as any form made for another petition is."""
    shown, posted_to = make_petition(), make_petition()
    data = sign_form_data(shown, email="elsewhere@example.com")
    response = client.post(f"/en/p/{posted_to.slug}/sign/", data, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 400
    assert posted_to.title_en in response.content.decode()
    assert not Signature.objects.filter(email="elsewhere@example.com").exists()
    assert SignatureCount.objects.total_for(shown.pk) == 0
    assert SignatureCount.objects.total_for(posted_to.pk) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_repeat_read_again_counts_once_against_the_limits(client, settings):
    """A repeat writes nothing, so signing reads the petition and asks again: with the limits'
    first answer, not a second hit."""
    settings.SIGN_RATE_PER_IP = "3/m"
    petition = make_petition()
    assert post_signature(client, petition, email="once@example.com").status_code == 302
    assert post_signature(client, petition, email="once@example.com").status_code == 302
    assert post_signature(client, petition, email="third@example.com").status_code == 302
    assert post_signature(client, petition, email="fourth@example.com").status_code == 429
    assert SignatureCount.objects.total_for(petition.pk) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_signature_without_redis_costs_two_statements_on_postgresql(
    client, database_limits, settings
):
    """Both limits in one statement, the signature and its count in another; the petition's facts
    from the process's own memory."""
    settings.CACHES = settings.CACHES | {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    petition = make_petition()
    assert post_signature(client, petition).status_code == 302
    with CaptureQueriesContext(connection) as queries:
        assert post_signature(client, petition).status_code == 302
    statements = [query["sql"] for query in queries]
    assert [sql.split()[0] for sql in statements] == ["INSERT", "WITH"], statements
    assert "lib_ratecounter" in statements[0]
    assert SignatureCount.objects.total_for(petition.pk) == 2


@pytest.mark.django_db(transaction=True)
def test_one_signature_counts_both_limits_in_one_statement_on_any_database(client, database_limits):
    petition = make_petition()
    assert post_signature(client, petition).status_code == 302
    with CaptureQueriesContext(connection) as queries:
        assert post_signature(client, petition).status_code == 302
    limits = [query["sql"] for query in queries if "ratecounter" in query["sql"]]
    assert len(limits) == 1, limits
    assert Signature.objects.filter(petition=petition).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_petition_closed_behind_the_cached_facts_takes_no_signature(client):
    petition = make_petition()
    assert post_signature(client, petition).status_code == 302
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.CLOSED)
    refused = post_signature(client, petition)
    assert refused.status_code == 302
    assert refused.url == f"/en/p/{petition.slug}/"
    assert Signature.objects.filter(petition=petition).count() == 1
    assert SignatureCount.objects.total_for(petition.pk) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_confirmation_turned_on_behind_the_cached_facts_holds_the_next_signature(client):
    petition = make_petition()
    assert post_signature(client, petition).status_code == 302
    Petition.objects.filter(pk=petition.pk).update(requires_confirmation=True)
    held = post_signature(client, petition, email="late@example.com")
    assert held.url.endswith("?check=email")
    assert Signature.objects.get(email="late@example.com").status == Signature.Status.PENDING
    assert SignatureCount.objects.total_for(petition.pk) == 1
