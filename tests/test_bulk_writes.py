"""Bulk writes past the number of parameters PostgreSQL takes in one statement (65,535 with
server-side binding, which settings.py turns on) are cut into statements that fit."""

import pytest
from django.db import connection
from django.db.models.functions import Now

from petitions.demo.loader import load_demo
from signatures.models import Signature, SignatureCount
from tests.factories import make_petition


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
