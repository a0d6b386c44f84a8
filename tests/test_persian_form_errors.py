"""Form errors on Persian pages show Persian digits ("حداکثر ۱۰۰ کاراکتر")."""

import pytest

from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db


def test_persian_length_error_uses_persian_digits(client):
    petition = make_petition()
    response = client.post(f"/fa/p/{petition.slug}/sign/", sign_form_data(petition, name="ب" * 101))
    html = response.content.decode()
    assert response.status_code == 400 or response.status_code == 200
    assert "۱۰۰" in html and "۱۰۱" in html
    error = html.split('class="field__error"')[1].split("</p>")[0]
    assert not any(ch.isascii() and ch.isdigit() for ch in error)


def test_english_length_error_keeps_ascii_digits(client):
    petition = make_petition()
    html = client.post(
        f"/en/p/{petition.slug}/sign/", sign_form_data(petition, name="b" * 101)
    ).content.decode()
    assert "100" in html.split('class="field__error"')[1]
