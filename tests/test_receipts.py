"""Receipt codes: given once on the thank-you page (or in the confirmation email), only their hash
kept, and a receipt page that tells the signature's state and nothing else."""

import hashlib
import io
import math
import re

import pytest
from django.core.management import call_command
from django.test import Client

from lib.persian import persian_digits
from signatures import receipts
from signatures.models import Signature
from tests.factories import make_petition, make_staff, sign_form_data

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}\b")


def sign(client, petition, language="en", **fields):
    return client.post(f"/{language}/p/{petition.slug}/sign/", sign_form_data(petition, **fields))


def code_on_thanks(client, petition, language="en", embed=False) -> str:
    path = "embed/thanks" if embed else "thanks"
    html = client.get(f"/{language}/p/{petition.slug}/{path}/").content.decode()
    found = CODE.search(html)
    return found.group(0) if found else ""


def signed_code(petition, language="en", **fields) -> str:
    client = Client()
    sign(client, petition, language, **fields)
    return code_on_thanks(client, petition, language)


def check(petition, code: str, language="en", client=None, **extra):
    client = client or Client()
    return client.post(f"/{language}/p/{petition.slug}/receipt/", {"code": code, **extra})


def without_form_token(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def answer(petition, code: str, language="en") -> str:
    return check(petition, code, language).content.decode()


def test_a_code_carries_at_least_80_bits_from_the_whole_alphabet():
    code = receipts.new_code()
    assert len(code) * math.log2(len(receipts.ALPHABET)) >= 80
    assert set(code) <= set(receipts.ALPHABET)
    assert len({receipts.new_code() for _ in range(200)}) == 200


def test_the_thank_you_page_shows_the_code_once_and_no_cache_keeps_it():
    petition = make_petition()
    client = Client()
    response = sign(client, petition)

    assert "receipt" in response.cookies
    assert response.cookies["receipt"]["path"] == f"/en/p/{petition.slug}/thanks/"
    assert not CODE.search(response.url)
    page = client.get(f"/en/p/{petition.slug}/thanks/")
    assert CODE.search(page.content.decode())
    assert "no-store" in page["Cache-Control"]
    assert not CODE.search(client.get(f"/en/p/{petition.slug}/thanks/").content.decode())


def test_the_widget_thank_you_page_shows_the_code_from_a_partitioned_cookie():
    petition = make_petition()
    client = Client()
    response = client.post(
        f"/en/p/{petition.slug}/sign/", sign_form_data(petition, embed="1", source="widget")
    )

    morsel = response.cookies["receipt"]
    assert "Partitioned" in morsel.OutputString()
    assert morsel["samesite"] == "None" and morsel["secure"]
    assert code_on_thanks(client, petition, embed=True)


def test_only_the_hash_of_the_code_is_stored_and_the_code_appears_nowhere_in_the_database():
    petition = make_petition()
    code = signed_code(petition)
    plain = code.replace("-", "")

    stored = Signature.objects.get()
    assert bytes(stored.receipt) == hashlib.sha256(plain.encode()).digest()
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert plain not in dump.getvalue() and code not in dump.getvalue()


def test_a_counted_signature_reads_as_counted_since_it_was_signed():
    petition = make_petition()
    code = signed_code(petition)
    signed = Signature.objects.get()

    html = answer(petition, code)
    assert "This signature is counted, since" in html
    assert signed.counted_at.strftime("%Y") in html


def test_a_removed_signature_reads_with_its_date_and_reason_category():
    petition = make_petition()
    code = signed_code(petition)
    Signature.objects.all().invalidate(by=make_staff(), reason=Signature.Reason.AUTOMATED)

    html = answer(petition, code)
    assert "removed after review on" in html
    assert str(Signature.Reason.AUTOMATED.label) in html


def test_a_restored_signature_reads_as_counted_again():
    petition = make_petition()
    code = signed_code(petition)
    moderator = make_staff()
    Signature.objects.all().invalidate(by=moderator)
    Signature.objects.all().restore(by=moderator)

    assert "This signature is counted, since" in answer(petition, code)


def test_an_erased_signature_and_a_guess_read_alike_as_unknown():
    petition = make_petition()
    code = signed_code(petition)
    Signature.objects.all().erase(by=make_staff(), signer_request=True)

    erased = without_form_token(answer(petition, code))
    guessed = without_form_token(answer(petition, receipts.grouped(receipts.new_code())))
    assert "We don’t know this receipt" in erased
    assert erased == guessed


def test_a_repeat_signature_gets_a_code_of_the_same_shape_that_opens_nothing():
    petition = make_petition()
    first = signed_code(petition, email="sara@example.com")
    repeat = signed_code(petition, email="Sara@example.com", name="Someone Else")

    assert CODE.fullmatch(repeat) and repeat != first
    assert "We don’t know this receipt" in answer(petition, repeat)
    assert "This signature is counted" in answer(petition, first)


def test_a_code_is_checked_only_on_its_own_petition():
    petition, other = make_petition(), make_petition()
    code = signed_code(petition)

    assert "We don’t know this receipt" in answer(other, code)


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: code.replace("-", " "),
        lambda code: " " + code.replace("-", "") + " ",
        lambda code: persian_digits(code),
        lambda code: code.replace("-", "\u2013"),
        lambda code: code.replace("0", "O").replace("1", "l"),
    ],
    ids=["lower case", "spaces", "no dashes", "persian digits", "en dashes", "misread letters"],
)
def test_typed_codes_are_read_as_the_signer_means_them(typed):
    petition = make_petition()
    code = signed_code(petition)

    assert receipts.canonical(typed(code)) == code.replace("-", "")
    assert "This signature is counted" in answer(petition, typed(code))


