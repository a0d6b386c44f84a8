"""Each signer's update email is made from its language's MIME bytes with the signer's details put
in (petitions.mailing.Prepared). It must be the message Django would have built for that signer
on its own: same headers, same text and HTML, every line within SMTP's limit, whatever the name
or address; where that cannot be promised, the message is built the ordinary way."""

import copy
import email
import email.policy

import pytest

from petitions.mailing import Link, Recipient
from petitions.models import Update
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db

NAMES = [
    "Sara Karimi",
    "سارا کریمی",
    "محمد\u200cرضا نیک\u200cزاد",  # with ZWNJ
    'Tom & <Jerry> "Tom"',
    "ن" * 100,  # the longest name a signer can give
    "x" * 100,
]


def link_for(update: Update) -> Link:
    link = Link(update.pk, 1)
    link.update = Update.objects.select_related("petition").get(pk=update.pk)
    return link


def recipient(signature) -> Recipient:
    return Recipient(
        signature.pk,
        signature.pk,
        signature.name,
        signature.email,
        signature.email_canonical,
        signature.language,
    )


def ordinary(message) -> bytes:
    plain = copy.copy(message)
    plain.raw = None
    return plain.message().as_bytes(linesep="\r\n")


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def assert_same_message(fast: bytes, slow: bytes):
    a, b = parsed(fast), parsed(slow)
    # The multipart boundary is random in every message Django builds, and a long header may be
    # folded where Django would not have folded it (readers unfold it); the rest must match.
    headers = [(k, str(v).strip()) for k, v in a.items() if k != "Content-Type"]
    assert headers == [(k, str(v).strip()) for k, v in b.items() if k != "Content-Type"]
    assert a.get_content_type() == b.get_content_type() == "multipart/alternative"
    parts_a, parts_b = list(a.iter_parts()), list(b.iter_parts())
    assert len(parts_a) == len(parts_b) == 2
    for part_a, part_b in zip(parts_a, parts_b, strict=True):
        assert list(part_a.items()) == list(part_b.items())
        assert part_a.get_content() == part_b.get_content()


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("name", NAMES)
def test_a_signers_message_from_prepared_bytes_is_the_message_django_would_build(language, name):
    petition = make_petition(title_en="Clean air & water", title_fa="هوای پاک و آب")
    signature = make_signature(
        petition, name=name, language=language, email="sara.k+news@example.com"
    )
    update = Update.objects.create(
        petition=petition,
        title_en="We met the minister",
        body_en="On Monday we handed over **your** signatures & <more>.",
        title_fa="با وزیر دیدار کردیم",
        body_fa="دوشنبه امضاهای شما را تحویل دادیم.",
        email_signers=True,
    )
    message = link_for(update).message(recipient(signature))

    assert message.raw is not None  # the shortcut was taken
    fast = message.message().as_bytes(linesep="\r\n")
    assert_same_message(fast, ordinary(message))
    assert max(len(line) for line in fast.split(b"\r\n")) <= 998
    text = parsed(fast).get_body(preferencelist=("plain",)).get_content()
    html = parsed(fast).get_body(preferencelist=("html",)).get_content()
    assert name in text.splitlines()[0]
    assert "&lt;Jerry&gt;" in html if "<Jerry>" in name else name in html


def test_a_signer_who_wrote_in_the_missing_language_gets_the_same_bytes_as_built_alone():
    petition = make_petition()
    signature = make_signature(petition, name="سارا", language="fa")
    update = Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="Monday.", email_signers=True
    )
    message = link_for(update).message(recipient(signature))
    assert message.raw is not None
    assert_same_message(message.message().as_bytes(linesep="\r\n"), ordinary(message))


def test_an_address_that_is_not_plain_ascii_is_built_the_ordinary_way():
    petition = make_petition()
    signature = make_signature(petition, email="sara@پست.example")
    update = Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="Monday.", email_signers=True
    )
    message = link_for(update).message(recipient(signature))
    assert message.raw is None
    built = parsed(message.message().as_bytes(linesep="\r\n"))
    assert built["To"].addresses[0].domain == "پست.example".encode("idna").decode()
    assert "Hearing set" in built.get_body(preferencelist=("plain",)).get_content()


def test_an_update_with_a_line_too_long_for_smtp_is_built_the_ordinary_way():
    petition = make_petition()
    signature = make_signature(petition)
    update = Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="word " * 400, email_signers=True
    )
    message = link_for(update).message(recipient(signature))
    # Django encodes a body with a line over 998 bytes (quoted-printable), where a name cannot be
    # put in as its own bytes.
    assert message.raw is None
    raw = message.message().as_bytes(linesep="\r\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
