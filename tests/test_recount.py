import pytest
from django.core.management import CommandError, call_command

from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


def test_recount_repairs_drift_and_reports_it(capsys):
    petition = make_petition(slug="drifted")
    for _ in range(5):
        make_signature(petition)
    SignatureCount.objects.filter(petition=petition).update(count=0)  # a lost update
    SignatureCount.add(petition.pk, 2)

    call_command("recount")

    assert SignatureCount.objects.total_for(petition.pk) == 5
    out = capsys.readouterr().out
    assert "drifted: repaired a drift of +3" in out


def test_recount_leaves_an_exact_count_alone(capsys):
    petition = make_petition()
    make_signature(petition)
    call_command("recount", petition.slug)
    assert "no drift found" in capsys.readouterr().out
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_recount_counts_only_counted_signatures():
    petition = make_petition()
    make_signature(petition)
    make_signature(petition, status=Signature.Status.INVALIDATED)
    make_signature(petition, status=Signature.Status.PENDING)
    SignatureCount.set_total(petition.pk, 3)
    call_command("recount", petition.slug)
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_recount_names_an_unknown_petition():
    with pytest.raises(CommandError, match="nope"):
        call_command("recount", "nope")


def test_taking_away_never_drives_a_shard_below_zero():
    petition = make_petition()
    SignatureCount.set_total(petition.pk, 3)  # three shards hold one each
    for _ in range(3):
        SignatureCount.add(petition.pk, -1)
    assert SignatureCount.objects.total_for(petition.pk) == 0
    assert not SignatureCount.objects.filter(count__lt=0).exists()
