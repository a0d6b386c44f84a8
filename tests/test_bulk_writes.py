"""Bulk writes past the number of parameters PostgreSQL takes in one statement (65,535 with
server-side binding, which settings.py turns on) are cut into statements that fit."""

import datetime

import pytest
from django.db import connection
from django.db.models import Sum
from django.db.models.functions import Now

from petitions.demo.loader import load_demo
from signatures import history
from signatures.models import HourlyCount, Signature, SignatureCount
from tests.factories import make_petition, make_signature


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_bulk_insert_past_the_parameter_limit_is_stored_whole():
    assert connection.features.uses_server_side_binding
    petition = make_petition()
    # An expression in a row keeps Django from sending each column as one array (UNNEST), so
    # every value is a parameter: 4,000 rows of about 20 columns.
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            name=f"Bulk {n}",
            email=f"bulk-{n}@example.com",
            email_canonical=f"bulk-{n}@example.com",
            created_at=Now(),
        )
        for n in range(4000)
    )
    assert Signature.objects.filter(petition=petition).count() == 4000


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_demo_petition_loads_on_postgresql():
    """`manage.py load_demo` (and the fault suite, which runs it) adds its signers 5,000 at a
    time, about 110,000 parameters a batch."""
    petition = load_demo(signatures=6000)
    assert Signature.objects.filter(petition=petition).count() == 6000
    assert SignatureCount.objects.total_for(petition.pk) == 6000


@pytest.mark.postgres
@pytest.mark.django_db
def test_hourly_counts_rebuild_for_a_petition_signed_in_more_hours_than_parameters():
    """A petition signed in 65,536 different hours (seven and a half years open): its rebuild
    names every hour it keeps, more than one statement can carry as parameters."""
    petition = make_petition()
    first = make_signature(petition, email="hour-0@example.com")
    hours = 65_536
    columns = [
        field.column
        for field in Signature._meta.concrete_fields
        if field.column not in ("id", "email", "email_canonical", "created_at", "receipt")
    ]
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Signature._meta.db_table} "  # noqa: S608 - names from the model
            f"({names}, email, email_canonical, created_at) "
            f"SELECT {names}, 'hour-' || n || '@example.com', 'hour-' || n || '@example.com', "
            "created_at - n * interval '1 hour' "
            f"FROM {Signature._meta.db_table}, generate_series(1, %s) n WHERE id = %s",
            [hours - 1, first.pk],
        )
    # A stale hour, which the rebuild must drop.
    HourlyCount.objects.create(
        petition=petition, hour=first.created_at - datetime.timedelta(days=4000), signatures=3
    )

    assert history.rebuild(petition.pk) == hours
    kept = HourlyCount.objects.filter(petition=petition)
    assert kept.count() == hours
    assert kept.aggregate(n=Sum("signatures"))["n"] == hours
