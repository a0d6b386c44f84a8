"""The supporter who makes the number sends the petition for review by themselves: once, with an
audit entry, and its starter is emailed in their language."""

import re

import pytest
from django.core import mail

from lib.models import AuditEntry
from petitions import cosponsors
from petitions.models import Petition
from tests.factories import make_cosponsor, make_gathering_petition

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _three_required(settings):
    settings.COSPONSORS_REQUIRED = 3


def test_one_short_of_the_number_it_keeps_gathering():
    petition = make_gathering_petition()
    for cosponsor in [make_cosponsor(petition, confirmed=False) for _ in range(3)][:2]:
        cosponsors.confirm(cosponsor)
    assert Petition.objects.get(pk=petition.pk).status == Petition.Status.GATHERING
    assert not AuditEntry.objects.exists()
    assert mail.outbox == []


def test_the_last_confirmation_sends_it_for_review_with_an_audit_entry_and_an_email():
    petition = make_gathering_petition(starter_language="fa")
    waiting = [make_cosponsor(petition, confirmed=False) for _ in range(3)]
    for cosponsor in waiting:
        cosponsors.confirm(cosponsor)

    petition.refresh_from_db()
    assert petition.status == Petition.Status.PENDING
    assert list(Petition.objects.waiting_for_review()) == [petition]
    [entry] = AuditEntry.objects.all()
    assert entry.action == AuditEntry.Action.PETITION_SUPPORTED
    assert entry.target == petition and entry.actor is None
    assert entry.detail == {"supporters": 3}
    [message] = mail.outbox
    assert message.to == [petition.starter_email]
    assert message.extra_headers["Content-Language"] == "fa"
    assert "۳" in message.body  # the number of supporters, in Persian digits
    assert re.search(r"/fa/start/link/\S+/", message.body)


def test_confirming_again_or_a_supporter_past_the_number_does_not_send_it_twice():
    petition = make_gathering_petition()
    supporters = [make_cosponsor(petition, confirmed=False) for _ in range(4)]
    for cosponsor in supporters:
        cosponsors.confirm(cosponsor)
    cosponsors.confirm(supporters[0])
    assert AuditEntry.objects.count() == 1
    assert len(mail.outbox) == 1


def test_unconfirmed_and_starter_rows_do_not_make_the_number():
    petition = make_gathering_petition()
    make_cosponsor(petition, confirmed=False)
    make_cosponsor(petition, email=petition.starter_email, confirmed=True)
    make_cosponsor(petition)
    cosponsors.confirm(make_cosponsor(petition, confirmed=False))
    assert cosponsors.supporters_count(petition) == 2
    assert Petition.objects.get(pk=petition.pk).status == Petition.Status.GATHERING


def test_after_the_number_is_lowered_the_petitions_that_have_it_go_for_review(settings):
    from django.core.management import call_command

    ready, short = make_gathering_petition(), make_gathering_petition()
    for _ in range(2):
        make_cosponsor(ready)
    make_cosponsor(short)
    settings.COSPONSORS_REQUIRED = 2

    call_command("send_supported_for_review")

    assert Petition.objects.get(pk=ready.pk).status == Petition.Status.PENDING
    assert Petition.objects.get(pk=short.pk).status == Petition.Status.GATHERING
    assert AuditEntry.objects.get().target == ready
    assert [message.to for message in mail.outbox] == [[ready.starter_email]]
