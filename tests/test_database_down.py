"""When PostgreSQL goes away: a 503 that says "try again" in the reader's language, and no
half-written signature when it comes back."""

from unittest import mock

import pytest
from django.db import OperationalError, connection

from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db


def database_down():
    return mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=OperationalError("connection refused"),
    )


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "Please try again in a moment"), ("fa", "لطفاً کمی بعد دوباره امتحان کنید")],
)
def test_pages_answer_503_in_their_language_when_the_database_is_down(client, language, text):
    petition = make_petition()
    with database_down():
        response = client.get(f"/{language}/p/{petition.slug}/")
    assert response.status_code == 503
    html = response.content.decode()
    assert text in html
    assert f'lang="{language}"' in html
    assert response["Retry-After"]


def test_healthz_says_the_database_is_down(client):
    with database_down():
        response = client.get("/healthz")
    assert response.status_code == 503


def test_a_signature_interrupted_by_the_database_leaves_nothing_half_written(client):
    petition = make_petition()

    def lose_the_connection_when_counting(execute, sql, params, many, context):
        if "signatures_signaturecount" in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(lose_the_connection_when_counting):
        response = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    assert response.status_code == 503
    # The insert and the count move together or not at all.
    assert not Signature.objects.exists()
    assert SignatureCount.objects.total_for(petition.pk) == 0

    # The database is back: the same signature goes through once.
    assert client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition)).status_code == 302
    assert SignatureCount.objects.total_for(petition.pk) == Signature.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_signature_goes_through_after_the_database_dropped_the_connection(client):
    """An idle timeout, a failover or a restarted PostgreSQL kills a kept connection: Django's
    health check at the start of the next request finds it dead and opens another."""
    import psycopg
    from django.db import close_old_connections, connection

    petition = make_petition()
    assert client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition)).status_code == 302
    backend = connection.connection.info.backend_pid
    with psycopg.connect(connection.connection.info.dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    # What every request's start does under a real server (the test client leaves it out): with
    # CONN_HEALTH_CHECKS, the next use of the kept connection checks it first.
    close_old_connections()

    assert client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition)).status_code == 302
    assert connection.connection.info.backend_pid != backend
    assert SignatureCount.objects.total_for(petition.pk) == Signature.objects.count() == 2


def test_count_json_answers_the_last_count_while_the_database_is_down(client):
    import time as clock

    from signatures.counting import COUNT_CACHE_SECONDS

    petition = make_petition()
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["count"] == 0
    clock.sleep(COUNT_CACHE_SECONDS + 0.05)  # the second's count is gone; the last one is kept
    with database_down():
        response = client.get(f"/en/p/{petition.slug}/count.json")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_count_json_of_a_petition_never_counted_is_a_503_while_the_database_is_down(client):
    with database_down():
        response = client.get("/en/p/never-counted/count.json")
    assert response.status_code == 503
