"""PostgreSQL plans the signing statement once per connection, not once per signature: psycopg
binds parameters on the server and keeps a statement prepared after a few runs (docs/scaling.md).
Behind PgBouncer 1.18 nothing is prepared (tests/test_pgbouncer.py)."""

import pytest
from django.db import connection
from django.test import Client

from signatures.models import Signature
from tests.factories import make_petition, sign_form_data
from tests.test_dependency_timeouts import run_with_settings

DIRECT = "postgres://petitions@127.0.0.1:5432/petitions"
SHOW_OPTIONS = (
    "from django.conf import settings\nprint(json.dumps(settings.DATABASES['default']['OPTIONS']))"
)


def test_a_direct_connection_binds_on_the_server_and_prepares_after_five_runs():
    found = run_with_settings(SHOW_OPTIONS, DATABASE_URL=DIRECT)
    assert found["server_side_binding"] is True
    assert found["prepare_threshold"] == 5


def test_a_prepare_threshold_of_zero_prepares_nothing():
    found = run_with_settings(SHOW_OPTIONS, DATABASE_URL=DIRECT, DB_PREPARE_THRESHOLD="0")
    assert found["prepare_threshold"] is None


@pytest.mark.postgres
@pytest.mark.django_db
def test_signing_many_times_on_one_connection_keeps_the_signing_statement_prepared():
    petition = make_petition()
    client = Client()
    for _ in range(7):
        response = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
        assert response.status_code == 302
    assert Signature.objects.filter(petition=petition).count() == 7
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements "
            "WHERE statement LIKE %s AND statement LIKE %s",
            ['%INSERT INTO "signatures_signature"%', "%signatures_signaturecount%"],
        )
        assert cursor.fetchone()[0] == 1
