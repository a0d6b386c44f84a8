import re

import pytest
from csp.decorators import csp_replace
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.clickjacking import xframe_options_exempt

import config.urls
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db

# Everything from our own origin, no inline script or style, and no framing.
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.fixture
def urls():
    petition = make_petition(slug="free-press")
    make_signature(petition)
    return {
        "home": "/en/",
        "home (Persian)": "/fa/",
        "petition": "/fa/p/free-press/",
        "thanks": "/en/p/free-press/thanks/",
        "count.json": "/en/p/free-press/count.json",
        "privacy": "/fa/privacy/",
        "not found": "/en/p/nothing-here/",
        "admin login": "/admin/login/",
        "health": "/healthz",
    }


def test_every_page_type_sends_the_security_headers(client, urls):
    for name, url in urls.items():
        response = client.get(url)
        assert directives(response["Content-Security-Policy"]) == POLICY, name
        assert response["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name
        assert response["X-Frame-Options"] == "DENY", name


def test_hsts_and_secure_cookies_are_on_in_production(settings):
    # The production defaults (DEBUG off); tests turn only the HTTPS redirect off.
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY


def test_public_pages_have_no_inline_script_or_style(client, urls):
    for name, url in urls.items():
        if name in {"count.json", "health", "admin login"}:
            continue
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), name
        assert " style=" not in html, name
        assert "<style" not in html, name


def test_the_remember_cookie_is_secure_and_http_only(client):
    from tests.factories import sign_form_data

    petition = make_petition()
    response = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    cookie = response.cookies["supporter"]
    assert cookie["secure"] and cookie["httponly"]


# A page another site may frame (the embeddable widget of a later issue) opts in for itself.
@csp_replace({"frame-ancestors": ["https://partner.example"]})
@xframe_options_exempt
def embeddable(request):
    return HttpResponse("<p>A widget</p>")


urlpatterns = [path("embeddable/", embeddable), *config.urls.urlpatterns]


@pytest.mark.urls(__name__)
def test_a_view_can_let_other_sites_frame_it_while_every_other_page_refuses(client, urls):
    response = client.get("/embeddable/")
    assert directives(response["Content-Security-Policy"]) == POLICY | {
        "frame-ancestors": "https://partner.example"
    }
    assert "X-Frame-Options" not in response
    for name, url in urls.items():
        response = client.get(url)
        assert directives(response["Content-Security-Policy"])["frame-ancestors"] == "'none'", name
        assert response["X-Frame-Options"] == "DENY", name


def test_the_answer_to_a_signature_and_its_refusals_send_the_site_policy(client, settings):
    """The redirect after a signature gets the policy made once (lib.middleware), and it follows
    the settings; a refusal is a page with its policy built as any page's."""
    from django.test import Client

    from tests.factories import sign_form_data

    petition = make_petition(slug="free-press")
    url = "/en/p/free-press/sign/"
    signed = client.post(url, sign_form_data(petition), HTTP_ORIGIN="http://testserver")
    refused = Client().post(url, sign_form_data(petition), HTTP_ORIGIN="https://elsewhere.example")
    assert [signed.status_code, refused.status_code] == [302, 403]
    for response in (signed, refused):
        assert directives(response["Content-Security-Policy"]) == POLICY
        assert response["X-Frame-Options"] == "DENY"

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    data = sign_form_data(petition, email="other@example.com")
    response = Client().post(url, data, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 302
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_every_answer_of_count_json_sends_the_site_policy(client, settings):
    """count.json's policy is built once, not per answer (lib.middleware): the same policy on
    its 200, its 304 and a missing petition's 404, and it follows the settings."""
    petition = make_petition(slug="free-press")
    url = "/en/p/free-press/count.json"
    first = client.get(url)
    answers = {
        "200": first,
        "304": client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]),
        "404": client.get("/en/p/nothing-here/count.json"),
    }
    assert [a.status_code for a in answers.values()] == [200, 304, 404]
    for name, response in answers.items():
        assert directives(response["Content-Security-Policy"]) == POLICY, name
        assert response["X-Frame-Options"] == "DENY", name
        assert "Content-Security-Policy-Report-Only" not in response, name

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    from django.test import Client

    response = Client().get(f"/en/p/{petition.slug}/count.json")
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'self'"
