"""An endpoint whose every attempt failed for a day is turned off, and its owner told once, in
their language."""

import datetime

import pytest
from django.utils import timezone, translation

from integrations import webhooks
from integrations.models import Delivery, Endpoint
from tests.factories import make_endpoint, make_petition, make_signature
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db

SUBJECT = "Your webhook is turned off: every delivery failed"


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver() as receiver:
        yield receiver


def fail_once_more(endpoint, capture) -> None:
    Delivery.objects.filter(endpoint=endpoint).update(due_at=timezone.now())
    with capture(execute=True):
        webhooks.deliver_due()


def failing_endpoint(receiver, **fields) -> Endpoint:
    receiver.answers = [500] * 10
    petition = make_petition()
    endpoint = make_endpoint(petition, url=receiver.url, **fields)
    make_signature(petition, consent_contact=True)
    webhooks.discover()
    return endpoint


def a_day_ago(endpoint, settings) -> None:
    since = timezone.now() - datetime.timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS + 1)
    Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=since)


def test_failures_count_and_a_success_clears_the_streak(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = failing_endpoint(receiver)
    receiver.answers = [500, 500, 204]
    for _ in range(2):
        fail_once_more(endpoint, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.failure_streak == 2
    assert endpoint.failing_since is not None
    fail_once_more(endpoint, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert (endpoint.failure_streak, endpoint.failing_since, endpoint.active) == (0, None, True)


def test_failing_for_a_day_turns_the_endpoint_off_and_emails_its_owner_once(
    receiver, settings, mailoutbox, django_capture_on_commit_callbacks
):
    endpoint = failing_endpoint(receiver, owner_email="crm-team@example.org")
    fail_once_more(endpoint, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.active
    assert mailoutbox == []
    a_day_ago(endpoint, settings)
    fail_once_more(endpoint, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_at is not None
    (email,) = mailoutbox
    assert email.to == ["crm-team@example.org"]
    assert email.subject == SUBJECT
    assert endpoint.url in email.body
    assert "500" in email.body  # the last error
    assert f"/admin/integrations/endpoint/{endpoint.pk}/change/" in email.body
    # Off: nothing more is tried, and nobody is emailed again.
    sent = len(receiver.received)
    fail_once_more(endpoint, django_capture_on_commit_callbacks)
    assert len(receiver.received) == sent
    assert len(mailoutbox) == 1


def test_the_owner_is_told_in_persian_when_that_is_their_language(
    receiver, settings, mailoutbox, django_capture_on_commit_callbacks
):
    endpoint = failing_endpoint(receiver, owner_language="fa")
    a_day_ago(endpoint, settings)
    fail_once_more(endpoint, django_capture_on_commit_callbacks)
    (email,) = mailoutbox
    with translation.override("fa"):
        persian = translation.gettext(SUBJECT)
    assert persian != SUBJECT
    assert email.subject == persian
    assert email.extra_headers["Content-Language"] == "fa"
    html = email.alternatives[0][0]
    assert 'dir="rtl"' in html


def test_a_ping_is_sent_even_to_an_endpoint_turned_off(receiver):
    endpoint = make_endpoint(url=receiver.url, active=False)
    ping = webhooks.ping(endpoint, by="test")
    ping.refresh_from_db()
    assert ping.state == Delivery.State.DELIVERED
    assert receiver.received[0].headers["webhook-id"] == ping.webhook_id


def test_turning_an_endpoint_on_again_in_the_admin_clears_its_failures(admin_client):
    endpoint = make_endpoint(
        make_petition(), active=False, failure_streak=14, url="https://93.184.215.14/hooks",
        failing_since=timezone.now(), disabled_at=timezone.now(),
    )  # fmt: skip
    form = {
        "description": "", "petition": endpoint.petition_id, "url": endpoint.url,
        "events": endpoint.events, "active": "on", "owner_email": endpoint.owner_email,
        "owner_language": "en",
    }  # fmt: skip
    response = admin_client.post(f"/admin/integrations/endpoint/{endpoint.pk}/change/", form)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active
    failures = (endpoint.failure_streak, endpoint.failing_since, endpoint.disabled_at)
    assert failures == (0, None, None)
