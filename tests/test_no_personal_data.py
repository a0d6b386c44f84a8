"""No signer's email (or raw address) in anything the public can fetch, or in the logs."""

import logging

import pytest

from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db

EMAILS = ["sara.secret@example.com", "reza.private@example.org", "bot@spam.example"]


def test_no_public_response_contains_a_signers_email(client, caplog):
    caplog.set_level(logging.DEBUG)
    petition = make_petition(slug="free-press")
    closed = make_petition(slug="closed-one", status="closed")
    for n, email in enumerate(EMAILS):
        client.post(
            f"/{'fa' if n % 2 else 'en'}/p/free-press/sign/",
            sign_form_data(petition, email=email, name=f"Signer {n}", locality="Tehran"),
            REMOTE_ADDR=f"198.51.100.{n}",
        )
    # A failed attempt echoes the form back to the person who typed it: that page is theirs, so
    # it is fetched with a fresh client below, never shared.
    anonymous = client.__class__()
    pages = []
    for language in ("en", "fa"):
        for path in (
            "/",
            "p/free-press/",
            "p/free-press/thanks/",
            "p/free-press/count.json",
            "p/closed-one/",
            "privacy/",
            "p/no-such-petition/",
        ):
            url = f"/{language}/{path}" if path != "/" else f"/{language}/"
            pages.append((url, anonymous.get(url)))
            pages.append((url + " (signed-in browser)", client.get(url)))
    pages.append(("/healthz", anonymous.get("/healthz")))
    assert closed

    for url, response in pages:
        body = response.content.decode()
        for email in EMAILS:
            local = email.split("@")[0]
            assert local not in body, (url, email)
        assert "198.51.100." not in body, url
        assert "198.51.100." not in response.get("Set-Cookie", ""), url

    logged = caplog.text
    for email in EMAILS:
        assert email.split("@")[0] not in logged
    assert "198.51.100." not in logged
    assert petition
