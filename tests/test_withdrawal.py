"""Withdrawal by the signer: with the receipt code or the confirmation email's link, by POST only,
counted at once, written in the public record, and the signer's details gone at once."""

import re

import pytest
from django.test import Client

from lib.models import AuditEntry
from signatures.models import CountChange, Signature, SignatureCount
from tests.factories import make_petition, make_signature
from tests.test_receipts import CODE, check, plain_text, sign, signed_code

pytestmark = pytest.mark.django_db


def counted(petition) -> int:
    return SignatureCount.objects.total_for(petition.pk)


def withdraw_with_code(petition, code: str, language="en"):
    return check(petition, code, language, step="withdraw")


def test_asking_to_withdraw_only_shows_a_confirm_step():
    petition = make_petition()
    code = signed_code(petition)

    html = check(petition, code, step="ask").content.decode()
    assert 'value="withdraw"' in html
    assert Signature.objects.get().status == Signature.Status.COUNTED
    assert counted(petition) == 1


def test_a_get_never_withdraws():
    petition = make_petition()
    code = signed_code(petition)

    Client().get(f"/en/p/{petition.slug}/receipt/", {"code": code, "step": "withdraw"})
    assert Signature.objects.get().status == Signature.Status.COUNTED


def test_withdrawing_uncounts_at_once_and_enters_the_record():
    petition = make_petition()
    code = signed_code(petition)
    make_signature(petition)
    Client().get(f"/en/p/{petition.slug}/count.json")  # a count in the cache, to be dropped

    response = withdraw_with_code(petition, code)

    assert response.status_code == 302
    assert counted(petition) == 1
    assert Client().get(f"/en/p/{petition.slug}/count.json").json()["count"] == 1
    [change] = CountChange.objects.all()
    assert (change.kind, change.signatures, change.delta) == ("withdrawn", 1, -1)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SIGNATURE_WITHDRAWN).count() == 1


def test_withdrawing_clears_the_signers_details_at_once():
    petition = make_petition()
    code = signed_code(
        petition, name="Sara Karimi", email="sara@example.com", locality="Leeds", comment="Yes"
    )

    withdraw_with_code(petition, code)

    withdrawn = Signature.objects.get()
    assert withdrawn.status == Signature.Status.WITHDRAWN
    assert (withdrawn.name, withdrawn.email, withdrawn.locality, withdrawn.comment) == (
        "",
        "",
        "",
        "",
    )
    assert "@" not in withdrawn.email_canonical and withdrawn.ip_hash == ""
    assert not withdrawn.show_name and not withdrawn.consent_contact


def test_the_receipt_then_says_withdrawn_and_offers_nothing_more():
    petition = make_petition()
    code = signed_code(petition)
    withdraw_with_code(petition, code)

    html = check(petition, code).content.decode()
    assert "This signature was withdrawn on" in html
    assert 'value="ask"' not in html
    withdraw_with_code(petition, code)
    assert CountChange.objects.count() == 1


def test_two_signers_may_withdraw_and_the_same_address_may_sign_again():
    petition = make_petition()
    first = signed_code(petition, email="sara@example.com")
    second = signed_code(petition, email="omid@example.com")
    withdraw_with_code(petition, first)
    withdraw_with_code(petition, second)

    again = signed_code(petition, email="sara@example.com")
    assert "This signature is counted" in check(petition, again).content.decode()
    assert counted(petition) == 1


def test_a_pending_signature_withdrawn_changes_the_count_by_nothing():
    petition = make_petition(requires_confirmation=True)
    pending = make_signature(petition, status=Signature.Status.PENDING)

    Signature.objects.filter(pk=pending.pk).withdraw()

    assert counted(petition) == 0
    [change] = CountChange.objects.all()
    assert (change.kind, change.delta) == ("withdrawn", 0)


@pytest.mark.django_db(transaction=True)
def test_the_confirmation_emails_link_withdraws_on_post_only(mailbox):
    petition = make_petition(requires_confirmation=True)
    client = Client()
    sign(client, petition, email="sara@example.com")
    [message] = mailbox.messages
    text = plain_text(message)
    code = CODE.search(text).group(0)
    link = re.search(r"http://testserver(/en/withdraw/\S+/)", text).group(1)

    shown = client.get(link)
    assert shown.status_code == 200
    assert 'method="post"' in shown.content.decode()
    assert Signature.objects.get().status == Signature.Status.PENDING

    done = client.post(link)
    assert done.status_code == 302
    assert Signature.objects.get().status == Signature.Status.WITHDRAWN
    assert "This signature was withdrawn on" in check(petition, code).content.decode()
    assert client.get(link).status_code == 400  # the address it was for is gone


def test_a_forged_withdrawal_link_does_nothing():
    petition = make_petition()
    signature = make_signature(petition)

    response = Client().post("/en/withdraw/WzEsImFiYyJd:1abc:forged/")
    assert response.status_code == 400
    signature.refresh_from_db()
    assert signature.status == Signature.Status.COUNTED


def test_a_repeats_code_cannot_withdraw_the_first_signature():
    petition = make_petition()
    signed_code(petition, email="sara@example.com")
    repeat = signed_code(petition, email="sara@example.com")

    withdraw_with_code(petition, repeat)
    assert Signature.objects.get().status == Signature.Status.COUNTED


def test_withdrawing_from_a_persian_page_says_so_in_persian():
    petition = make_petition()
    client = Client()
    sign(client, petition, "fa", **{"email": "sara@example.com"})
    html = client.get(f"/fa/p/{petition.slug}/thanks/").content.decode()
    code = CODE.search(html).group(0)

    response = check(petition, code, "fa", client=client, step="withdraw")
    page = client.get(response.url).content.decode()
    assert response.url == f"/fa/p/{petition.slug}/receipt/"
    assert "امضای شما پس گرفته شد" in page
    assert "این امضا در" in check(petition, code, "fa", client=client).content.decode()


def test_the_browser_that_withdraws_no_longer_says_it_signed():
    petition = make_petition()
    client = Client()
    sign(client, petition, email="sara@example.com")
    code = CODE.search(client.get(f"/en/p/{petition.slug}/thanks/").content.decode()).group(0)
    assert "You signed this petition" in client.get(f"/en/p/{petition.slug}/?form").content.decode()

    check(petition, code, client=client, step="withdraw")

    page = client.get(f"/en/p/{petition.slug}/?form").content.decode()
    assert "You signed this petition" not in page
