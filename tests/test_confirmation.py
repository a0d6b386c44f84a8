"""Email confirmation against a real SMTP server on a loopback port (aiosmtpd)."""

import datetime
import re

import pytest
from django.core import signing
from django.core.management import call_command
from django.utils import timezone

from signatures.confirmation import TOKEN_SALT
from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, one_click_data, sign_form_data

# Emails are queued when the signature commits, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def petition():
    return make_petition(
        requires_confirmation=True, title_en="Free the press", title_fa="مطبوعات آزاد"
    )


def sign(client, petition, language="en", **fields):
    return client.post(f"/{language}/p/{petition.slug}/sign/", sign_form_data(petition, **fields))


def link_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://testserver(/\S+/confirm/\S+/)", text).group(1)


def counted(petition) -> int:
    return SignatureCount.objects.total_for(petition.pk)


def test_signing_sends_a_multipart_email_and_counts_nothing_yet(client, mailbox, petition):
    response = sign(client, petition, email="sara@example.com", name="Sara Karimi")

    assert response.url.endswith("/thanks/?check=email")
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert counted(petition) == 0
    [message] = mailbox.messages
    assert message["To"] == "sara@example.com"
    assert "Free the press" in message["Subject"]
    assert message.get_body(preferencelist=("plain",)) is not None
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'lang="en" dir="ltr"' in html
    assert "unsubscribe" not in html.lower()
    assert "We send only what you asked for." in html


def test_the_email_is_in_persian_and_right_to_left_for_a_persian_signer(client, mailbox, petition):
    sign(client, petition, language="fa")
    [message] = mailbox.messages
    assert message["Content-Language"] == "fa"
    assert "مطبوعات آزاد" in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'lang="fa" dir="rtl"' in html
    assert "امضایم را تأیید می‌کنم" in html
    assert "/fa/confirm/" in link_in(message)


def test_opening_the_link_confirms_nothing(client, mailbox, petition):
    sign(client, petition)
    link = link_in(mailbox.messages[0])
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my signature" in page.content.decode()
    client.get(link)  # a mail scanner, twice
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert counted(petition) == 0


def test_pressing_the_button_confirms_and_counts_once(client, mailbox, petition):
    sign(client, petition)
    link = link_in(mailbox.messages[0])

    confirmed = client.post(link)
    assert confirmed.status_code == 302
    assert confirmed.url.endswith("/thanks/?confirmed=1")
    assert counted(petition) == 1
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.COUNTED and signature.confirmed_at

    again = client.post(link)
    assert again.status_code == 200
    assert "Already confirmed" in again.content.decode()
    assert counted(petition) == 1


def test_the_count_json_moves_only_after_confirming(client, mailbox, petition):
    sign(client, petition)
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["count"] == 0
    from django.core.cache import cache

    client.post(link_in(mailbox.messages[0]))
    assert cache  # the commit dropped the cached count
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["count"] == 1


def test_an_expired_link_is_refused(client, mailbox, petition, settings):
    sign(client, petition)
    signature = Signature.objects.get()
    settings.CONFIRMATION_MAX_AGE = 3600
    with_old_clock = signing.TimestampSigner(salt=TOKEN_SALT)
    old = with_old_clock.sign_object([signature.pk, signature.email_canonical], compress=True)
    import time
    from unittest import mock

    with mock.patch("time.time", return_value=time.time() + 7200):
        response = client.post(f"/en/confirm/{old}/")
    assert response.status_code == 410
    assert counted(petition) == 0


