"""A signer's erasure on request reaches their support of petitions not yet published."""

import pytest
from django.core.management import call_command

from petitions.models import Cosponsor
from tests.factories import make_cosponsor, make_gathering_petition

pytestmark = pytest.mark.django_db


def test_erasing_a_signer_deletes_their_support_on_every_petition():
    first, second = make_gathering_petition(), make_gathering_petition()
    make_cosponsor(first, email="Ali@Example.com")
    make_cosponsor(second, email="ali@example.com", confirmed=False)
    kept = make_cosponsor(first, email="maryam@example.com")

    call_command("erase_signer", "ALI@example.com")

    assert list(Cosponsor.objects.all()) == [kept]
