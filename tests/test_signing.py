import pytest

from petitions.models import Petition
from signatures.models import Signature, SignatureCount
from signatures.supporter import COOKIE_NAME
from tests.factories import make_petition, make_signature, sign_form_data
from tests.html import elements

pytestmark = pytest.mark.django_db


def sign_url(petition, language="en"):
    return f"/{language}/p/{petition.slug}/sign/"


@pytest.mark.parametrize("language", ["en", "fa"])
def test_signing_in_each_language_records_and_counts_the_signature(client, language):
    petition = make_petition()
    response = client.post(
        sign_url(petition, language), sign_form_data(petition, email="Sara@Example.com")
    )

    assert response.status_code == 302
    assert response.url == f"/{language}/p/{petition.slug}/thanks/"
    signature = Signature.objects.get()
    assert signature.language == language
    assert signature.email == "Sara@Example.com"
    assert signature.email_canonical == "sara@example.com"
    assert signature.status == Signature.Status.COUNTED
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_the_thank_you_page_shows_the_updated_count_and_share_links(
    client, django_capture_on_commit_callbacks
):
    petition = make_petition()
    make_signature(petition)
    client.get(f"/en/p/{petition.slug}/")  # warms the cached count
    with django_capture_on_commit_callbacks(execute=True):
        signed = client.post(sign_url(petition), sign_form_data(petition))
    response = client.get(signed.url)

    html = response.content.decode()
    assert "Thank you for signing" in html
    assert "2</strong> signatures so far" in html
    hrefs = [a["href"] for a in elements(html, "a")]
    for network in ("twitter.com/intent/tweet", "facebook.com/sharer", "wa.me/", "t.me/share"):
        assert any(network in href for href in hrefs), network
    assert any(href.startswith("mailto:?subject=") for href in hrefs)
    assert '<script src="http' not in html


def test_consent_to_contact_is_off_unless_ticked(client):
    petition = make_petition()
    client.post(sign_url(petition), sign_form_data(petition))
    assert Signature.objects.get().consent_contact is False
    client.post(sign_url(petition), sign_form_data(petition, consent_contact="on"))
    assert Signature.objects.filter(consent_contact=True).count() == 1


def test_signer_ip_is_stored_only_as_a_hash(client):
    petition = make_petition()
    client.post(sign_url(petition), sign_form_data(petition), REMOTE_ADDR="203.0.113.7")
    signature = Signature.objects.get()
    assert signature.ip_hash
    assert "203.0.113.7" not in signature.ip_hash
    assert len(signature.ip_hash) == 32


def test_errors_are_shown_next_to_their_fields_in_the_page_language(client):
    petition = make_petition()
    response = client.post(
        sign_url(petition, "fa"), sign_form_data(petition, name="", email="not-an-email")
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_email_error"' in html
    assert "لطفاً نشانی ایمیلتان را بررسی کنید." in html
    assert "لطفاً نامتان را بنویسید." in html or "این فیلد لازم است." in html
    email = elements(html, "input", name="email")[0]
    assert email["aria-invalid"] == "true"
    assert email["dir"] == "ltr"
    assert not Signature.objects.exists()


def test_the_form_preselects_iran_on_persian_pages_only(client):
    petition = make_petition()
    fa = client.get(f"/fa/p/{petition.slug}/").content.decode()
    en = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "selected" in elements(fa, "option", value="IR")[0]
    assert [o["value"] for o in elements(en, "option") if "selected" in o] == [""]


def test_persian_page_lists_countries_in_persian(client):
    petition = make_petition()
    html = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert ">ایران</option>" in html


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("locality", "۱۲۳۴۵", "12345"),
        ("name", "علي كريمي", "علی کریمی"),
        ("name", "Sara\u202e K", "Sara K"),
        ("name", "مهسا خامنه\u200cای", "مهسا خامنه\u200cای"),
    ],
)
def test_input_is_normalised_before_it_is_stored(client, field, typed, stored):
    petition = make_petition()
    client.post(sign_url(petition), sign_form_data(petition, **{field: typed}))
    assert getattr(Signature.objects.get(), field) == stored


def test_a_name_that_is_a_link_is_refused(client):
    petition = make_petition()
    response = client.post(sign_url(petition), sign_form_data(petition, name="www.spam.example"))
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_overlong_input_is_refused_not_truncated(client):
    petition = make_petition()
    response = client.post(sign_url(petition), sign_form_data(petition, comment="x" * 501))
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_closed_petition_refuses_signatures_with_a_message(client):
    petition = make_petition(status=Petition.Status.CLOSED)
    response = client.post(sign_url(petition), sign_form_data(petition), follow=True)
    assert "This petition is closed" in response.content.decode()
    assert not Signature.objects.exists()


def test_closed_petition_hides_the_form(client):
    petition = make_petition(status=Petition.Status.CLOSED)
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert not elements(html, "form", method="post")


def test_draft_petition_cannot_be_signed(client):
    petition = make_petition(status=Petition.Status.DRAFT)
    assert client.post(sign_url(petition), sign_form_data(petition)).status_code == 404
    assert not Signature.objects.exists()


def test_signing_needs_a_post(client):
    petition = make_petition()
    assert client.get(sign_url(petition)).status_code == 405


def test_signing_sets_an_http_only_remember_cookie_without_the_email_in_clear(client):
    petition = make_petition()
    response = client.post(sign_url(petition), sign_form_data(petition, email="sara@example.com"))
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert "sara@example.com" not in cookie.value
