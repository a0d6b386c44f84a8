import re
import threading
from importlib import import_module

import pytest
from django.core import signing
from django.db import connection
from django.test import Client

from petitions import mailing, starting
from petitions.models import Petition
from signatures import confirmation
from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, make_signature, sign_form_data

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


@pytest.mark.parametrize(
    "addresses",
    [
        ("sara+a@example.net", "sara+b@example.net", "sara@example.net"),
        ("s.ara@gmail.com", "sara@googlemail.com", "S.A.R.A+x@gmail.com"),
    ],
)
def test_one_mailbox_signs_once_whatever_its_plus_tag_or_gmail_dots(client, mailbox, addresses):
    petition = make_petition(requires_confirmation=True)
    for email in addresses:
        client.cookies.clear()
        client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email=email))
    [signature] = Signature.objects.all()
    # While it waits for confirmation, the row takes the details typed last (see test_confirmation).
    assert signature.email == addresses[-1]
    client.post(re.search(r"http://testserver(/\S+/confirm/\S+/)", body(mailbox)).group(1))
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_the_confirmation_email_goes_to_the_address_typed(client, mailbox):
    petition = make_petition(requires_confirmation=True)
    typed = "S.Ara+petitions@GoogleMail.com"
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email=typed))
    [message] = mailbox.messages
    assert message["To"] == typed
    assert Signature.objects.get().email == typed


def body(mailbox) -> str:
    return mailbox.messages[0].get_body(preferencelist=("plain",)).get_content()


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


def recompute_canonical_forms():
    from django.apps import apps

    import_module("signatures.migrations.0016_one_canonical_email_per_mailbox").recompute(
        apps, None
    )
    import_module("petitions.migrations.0011_starter_canonical_email_per_mailbox").recompute(
        apps, None
    )


def test_existing_rows_take_the_mailbox_form_and_their_emailed_links_still_work(client):
    """Rows stored before the canonical form dropped "+tags" and Gmail's dots: where the new form
    is free in its petition the row takes it; where another row of that petition already has it,
    the row keeps its old form. Links emailed before the change still act on their row."""
    petition, other = make_petition(requires_confirmation=True), make_petition()

    def stored_before(petition, email, **fields):
        return make_signature(petition, email=email, email_canonical=email.lower(), **fields)

    first = stored_before(petition, "sara+a@example.net", consent_contact=True)
    later = stored_before(petition, "sara+b@example.net", status="pending")
    gmail = stored_before(petition, "s.ara@gmail.com")
    elsewhere = stored_before(other, "Sara+x@Example.net")
    started = make_petition(
        starter_email="S.Ara+x@gmail.com", starter_email_canonical="s.ara+x@gmail.com"
    )

    def mailed_before(pk, email_canonical, salt):
        # Links mailed before this change signed the address itself, in its old canonical form.
        return signing.dumps([pk, email_canonical], salt=salt, compress=True)

    confirm = mailed_before(later.pk, later.email_canonical, confirmation.TOKEN_SALT)
    unsubscribe = mailed_before(first.pk, first.email_canonical, mailing.UNSUBSCRIBE_SALT)
    starter = mailed_before(started.pk, started.starter_email_canonical, starting.TOKEN_SALT)
    old_links = [f"/en/confirm/{confirm}/", f"/en/unsubscribe/{unsubscribe}/"]
    old_links.append(f"/en/start/link/{starter}/")

    recompute_canonical_forms()

    stored = dict(Signature.objects.values_list("pk", "email_canonical"))
    assert stored == {
        first.pk: "sara@example.net",
        later.pk: "sara+b@example.net",
        gmail.pk: "sara@gmail.com",
        elsewhere.pk: "sara@example.net",
    }
    assert Petition.objects.get(pk=started.pk).starter_email_canonical == "sara@gmail.com"
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email="sara@example.net"))
    assert Signature.objects.filter(petition=petition).count() == 3

    confirm, unsubscribe, starter = old_links
    assert client.post(confirm).status_code == 302
    assert Signature.objects.get(pk=later.pk).status == Signature.Status.COUNTED
    assert client.post(unsubscribe).status_code == 200
    assert not Signature.objects.get(pk=first.pk).consent_contact
    assert client.post(starter).status_code == 302
