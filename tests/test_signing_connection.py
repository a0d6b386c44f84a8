"""The signing statement on PostgreSQL: prepared once per connection, and sent again on a new
connection when the database dropped the old one, without ever counting a signature twice."""

import psycopg
import pytest
from django.db import OperationalError, connection

from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.postgres


def prepared_signing_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%signatures_signaturecount%"],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_signing_statement_is_prepared_once_per_connection(client):
    petition = make_petition()
    for _ in range(3):
        assert client.post(f"/en/p/{petition.slug}/sign/", sign_form_data()).status_code == 302
    assert prepared_signing_statements() == 1
    assert SignatureCount.objects.total_for(petition.pk) == Signature.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_signature_goes_through_when_the_database_dropped_the_connection(client):
    petition = make_petition()
    assert client.post(f"/en/p/{petition.slug}/sign/", sign_form_data()).status_code == 302
    # What an idle timeout, a failover or a restarted PostgreSQL does to a persistent connection.
    backend = connection.connection.info.backend_pid
    dsn = connection.connection.info.dsn
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])

    assert client.post(f"/en/p/{petition.slug}/sign/", sign_form_data()).status_code == 302
    assert connection.connection.info.backend_pid != backend
    assert SignatureCount.objects.total_for(petition.pk) == Signature.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_signature_whose_answer_was_lost_is_not_counted_twice_when_sent_again(client):
    """The connection fails after PostgreSQL committed the signature: the statement is sent again,
    finds the email, and writes nothing; the signer gets the usual answer."""
    petition = make_petition()
    lost = []

    def lose_the_first_answer(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "signatures_signaturecount" in sql and not lost:
            lost.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return result

    with connection.execute_wrapper(lose_the_first_answer):
        response = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data())
    assert lost
    assert response.status_code == 302
    assert response["Location"] == f"/en/p/{petition.slug}/thanks/"
    assert SignatureCount.objects.total_for(petition.pk) == Signature.objects.count() == 1
