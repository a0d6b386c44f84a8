"""Supporters become counted signatures when a moderator publishes the petition, exactly once;
a petition sent back never counts them anywhere. Moderators see how many there are."""

import pytest
from django.conf import settings

from lib.models import AuditEntry
from petitions import moderation
from petitions.models import Cosponsor, Petition
from signatures.models import Signature, SignatureCount
from tests.factories import make_cosponsor, make_gathering_petition, make_staff

pytestmark = pytest.mark.django_db


def waiting_with_supporters(confirmed: int, unconfirmed: int = 0) -> Petition:
    petition = make_gathering_petition()
    for _ in range(confirmed):
        make_cosponsor(petition)
    for _ in range(unconfirmed):
        make_cosponsor(petition, confirmed=False)
    make_cosponsor(petition, email=petition.starter_email)  # the starter, under their own link
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.PENDING)
    return Petition.objects.get(pk=petition.pk)


def test_publishing_counts_each_confirmed_supporter_once_as_a_signature():
    petition = waiting_with_supporters(confirmed=4, unconfirmed=2)
    moderation.publish(petition, by=make_staff())

    signatures = Signature.objects.filter(petition=petition)
    assert signatures.count() == 4
    assert SignatureCount.objects.total_for(petition.pk) == signatures.counted().count() == 4
    assert not signatures.filter(email_canonical=petition.starter_email_canonical).exists()
    assert not signatures.filter(show_name=True).exists()
    assert not Cosponsor.objects.filter(petition=petition).exists()
    with pytest.raises(moderation.NotWaiting):
        moderation.publish(petition, by=make_staff("second"))
    assert SignatureCount.objects.total_for(petition.pk) == signatures.count() == 4


def test_the_publishing_audit_entry_says_how_many_supporters_were_counted():
    petition = waiting_with_supporters(confirmed=2)
    moderation.publish(petition, by=make_staff())
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PETITION_PUBLISHED)
    assert entry.detail == {"supporters": 2}


def test_a_petition_sent_back_never_counts_its_supporters():
    petition = waiting_with_supporters(confirmed=3)
    moderation.reject(petition, by=make_staff(), reason=Petition.RejectionReason.UNCLEAR)
    assert not Cosponsor.objects.filter(petition=petition).exists()
    assert not Signature.objects.filter(petition=petition).exists()

    # Changed and sent again, then published: still none of them counted.
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.PENDING)
    moderation.publish(Petition.objects.get(pk=petition.pk), by=make_staff("second"))
    assert not Signature.objects.filter(petition=petition).exists()
    assert SignatureCount.objects.total_for(petition.pk) == 0


@pytest.mark.parametrize("language, shown", [("en", "3"), ("fa", "۳")])
def test_the_review_queue_shows_each_petitions_supporters(client, language, shown):
    petition = waiting_with_supporters(confirmed=3, unconfirmed=1)
    client.force_login(make_staff())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(f"/{settings.ADMIN_URL}petitions/reviewqueue/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "column-supporters" in html
    cell = html.split('class="field-supporters"', 1)[1].split("</td>", 1)[0]
    assert cell.endswith(f">{shown}")
    assert petition.title_fa in html or petition.title_en in html


def test_the_decision_page_shows_the_supporters_in_persian_digits(client):
    petition = waiting_with_supporters(confirmed=2)
    client.force_login(make_staff())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    html = client.get(f"/{settings.ADMIN_URL}petitions/reviewqueue/{petition.pk}/decide/")
    assert "حامیان ۲" in html.content.decode()