def test_what_cannot_be_a_code_is_not_looked_up(django_assert_num_queries):
    petition = make_petition()
    for typed in ("", "ABCD", "ABCD-EFGH-JKMN-PQRS-TVWXY", "UUUU-UUUU-UUUU-UUUU-UUUU"):
        assert receipts.canonical(typed) is None
    with django_assert_num_queries(0):
        assert receipts.find(petition, "not a code") is None


def test_the_receipt_page_takes_the_code_only_by_post():
    petition = make_petition()
    code = signed_code(petition)

    html = Client().get(f"/en/p/{petition.slug}/receipt/", {"code": code}).content.decode()
    assert 'method="post"' in html
    assert "This signature is counted" not in html


def test_an_answer_never_says_who_signed():
    petition = make_petition()
    fields = {
        "name": "Zanyar Unusualname",
        "email": "zanyar.hidden@example.org",
        "locality": "Sanandaj",
        "comment": "A very particular comment",
        "country": "DE",
    }
    code = signed_code(petition, **fields)

    for step in ("", "ask"):
        html = check(petition, code, step=step).content.decode()
        for value in ("Zanyar", "Unusualname", "zanyar.hidden", "Sanandaj", "particular"):
            assert value not in html


def test_the_answer_is_private_to_the_one_who_typed_the_code():
    petition = make_petition()
    code = signed_code(petition)

    response = check(petition, code)
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_one_address_cannot_scan_for_codes(settings):
    settings.RECEIPT_RATE_PER_IP = "3/h"
    petition = make_petition()
    code = signed_code(petition)
    client = Client()

    for _ in range(3):
        assert check(petition, receipts.new_code(), client=client).status_code == 200
    refused = check(petition, code, client=client)
    assert refused.status_code == 429
    assert "This signature is counted" not in refused.content.decode()
    assert int(refused["Retry-After"]) > 0


def test_the_persian_receipt_page_shows_a_solar_hijri_date_in_persian_digits():
    petition = make_petition()
    code = signed_code(petition, "fa")

    html = answer(petition, code, "fa")
    state = re.search(r"receipt__state[^>]*>(.*?)</p>", html, re.S).group(1)
    assert re.search(r"[۰-۹]", state)
    assert not re.search(r"[0-9]", state)
    assert "۱۴" in state  # the Solar Hijri year of these years


def plain_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.django_db(transaction=True)
def test_a_petition_that_confirms_by_email_gives_the_code_in_the_email_only(mailbox):
    petition = make_petition(requires_confirmation=True)
    client = Client()
    response = sign(client, petition)

    assert "receipt" not in response.cookies
    assert not code_on_thanks(client, petition)
    [message] = mailbox.messages
    code = CODE.search(plain_text(message)).group(0)
    assert "awaiting confirmation" in answer(petition, code)
    confirm = re.search(r"http://testserver(/\S+/confirm/\S+/)", plain_text(message)).group(1)
    client.post(confirm)
    assert "This signature is counted" in answer(petition, code)


@pytest.mark.django_db(transaction=True)
def test_whoever_typed_an_address_first_holds_no_code_for_its_owner(mailbox):
    """Only the owner of the address gets a pending signature's code: in the email."""
    petition = make_petition(requires_confirmation=True)
    sign(Client(), petition, email="owner@example.com", name="Not The Owner")
    assert Signature.objects.get().receipt is not None  # the emailed code's hash

    [message] = mailbox.messages
    code = CODE.search(plain_text(message)).group(0)
    assert bytes(Signature.objects.get().receipt) == receipts.digest(code.replace("-", ""))
