"""Removals and erasures reach the receiver as the same signature id it was sent, with nothing
else about the person; a signer it was never sent is never mentioned."""

import json

import pytest

from integrations import webhooks
from integrations.models import Delivery, Event
from signatures.models import Signature
from tests.factories import make_endpoint, make_petition, make_signature
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    with Receiver() as receiver:
        yield receiver


def look_and_send(receiver) -> list[dict]:
    webhooks.discover()
    webhooks.deliver_due()
    return [json.loads(request.body) for request in receiver.received]


def sent_signer(receiver, **fields):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url)
    signature = make_signature(
        petition, consent_contact=True, name="Maryam Sadeghi", email="maryam@example.org",
        **fields,
    )  # fmt: skip
    (counted,) = look_and_send(receiver)
    return petition, signature, counted


def test_an_erased_signer_is_erased_by_the_same_id_and_never_named_again(receiver):
    petition, signature, counted = sent_signer(receiver)
    Signature.objects.filter(pk=signature.pk).erase(by="privacy officer", signer_request=True)
    _, erased = look_and_send(receiver)
    assert erased["type"] == "signature.erased"
    assert erased["data"] == {
        "signature": {"id": counted["data"]["signature"]["id"]},
        "petition": {"id": petition.pk, "slug": petition.slug},
    }
    body = receiver.received[-1].body
    assert b"maryam" not in body.lower()
    assert b"Sadeghi" not in body
    assert look_and_send(receiver)[2:] == []  # once


def test_a_moderators_deletion_is_an_erasure_too(receiver):
    _, signature, _ = sent_signer(receiver)
    Signature.objects.filter(pk=signature.pk).erase(by="moderator")
    assert [event["type"] for event in look_and_send(receiver)][1:] == ["signature.erased"]


def test_a_signer_erased_before_their_message_went_is_not_sent_at_all(receiver):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url)
    signature = make_signature(petition, consent_contact=True)
    webhooks.discover()
    Signature.objects.filter(pk=signature.pk).erase(by="privacy officer", signer_request=True)
    webhooks.deliver_due()
    assert receiver.received == []
    assert Delivery.objects.get(event=Event.SIGNATURE_COUNTED).state == Delivery.State.DROPPED
    # Nothing about them is queued either: the receiver never held them.
    look_and_send(receiver)
    assert receiver.received == []


def test_delivery_rows_never_hold_a_signers_details(receiver):
    _, signature, _ = sent_signer(receiver)
    Signature.objects.filter(pk=signature.pk).erase(by="privacy officer", signer_request=True)
    look_and_send(receiver)
    stored = json.dumps(list(Delivery.objects.values()), default=str)
    assert "maryam" not in stored.lower()


def test_an_invalidated_signer_is_removed_by_id_only(receiver):
    petition, signature, counted = sent_signer(receiver)
    Signature.objects.filter(pk=signature.pk).invalidate(by="moderator", detail="a bot")
    _, removed = look_and_send(receiver)
    assert removed["type"] == "signature.removed"
    assert removed["data"] == {
        "signature": {"id": counted["data"]["signature"]["id"]},
        "reason": "invalidated",
        "petition": {"id": petition.pk, "slug": petition.slug},
    }
    assert b"maryam" not in receiver.received[-1].body.lower()


def test_a_signer_who_withdraws_is_removed_by_id_only(receiver):
    petition, signature, counted = sent_signer(receiver)
    Signature.objects.filter(pk=signature.pk).withdraw()
    _, removed = look_and_send(receiver)
    assert removed["type"] == "signature.removed"
    assert removed["data"] == {
        "signature": {"id": counted["data"]["signature"]["id"]},
        "reason": "withdrawn",
        "petition": {"id": petition.pk, "slug": petition.slug},
    }
    assert b"maryam" not in receiver.received[-1].body.lower()


def test_a_signer_who_did_not_consent_is_not_mentioned_when_removed_or_erased(receiver):
    petition = make_petition()
    make_endpoint(petition, url=receiver.url)
    quiet = make_signature(petition, consent_contact=False)
    gone = make_signature(petition, consent_contact=False)
    look_and_send(receiver)
    Signature.objects.filter(pk=quiet.pk).invalidate(by="moderator")
    Signature.objects.filter(pk=gone.pk).erase(by="privacy officer", signer_request=True)
    assert look_and_send(receiver) == []
