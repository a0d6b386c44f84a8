import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from petitions.models import Petition
from tests.factories import make_petition

pytestmark = pytest.mark.django_db


def test_petition_cannot_open_with_a_language_half_written():
    petition = make_petition(status=Petition.Status.DRAFT, title_fa="", letter_fa="")
    petition.status = Petition.Status.OPEN
    with pytest.raises(ValidationError) as caught:
        petition.full_clean()
    assert set(caught.value.message_dict) == {"title_fa", "letter_fa"}


def test_single_language_petition_may_open_with_one_language():
    petition = make_petition(
        status=Petition.Status.DRAFT, title_fa="", summary_fa="", letter_fa="", single_language=True
    )
    petition.status = Petition.Status.OPEN
    petition.full_clean()
    petition.save()
    assert petition.opened_at is not None


def test_the_database_refuses_an_open_petition_complete_in_no_language():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_petition(status=Petition.Status.OPEN, letter_fa="", summary_en="")


def test_the_database_takes_an_open_petition_in_one_language_only():
    petition = make_petition(title_en="", summary_en="", letter_en="", addressed_to_en="")
    assert petition.languages == ("fa",)


def test_the_database_refuses_a_goal_of_zero():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_petition(goal=0)


def test_original_language_text_is_required_even_for_drafts():
    petition = make_petition(status=Petition.Status.DRAFT, original_language="fa", title_fa="")
    with pytest.raises(ValidationError) as caught:
        petition.full_clean()
    assert "title_fa" in caught.value.message_dict


def test_opening_records_when_it_opened():
    petition = make_petition(status=Petition.Status.DRAFT)
    assert petition.opened_at is None
    petition.status = Petition.Status.OPEN
    petition.save()
    assert petition.opened_at is not None


def test_only_open_petitions_before_their_closing_date_are_signable():
    from datetime import timedelta

    from django.utils import timezone

    assert make_petition().is_signable
    assert not make_petition(status=Petition.Status.CLOSED).is_signable
    assert not make_petition(status=Petition.Status.DRAFT).is_signable
    expired = make_petition(closes_at=timezone.now() - timedelta(minutes=1))
    assert not expired.is_signable
    assert expired not in Petition.objects.signable()
    assert expired in Petition.objects.public()


def test_signable_read_with_the_row_agrees_with_the_rule_for_every_state():
    """`with_signable()` reads the same rule in the same query as the row: the property, the
    queryset and the annotation can never disagree, as there is one definition."""
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for status in Petition.Status.values:
        for closes_at in (None, now - timedelta(minutes=1), now + timedelta(days=1)):
            petition = make_petition(status=status, closes_at=closes_at)
            expected = status == Petition.Status.OPEN and (closes_at is None or closes_at > now)
            annotated = Petition.objects.with_signable().get(pk=petition.pk)
            assert annotated.is_signable is expected
            assert Petition.objects.get(pk=petition.pk).is_signable is expected
            assert Petition.objects.signable().filter(pk=petition.pk).exists() is expected
