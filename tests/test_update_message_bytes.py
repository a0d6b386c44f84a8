"""Each signer's update email is Django's own message, built from its language's parts (rendered
once a chunk, petitions.mailing.Outbox) with the signer's name and unsubscribe link put in. It
must be the message built for that signer alone: same headers, same text and HTML, nothing of
another signer's, every line within SMTP's limit, whatever the name or address."""

import email
import email.policy
from types import SimpleNamespace

import pytest
from django.core.mail import EmailMultiAlternatives

from petitions.mailing import Outbox
from petitions.models import Update
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_second(monkeypatch):
    """The unsubscribe link is signed with the second it was made, so two builds that straddle a
    second differ there; stop the signing clock to compare them."""
    from django.core import signing

    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: 1_790_000_000.0))


NAMES = [
    "Sara Karimi",
    "سارا کریمی",
    "محمد\u200cرضا نیک\u200cزاد",  # with ZWNJ
    'Tom & <Jerry> "Tom"',
    "ن" * 100,  # the longest name a signer can give
    "x" * 100,
]


def row(signature):
    """A claimed row as the outbox reads it."""
    return SimpleNamespace(
        id=signature.pk,
        signature_id=signature.pk,
        signature__name=signature.name,
        signature__email=signature.email,
        signature__email_canonical=signature.email_canonical,
        signature__language=signature.language,
    )


def built(update: Update, signature, shared=None) -> EmailMultiAlternatives:
    """The signer's message, from `shared` parts (a chunk's) or from parts of its own."""
    outbox = Outbox(update.pk)
    update = Update.objects.select_related("petition").get(pk=update.pk)
    parts = shared or outbox.language_parts(update, signature.language)
    return outbox.message(row(signature), signature.language, *parts)


def in_a_chunk(update: Update, signature) -> EmailMultiAlternatives:
    """The signer's message after another signer's, from the parts the two share."""
    outbox = Outbox(update.pk)
    parts = outbox.language_parts(
        Update.objects.select_related("petition").get(pk=update.pk), signature.language
    )
    other = make_signature(update.petition, name="Other Signer", language=signature.language)
    built(update, other, parts).message()
    return built(update, signature, parts)


def as_bytes(message) -> bytes:
    return message.message().as_bytes(linesep="\r\n")


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def assert_same_message(fast: bytes, slow: bytes):
    a, b = parsed(fast), parsed(slow)
    # The multipart boundary is random in every message Django builds, and its Date is the second
    # it was built; the rest must match.
    assert a["Date"] and b["Date"]
    headers = [(k, str(v).strip()) for k, v in a.items() if k not in ("Content-Type", "Date")]
    assert headers == [
        (k, str(v).strip()) for k, v in b.items() if k not in ("Content-Type", "Date")
    ]
    assert a.get_content_type() == b.get_content_type() == "multipart/alternative"
    parts_a, parts_b = list(a.iter_parts()), list(b.iter_parts())
    assert len(parts_a) == len(parts_b) == 2
    for part_a, part_b in zip(parts_a, parts_b, strict=True):
        assert list(part_a.items()) == list(part_b.items())
        assert part_a.get_content() == part_b.get_content()


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("name", NAMES)
def test_a_signers_message_from_a_chunks_parts_is_the_message_built_for_them_alone(language, name):
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
    message = in_a_chunk(update, signature)

    assert type(message) is EmailMultiAlternatives  # Django's own message, nothing pre-encoded
    fast = as_bytes(message)
    assert_same_message(fast, as_bytes(built(update, signature)))
    assert max(len(line) for line in fast.split(b"\r\n")) <= 998
    text = parsed(fast).get_body(preferencelist=("plain",)).get_content()
    html = parsed(fast).get_body(preferencelist=("html",)).get_content()
    assert name in text.splitlines()[0]
    assert "&lt;Jerry&gt;" in html if "<Jerry>" in name else name in html


def test_a_signer_who_wrote_in_the_missing_language_gets_the_same_message_as_built_alone():
    petition = make_petition()
    signature = make_signature(petition, name="سارا", language="fa")
    update = Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="Monday.", email_signers=True
    )
    message = in_a_chunk(update, signature)
    assert type(message) is EmailMultiAlternatives
    assert_same_message(as_bytes(message), as_bytes(built(update, signature)))


def test_an_address_that_is_not_plain_ascii_is_encoded_by_django():
    petition = make_petition()
    signature = make_signature(petition, email="sara@پست.example")
    update = Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="Monday.", email_signers=True
    )
    message = in_a_chunk(update, signature)
    assert type(message) is EmailMultiAlternatives
    sent = parsed(as_bytes(message))
    assert sent["To"].addresses[0].domain == "پست.example".encode("idna").decode()
    assert "Hearing set" in sent.get_body(preferencelist=("plain",)).get_content()


def test_an_update_with_a_line_too_long_for_smtp_is_encoded_within_the_limit():
    petition = make_petition()
    signature = make_signature(petition)
    update = Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="word " * 400, email_signers=True
    )
    message = in_a_chunk(update, signature)
    # Django encodes a body with a line over 998 bytes (quoted-printable).
    assert type(message) is EmailMultiAlternatives
    raw = as_bytes(message)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
