"""The plain-text part and the subject of every email are text, not HTML: an ampersand or an angle
bracket in a petition's title, an update or a signer's name reads as written, never as `&amp;`.
(Django's templates escape for HTML unless told otherwise; the HTML part still escapes.)"""

import pytest

from petitions import mailing
from petitions.models import Update
from tests.factories import make_petition, make_signature, make_staff, sign_form_data

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Tom & Jerry <for everyone>"


def plain(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_the_confirmation_email_keeps_an_ampersand_as_written(client, mailbox):
    petition = make_petition(requires_confirmation=True, title_en=TITLE)
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, name="Sara & Reza O'Neil"))
    [message] = mailbox.messages
    assert TITLE in message["Subject"]
    assert TITLE in plain(message)
    assert "Sara & Reza O'Neil" in plain(message)
    assert "&amp;" not in plain(message) + message["Subject"]
    assert "Tom &amp; Jerry &lt;for everyone&gt;" in html(message)


def test_an_update_email_keeps_an_ampersand_as_written(mailbox):
    petition = make_petition(title_en=TITLE)
    make_signature(petition, name="Sara & Reza", consent_contact=True)
    update = Update.objects.create(
        petition=petition,
        title_en="Q&A on Monday",
        body_en="Bring friends & family.",
        email_signers=True,
    )
    mailing.approve(update, by=make_staff())
    [message] = mailbox.messages
    assert f"Update on “{TITLE}”: Q&A on Monday" in message["Subject"]
    text = plain(message)
    for written in (TITLE, "Q&A on Monday", "Bring friends & family.", "Hello Sara & Reza,"):
        assert written in text
    assert "&amp;" not in text
    assert "Sara &amp; Reza" in html(message)
