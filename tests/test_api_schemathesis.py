"""Schemathesis drives every operation of the schema the app serves, in process over WSGI, and
checks each answer: no 5xx, and status code, content type, headers and body as the schema says.
The database is seeded so that most slugs it tries are found."""

import datetime

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from integrations import bulk
from integrations.api.endpoints import api
from petitions.models import Petition
from signatures.models import Signature
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


SLUGS = ["won-it", "نجات-دریاچه", "just-opened"]


def the_schema():
    """The schema as /api/v1/openapi.json serves it, built from the code without a request, with
    the seeded slugs as examples beside the random ones so that found answers are checked too."""
    raw = api.get_openapi_schema()
    for methods in raw["paths"].values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "slug":
                    parameter["schema"]["examples"] = SLUGS
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()  # in process, through every middleware
    return loaded


# A lazy schema (schemathesis.pytest.from_fixture) reads pytest's private Function._nodeid,
# which pytest 9 no longer has.
schema = the_schema()


@pytest.fixture(autouse=True)
def connection_kept_across_requests():
    """As Django's test client does: the WSGI handler would close the database connection after
    each request, and with it the test's transaction (PostgreSQL; SQLite's memory stays)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def seeded(db, settings, connection_kept_across_requests):
    settings.API_RATE_PER_IP = "100000/m"
    won = make_petition(
        slug=SLUGS[0],
        status=Petition.Status.CLOSED,
        outcome=Petition.Outcome.WON,
        response_fa="پاسخ وزارت",
        response_date=datetime.date(2026, 1, 2),
    )
    persian = make_petition(
        slug=SLUGS[1], title_en="", summary_en="", letter_en="", original_language="fa"
    )
    make_petition(slug=SLUGS[2])
    for n, petition in enumerate([won, persian]):
        for hours in range(6):
            signature = make_signature(petition, country=["IR", "GB", "DE"][hours % 3])
            moment = timezone.now() - datetime.timedelta(hours=hours * 7 + n)
            Signature.objects.filter(pk=signature.pk).update(created_at=moment)
    bulk.build()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_its_schema_says(case):
    case.call_and_validate()
