import threading

import pytest
from django.db import connection
from django.test import Client

from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "again", ["sara@example.com", "SARA@Example.COM", " sara@example.com ", "Sara@EXAMPLE.com"]
)
def test_duplicate_email_is_counted_once(client, again):
    petition = make_petition()
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email="sara@example.com"))
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email=again))
    assert Signature.objects.count() == 1
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_duplicate_with_persian_digits_is_counted_once(client):
    petition = make_petition()
    client.post(
        f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email="sara1990@example.com")
    )
    client.post(
        f"/fa/p/{petition.slug}/sign/", sign_form_data(petition, email="sara۱۹۹۰@example.com")
    )
    assert Signature.objects.count() == 1
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_a_repeat_gets_the_same_answer_as_a_first_signature(client):
    """The form must not tell a stranger whether an email has signed."""
    petition = make_petition()
    url = f"/en/p/{petition.slug}/sign/"
    data = sign_form_data(petition, name="Sara Karimi", email="sara@example.com", country="IR")
    first = client.post(url, data)
    client.cookies.clear()
    repeat = client.post(url, data)

    assert (first.status_code, first.url) == (repeat.status_code, repeat.url)
    assert sorted(first.cookies) == sorted(repeat.cookies)
    assert first.cookies["supporter"]["max-age"] == repeat.cookies["supporter"]["max-age"]


def test_a_retried_request_never_makes_two_rows(client):
    petition = make_petition()
    data = sign_form_data(petition)
    for _ in range(3):
        client.post(f"/en/p/{petition.slug}/sign/", data)
    assert Signature.objects.count() == 1


@pytest.mark.postgres
def test_concurrent_duplicates_make_one_row():
    """A double click lands as two requests at once: one row, counted once."""
    petition = make_petition()
    data = sign_form_data(petition, email="double@example.com")
    start = threading.Barrier(6)
    statuses = []

    def click():
        try:
            start.wait()
            statuses.append(Client().post(f"/en/p/{petition.slug}/sign/", data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * 6
    assert Signature.objects.filter(email_canonical="double@example.com").count() == 1
    assert SignatureCount.objects.total_for(petition.pk) == 1
