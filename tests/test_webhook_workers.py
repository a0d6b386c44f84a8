"""Any number of dispatchers and delivering workers share the work: none waits on another's
rows, and none sends a row another holds."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from integrations import webhooks
from integrations.models import Delivery, Endpoint
from tests.factories import make_endpoint, make_petition, make_signature
from tests.webhook_receiver import Receiver


def in_another_connection(work):
    """`work()` on a thread of its own, so on a database connection of its own."""
    answer = []

    def run():
        try:
            answer.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return answer[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_skips_the_rows_another_worker_holds():
    petition = make_petition()
    make_endpoint(petition)
    for _ in range(6):
        make_signature(petition, consent_contact=True)
    webhooks.discover()
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    assert len(ids) == 6
    with transaction.atomic():
        held = list(Delivery.objects.filter(pk__in=ids[:3]).select_for_update())
        claimed = in_another_connection(webhooks.claim)
        assert sorted(row.pk for row in claimed) == ids[3:]
    assert len(held) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_skips_the_endpoint_another_is_reading():
    petition = make_petition()
    endpoint = make_endpoint(petition)
    make_signature(petition, consent_contact=True)
    with transaction.atomic():
        Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        assert in_another_connection(webhooks.discover) == 0
    assert webhooks.discover() == 1


@pytest.mark.django_db
def test_the_command_queues_and_with_the_immediate_backend_delivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver() as receiver:
        petition = make_petition()
        make_endpoint(petition, url=receiver.url)
        make_signature(petition, consent_contact=True)
        out = io.StringIO()
        call_command("webhooks", stdout=out)
    assert "Queued 1 webhook delivery" in out.getvalue()
    assert Delivery.objects.get().state == Delivery.State.DELIVERED
    assert len(receiver.received) == 1
