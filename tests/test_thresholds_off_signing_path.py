"""Reaching a threshold adds nothing to signing: the signature that passes one costs the same
one statement as any other (tests/test_signing_cost.py), and the row appears only when the
periodic pass runs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from petitions import thresholds
from petitions.models import Threshold, ThresholdReached
from tests.factories import make_petition
from tests.test_signing_cost import post_signature, redis_limits  # noqa: F401 - a fixture


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_signature_that_passes_a_threshold_costs_one_statement(client, redis_limits):  # noqa: F811
    Threshold.objects.create(number=2, consequence_en="a response", owes_response=True)
    petition = make_petition()
    assert post_signature(client, petition).status_code == 302  # the petition's facts cached
    with CaptureQueriesContext(connection) as queries:
        assert post_signature(client, petition).status_code == 302
    assert [query["sql"].split()[0] for query in queries] == ["WITH"], queries.captured_queries
    assert not ThresholdReached.objects.exists()
    (row,) = thresholds.record_reached()
    assert (row.petition, row.number, row.count) == (petition, 2, 2)


def test_signing_code_never_mentions_thresholds():
    """The signing path (signatures/signing.py and the sign view) reaches no threshold code."""
    from pathlib import Path

    from django.conf import settings

    signing = (Path(settings.BASE_DIR) / "signatures/signing.py").read_text()
    assert "threshold" not in signing.lower()
