"""Crafted input at the sign form: nothing gets a 500 and nothing odd is stored."""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.persian import BIDI_CONTROLS, OTHER_CONTROLS
from signatures.models import Signature
from tests.factories import make_petition, sign_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.SIGN_RATE_PER_IP = "100000/m"


hostile_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=50),
    st.text(alphabet="\x00\u202e\u2066\u200c\ufeff\r\n\t=+-@" + string.ascii_letters, max_size=80),
    st.text(min_size=600, max_size=5000),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=hostile_text, email=hostile_text, locality=hostile_text, comment=hostile_text)
def test_arbitrary_unicode_never_breaks_signing_or_stores_junk(
    client, name, email, locality, comment
):
    petition = make_petition()
    response = client.post(
        f"/en/p/{petition.slug}/sign/",
        sign_form_data(petition, name=name, email=email, locality=locality, comment=comment),
    )
    assert response.status_code in (302, 400)
    for signature in Signature.objects.filter(petition=petition):
        for value in (signature.name, signature.email, signature.locality, signature.comment):
            assert not BIDI_CONTROLS.search(value)
            assert not OTHER_CONTROLS.search(value)
            assert "\x00" not in value
        assert len(signature.name) <= 100
        assert len(signature.comment) <= 500
        assert signature.name.strip() and signature.name[0] not in "=+-@"


def test_nul_bytes_are_refused_or_stripped_not_a_500(client):
    petition = make_petition()
    response = client.post(
        f"/en/p/{petition.slug}/sign/",
        sign_form_data(petition, name="Sa\x00ra K", comment="a\x00b"),
    )
    assert response.status_code in (302, 400)
    signature = Signature.objects.filter(petition=petition).first()
    if signature:
        assert "\x00" not in signature.name + signature.comment


def test_malformed_utf8_gets_a_client_error_not_a_500(client):
    petition = make_petition()
    body = b"name=%FF%FE%80&email=a%C0%80@example.com&country=GB"
    response = client.post(
        f"/en/p/{petition.slug}/sign/", body, content_type="application/x-www-form-urlencoded"
    )
    assert 400 <= response.status_code < 500


def test_a_ten_megabyte_body_gets_a_400(client):
    petition = make_petition()
    body = b"comment=" + b"x" * (10 * 1024 * 1024)
    response = client.post(
        f"/en/p/{petition.slug}/sign/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_too_many_fields_get_a_400(client):
    petition = make_petition()
    body = "&".join(f"f{n}=x" for n in range(1000)).encode()
    response = client.post(
        f"/en/p/{petition.slug}/sign/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def test_a_path_with_odd_bytes_is_not_a_500(client):
    for path in ("/en/p/%00/", "/en/p/%FF%FE/", "/fa/p/" + "a" * 5000 + "/", "/en/p/..%2F..%2F/"):
        assert client.get(path).status_code in (400, 404), path


def test_an_address_longer_than_any_slug_is_not_looked_up(client, django_assert_num_queries):
    petition = make_petition(slug="a" * 80)
    assert client.get(f"/en/p/{petition.slug}/").status_code == 200
    with django_assert_num_queries(0):
        assert client.get(f"/en/p/{'a' * 81}/count.json").status_code == 404
    assert client.get(f"/api/v1/petitions/{petition.slug}").status_code == 200
    assert client.get(f"/api/v1/petitions/{'a' * 81}").status_code == 404
