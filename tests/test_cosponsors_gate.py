"""The gate on starting: with COSPONSORS_REQUIRED at 0 a confirmed petition waits for review at
once, as before; above 0 it gathers supporters first, and meanwhile counts against its starter's
limit and cannot be changed."""

import pytest

from petitions import starting
from petitions.models import Petition
from tests.factories import as_starter, make_gathering_petition, make_petition

pytestmark = pytest.mark.django_db


def confirmed(settings, required: int) -> Petition:
    settings.COSPONSORS_REQUIRED = required
    petition = make_petition(
        status=Petition.Status.DRAFT,
        starter_email="sara@example.com",
        starter_email_canonical="sara@example.com",
    )
    return starting.confirm_email(petition)


def test_with_the_gate_off_a_confirmed_petition_waits_for_review_at_once(settings):
    petition = confirmed(settings, 0)
    assert petition.status == Petition.Status.PENDING
    assert petition.email_confirmed_at is not None


def test_with_the_gate_on_a_confirmed_petition_gathers_supporters_first(settings):
    petition = confirmed(settings, 5)
    assert petition.status == Petition.Status.GATHERING
    assert petition.email_confirmed_at is not None
    assert not Petition.objects.waiting_for_review().exists()


def test_pressing_confirm_again_changes_nothing(settings):
    petition = confirmed(settings, 2)
    again = starting.confirm_email(petition)
    assert (again.status, again.email_confirmed_at) == (
        Petition.Status.GATHERING,
        petition.email_confirmed_at,
    )


def test_a_gathering_petition_is_neither_public_nor_signable_and_counts_as_unfinished():
    petition = make_gathering_petition()
    assert not petition.is_public and not petition.is_signable
    assert not Petition.objects.public().filter(pk=petition.pk).exists()
    assert list(Petition.objects.started_by(petition.starter_email_canonical).unfinished()) == [
        petition
    ]


def test_a_gathering_petition_cannot_be_edited_by_its_starter(client, settings):
    settings.COSPONSORS_REQUIRED = 3
    petition = make_gathering_petition()
    as_starter(client, petition)
    response = client.get(f"/en/my/{petition.slug}/edit/", follow=True)
    assert response.redirect_chain[-1][0] == f"/en/my/{petition.slug}/"
    assert "cannot change" in response.content.decode()
    assert starting.resubmit(petition) is False
