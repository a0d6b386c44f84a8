"""Each webhook event's payload, found by reading what the site writes; consenting signers only."""

import datetime
import json

import pytest
from django.utils import timezone

from integrations import webhooks
from integrations.models import Delivery, Event
from petitions import moderation, thresholds
from petitions.models import Petition, Threshold
from signatures.models import Signature
from signatures.signing import confirm
from tests.factories import make_endpoint, make_petition, make_signature
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver() as receiver:
        yield receiver


def look_and_send() -> list[dict]:
    webhooks.discover()
    webhooks.deliver_due()
    return [json.loads(row.body) for row in received_so_far()]


_receivers: list[Receiver] = []


def received_so_far():
    return _receivers[-1].received


@pytest.fixture(autouse=True)
def _track(receiver):
    _receivers.append(receiver)
    yield
    _receivers.pop()


def test_a_consenting_signer_is_sent_with_their_contact_details(receiver):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url)
    signature = make_signature(
        petition, name="Leyla Karimi", email="Leyla@Example.org", country="DE",
        consent_contact=True, language="fa", source="link:newsletter",
    )  # fmt: skip
    (event,) = look_and_send()
    assert event["type"] == "signature.counted"
    assert event["data"]["signature"] == {
        "id": signature.pk,
        "name": "Leyla Karimi",
        "email": "Leyla@Example.org",
        "country": "DE",
        "language": "fa",
        "source": "link:newsletter",
        "signed_at": event["timestamp"],
        "counted_at": event["timestamp"],
    }
    assert event["data"]["petition"]["id"] == petition.pk
    assert event["data"]["petition"]["slug"] == petition.slug
    sent = datetime.datetime.fromisoformat(event["timestamp"])
    assert abs(sent - signature.created_at) < datetime.timedelta(seconds=1)


def test_a_signer_who_did_not_consent_is_never_sent(receiver):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url)
    silent = make_signature(petition, email="silent@example.org", consent_contact=False)
    make_signature(petition, email="yes@example.org", consent_contact=True)
    events = look_and_send()
    assert [event["data"]["signature"]["email"] for event in events] == ["yes@example.org"]
    assert not Delivery.objects.filter(subject_id=silent.pk).exists()
    bodies = b"".join(row.body for row in receiver.received)
    assert b"silent@example.org" not in bodies


def test_a_signer_who_withdraws_consent_before_the_send_is_not_sent(receiver):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url)
    signature = make_signature(petition, consent_contact=True)
    webhooks.discover()
    Signature.objects.filter(pk=signature.pk).update(consent_contact=False)
    webhooks.deliver_due()
    assert receiver.received == []
    assert Delivery.objects.get().state == Delivery.State.DROPPED


def test_a_pending_signer_is_sent_when_they_confirm_even_if_they_signed_long_before(receiver):
    petition = make_petition(requires_confirmation=True)
    signature = make_signature(
        petition, consent_contact=True, status=Signature.Status.PENDING,
        created_at=timezone.now() - datetime.timedelta(hours=30),
    )  # fmt: skip
    make_endpoint(petition, url=receiver.url)
    assert look_and_send() == []
    confirm(signature.pk, signature.email_canonical)
    (event,) = look_and_send()
    assert event["data"]["signature"]["id"] == signature.pk
    assert event["data"]["signature"]["counted_at"] > event["data"]["signature"]["signed_at"]


def test_looking_twice_queues_nothing_twice(receiver):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url)
    make_signature(petition, consent_contact=True)
    look_and_send()
    look_and_send()
    assert len(receiver.received) == 1


def test_signers_before_the_endpoint_existed_are_not_sent(receiver):
    petition = make_petition()
    make_signature(
        petition, consent_contact=True, created_at=timezone.now() - datetime.timedelta(hours=1)
    )
    make_endpoint(petition, url=receiver.url)
    assert look_and_send() == []


def test_an_endpoint_hears_only_its_own_petition_and_its_chosen_events(receiver):
    mine, other = make_petition(), make_petition()
    make_endpoint(mine, url=receiver.url, events=[Event.PETITION_CLOSED])
    make_signature(mine, consent_contact=True)
    make_signature(other, consent_contact=True)
    assert look_and_send() == []


def test_a_site_wide_endpoint_hears_every_petition(receiver):
    first, second = make_petition(), make_petition()
    make_endpoint(None, url=receiver.url, events=[Event.SIGNATURE_COUNTED])
    make_signature(first, consent_contact=True)
    make_signature(second, consent_contact=True)
    events = look_and_send()
    assert {event["data"]["petition"]["id"] for event in events} == {first.pk, second.pk}


def test_publishing_sends_petition_published(receiver):
    petition = make_petition(status=Petition.Status.PENDING, opened_at=None)
    make_endpoint(petition, url=receiver.url)
    assert look_and_send() == []
    moderation.publish(petition, by="moderator")
    (event,) = look_and_send()
    assert event["type"] == "petition.published"
    assert event["data"]["petition"]["title"] == {"en": petition.title_en, "fa": petition.title_fa}
    assert event["data"]["petition"]["url"].endswith(f"/en/p/{petition.slug}/")


def test_a_threshold_the_petition_reaches_is_sent_once_with_its_consequence(receiver):
    petition = make_petition()
    Threshold.objects.create(
        number=2,
        consequence_en="a written response",
        consequence_fa="پاسخ کتبی",
        owes_response=True,
        deadline_days=30,
    )
    make_endpoint(petition, url=receiver.url, events=[Event.THRESHOLD_REACHED])
    make_signature(petition)
    thresholds.record_reached()
    assert look_and_send() == []
    make_signature(petition)
    (reached,) = thresholds.record_reached()
    (event,) = look_and_send()
    assert event["type"] == "threshold.reached"
    assert datetime.datetime.fromisoformat(event["timestamp"]) == reached.reached_at
    data = event["data"]
    assert (data["threshold"], data["signatures"]) == (2, 2)
    assert data["consequence"] == {"en": "a written response", "fa": "پاسخ کتبی"}
    assert datetime.datetime.fromisoformat(data["respond_by"]) == reached.respond_by
    thresholds.record_reached()
    assert look_and_send() == [event]  # the same delivery, not a second event


def test_a_threshold_reached_before_the_endpoint_existed_is_not_announced(receiver):
    petition = make_petition()
    Threshold.objects.create(number=1, consequence_en="a response")
    make_signature(petition)
    thresholds.record_reached()
    make_endpoint(petition, url=receiver.url, events=[Event.THRESHOLD_REACHED])
    assert look_and_send() == []


def test_a_closing_date_passing_sends_petition_closed(receiver):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url, events=[Event.PETITION_CLOSED])
    assert look_and_send() == []
    closes_at = timezone.now()
    Petition.objects.filter(pk=petition.pk).update(closes_at=closes_at)
    (event,) = look_and_send()
    assert event["type"] == "petition.closed"
    assert datetime.datetime.fromisoformat(event["timestamp"]) == closes_at
    assert look_and_send() == [event]


def test_closing_by_hand_sends_petition_closed(receiver):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url, events=[Event.PETITION_CLOSED])
    petition.close(by="mo", reason=Petition.ClosedReason.DONE)
    (event,) = look_and_send()
    assert event["data"]["petition"]["id"] == petition.pk
    assert datetime.datetime.fromisoformat(event["timestamp"]) == petition.closed_at
