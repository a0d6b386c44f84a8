import pytest
from django.db import IntegrityError, connection, transaction

from signatures.models import Signature
from tests.factories import make_petition, make_signature


def _indexes_on(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: c["columns"] for name, c in constraints.items() if c["index"] or c["unique"]}


@pytest.mark.django_db
def test_one_index_finds_a_signer_by_email_alone_and_by_petition_and_email():
    indexes = _indexes_on(Signature._meta.db_table)
    with_email = {name: cols for name, cols in indexes.items() if "email_canonical" in cols}
    # Erasure and bulk invalidation look a signer up by email across petitions, so an index must
    # lead with it; every index is written on every signature, so only one may hold it.
    assert list(with_email.values()) == [["email_canonical", "petition_id"]], with_email


@pytest.mark.django_db
def test_the_same_email_cannot_sign_one_petition_twice_but_can_sign_another():
    petition, other = make_petition(), make_petition(slug="another")
    make_signature(petition, email="sara@example.com")
    make_signature(other, email="sara@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_signature(petition, email="sara@example.com")
    assert Signature.objects.filter(email_canonical="sara@example.com").count() == 2
