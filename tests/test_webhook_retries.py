"""A receiver that fails is tried again with the same webhook-id, backing off, for a day."""

import datetime
import random

import pytest
from django.utils import timezone

from integrations import webhooks
from integrations.models import Delivery
from tests.factories import make_endpoint, make_petition, make_signature
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver() as receiver:
        yield receiver


def queued_for(receiver) -> Delivery:
    petition = make_petition()
    make_endpoint(petition, url=receiver.url)
    make_signature(petition, consent_contact=True)
    webhooks.discover()
    return Delivery.objects.get()


def time_passes(delivery: Delivery) -> None:
    """The next attempt is due now."""
    Delivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now())


def test_a_failing_receiver_gets_the_same_message_id_until_it_answers(receiver):
    receiver.answers = [500, 503, 200]
    delivery = queued_for(receiver)
    before = timezone.now()
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("queued", 1, 500)
    assert "500" in delivery.error
    wait = delivery.due_at - before
    first = datetime.timedelta(seconds=30)
    assert first * 0.8 <= wait <= first * 1.2 + datetime.timedelta(seconds=5)
    assert webhooks.deliver_due() == {}  # not due yet
    time_passes(delivery)
    webhooks.deliver_due()
    time_passes(delivery)
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("delivered", 3, 200)
    assert delivery.error == ""
    ids = {request.headers["webhook-id"] for request in receiver.received}
    assert ids == {delivery.webhook_id}
    assert len({request.body for request in receiver.received}) == 1


def test_a_receiver_that_does_not_answer_in_time_is_tried_again(receiver, settings):
    settings.WEBHOOK_TIMEOUT = 0.3
    receiver.answers = ["hang", 204]
    receiver.hang_seconds = 1.5
    delivery = queued_for(receiver)
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.QUEUED
    assert delivery.status_code is None
    assert "no answer within 0.3 s" in delivery.error
    time_passes(delivery)
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.webhook_id] * 2


def test_a_redirect_is_a_failure_not_followed(receiver):
    receiver.answers = [302]
    delivery = queued_for(receiver)
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.status_code) == ("queued", 302)
    assert len(receiver.received) == 1


def test_the_pause_doubles_with_jitter_up_to_the_longest(settings):
    settings.WEBHOOK_RETRY_FIRST_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 4 * 3600

    class Lowest(random.Random):
        def uniform(self, a, b):
            return a

    class Highest(random.Random):
        def uniform(self, a, b):
            return b

    lowest = [webhooks.retry_delay(n, Lowest()).total_seconds() for n in range(1, 13)]
    highest = [webhooks.retry_delay(n, Highest()).total_seconds() for n in range(1, 13)]
    assert lowest[:4] == [24, 48, 96, 192]
    assert highest[:4] == [36, 72, 144, 288]
    assert max(highest) == 4 * 3600 * 1.2
    assert lowest[-1] == 4 * 3600 * 0.8
    drawn = {webhooks.retry_delay(3).total_seconds() for _ in range(20)}
    assert len(drawn) > 1
    assert all(96 <= seconds <= 144 for seconds in drawn)


def test_a_message_failing_for_a_day_is_given_up(receiver, settings):
    receiver.answers = [500, 500]
    delivery = queued_for(receiver)
    webhooks.deliver_due()
    time_passes(delivery)
    day = datetime.timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)
    Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - day)
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 2)
    time_passes(delivery)
    assert webhooks.deliver_due() == {}


def test_a_claim_lapses_so_a_dead_workers_message_is_sent_again(receiver):
    delivery = queued_for(receiver)
    (claimed,) = webhooks.claim()  # and the worker dies before it POSTs
    assert webhooks.claim() == []  # held by the claim
    Delivery.objects.filter(pk=delivery.pk).update(due_at=timezone.now())  # the claim lapses
    webhooks.deliver_due()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    assert receiver.received[0].headers["webhook-id"] == claimed.webhook_id
