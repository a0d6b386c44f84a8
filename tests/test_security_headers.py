import re

import pytest

from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


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
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp, name
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, name
        assert "frame-ancestors 'none'" in csp, name
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
    cookie = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data()).cookies["supporter"]
    assert cookie["secure"] and cookie["httponly"]