def test_a_tampered_link_is_refused(client, mailbox, petition):
    sign(client, petition)
    link = link_in(mailbox.messages[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged = signing.dumps([Signature.objects.get().pk + 1, "x@example.com"], salt="other")
    for bad in (token[:-3] + "abc", forged):
        assert client.post(f"/en/confirm/{bad}/").status_code == 400
    assert counted(petition) == 0


def test_signing_again_while_pending_resends_but_not_too_often(client, mailbox, petition):
    sign(client, petition, email="sara@example.com")
    sign(client, petition, email="SARA@example.com")
    assert len(mailbox.messages) == 1  # within the pause: nothing more

    Signature.objects.update(emailed_at=timezone.now() - datetime.timedelta(minutes=10))
    sign(client, petition, email="sara@example.com")
    assert len(mailbox.messages) == 2
    assert Signature.objects.count() == 1


def test_a_pending_repeat_gets_the_same_answer_as_a_first_signature(client, mailbox, petition):
    first = sign(client, petition, email="sara@example.com")
    client.cookies.clear()
    repeat = sign(client, petition, email="sara@example.com")
    assert (first.status_code, first.url) == (repeat.status_code, repeat.url)


def test_a_failed_send_is_retried_and_delivered(client, mailbox, petition):
    mailbox.refuse_next = 2
    sign(client, petition)
    assert len(mailbox.messages) == 1
    assert mailbox.refuse_next == 0


def test_email_is_queued_in_the_database_and_sent_by_the_worker(
    client, mailbox, petition, settings, django_capture_on_commit_callbacks
):
    """Off the request path: the request only queues; a worker (even a restarted one) sends."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_RETRY_DELAYS = [0, 0, 0]
    mailbox.refuse_next = 1
    sign(client, petition)
    assert mailbox.messages == []  # the response did not wait for SMTP

    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)  # fails, requeues
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)  # a new worker delivers
    assert len(mailbox.messages) == 1


def test_a_confirmed_supporter_signs_the_next_petition_in_one_click(client, mailbox, petition):
    sign(client, petition, name="Sara Karimi", email="sara@example.com")
    client.post(link_in(mailbox.messages[0]))

    other = make_petition(requires_confirmation=True)
    html = client.get(f"/en/p/{other.slug}/me/").content.decode()
    assert "Sign as <bdi>Sara K.</bdi>" in html
    response = client.post(f"/en/p/{other.slug}/sign/", one_click_data(client, other))
    assert not response.url.endswith("?check=email")
    assert counted(other) == 1
    assert len(mailbox.messages) == 1  # no second email


def test_typing_another_address_needs_its_own_confirmation(client, mailbox, petition):
    sign(client, petition, email="sara@example.com")
    client.post(link_in(mailbox.messages[0]))
    other = make_petition(requires_confirmation=True)
    response = client.post(
        f"/en/p/{other.slug}/sign/", sign_form_data(other, email="someone@example.com")
    )
    assert response.url.endswith("?check=email")
    assert counted(other) == 0


def test_one_click_petitions_need_no_email(client, mailbox):
    open_petition = make_petition()
    sign(client, open_petition)
    assert mailbox.messages == []
    assert counted(open_petition) == 1


def test_the_owner_signing_after_a_squatter_confirms_their_own_details(client, mailbox, petition):
    from django.test import Client

    from signatures import supporter

    squatter = Client()
    sign(squatter, petition, name="Attacker Chosen", email="target@example.com", country="KP")
    sign(client, petition, name="Sara Karimi", email="target@example.com", country="DE")
    link = link_in(mailbox.messages[-1])
    assert "Sara Karimi" in client.get(link).content.decode()

    client.post(link)

    signature = Signature.objects.get(petition=petition)
    assert (signature.name, signature.country.code) == ("Sara Karimi", "DE")
    assert signature.status == Signature.Status.COUNTED
    kept = signing.loads(client.cookies["supporter"].value, salt=supporter.COOKIE_SALT)
    assert (kept["name"], kept["country"], kept["confirmed"]) == ("Sara Karimi", "DE", True)


def test_confirming_remembers_what_this_browser_typed_never_the_rows_name(
    client, mailbox, petition
):
    from django.test import Client

    from signatures import supporter

    sign(client, petition, name="Sara Karimi", email="target@example.com", country="DE")
    sign(Client(), petition, name="Attacker Chosen", email="target@example.com", country="KP")

    client.post(link_in(mailbox.messages[-1]))

    kept = signing.loads(client.cookies["supporter"].value, salt=supporter.COOKIE_SALT)
    assert (kept["name"], kept["country"], kept["confirmed"]) == ("Sara Karimi", "DE", True)


def test_confirming_in_a_browser_that_typed_nothing_remembers_no_one(client, mailbox, petition):
    from django.test import Client

    sign(Client(), petition, name="Attacker Chosen", email="target@example.com", country="KP")

    response = client.post(link_in(mailbox.messages[-1]))

    assert response.status_code == 302
    assert "supporter" not in response.cookies
    other = make_petition()
    assert "Sign as" not in client.get(f"/en/p/{other.slug}/").content.decode()
