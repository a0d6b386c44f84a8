"""Reach under filtering: links that leave the page name SITE_URL whatever host the
request came in on; mirrors serve the whole site; the onion address is served over plain HTTP
without the HTTPS redirect, HSTS or Secure-only cookies, and the clear-web pages point to it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from signatures.models import Signature
from tests.factories import make_petition, make_staff, one_click_data, sign_form_data
from tests.html import elements
from tests.nginx import shipped_nginx

SITE = "https://petitions.example.org"
MIRROR = "mirror.example.net"
ONION = "exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"
ONION_URL = f"http://{ONION}"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def hosts(settings):
    """The production HTTPS rules on, with a mirror and an onion address, as config/settings.py
    builds them from MIRROR_HOSTS and ONION_URL (checked in
    test_mirror_and_onion_hosts_are_allowed_and_trusted)."""
    settings.SITE_URL = SITE
    settings.MIRROR_HOSTS = [MIRROR]
    settings.ONION_URL = ONION_URL
    settings.ONION_HOST = ONION
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "petitions.example.org", MIRROR, ONION]
    settings.CSRF_TRUSTED_ORIGINS = [f"https://{MIRROR}", ONION_URL]
    settings.REDIRECT_TO_HTTPS = True
    settings.SECURE_SSL_REDIRECT = False  # Django's: OnionMiddleware redirects instead
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_COOKIES = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.NUM_PROXIES = 1  # nginx, which alone says whether a request came through Tor
    return settings


class HttpsClient(Client):
    """A browser on an HTTPS site: every request over HTTPS."""

    def generic(self, *args, **kwargs):
        kwargs["secure"] = True
        return super().generic(*args, **kwargs)


def on_mirror(**extra) -> Client:
    return HttpsClient(HTTP_HOST=MIRROR, **extra)


def on_onion(**extra) -> Client:
    """A Tor Browser through the onion service's listener, which nginx marks (deploy/nginx)."""
    return Client(HTTP_HOST=ONION, HTTP_X_VIA_ONION="1", **extra)


def test_mirror_and_onion_hosts_are_allowed_and_trusted():
    """config/settings.py, read in a fresh interpreter with the variables set."""
    env = os.environ | {
        "MIRROR_HOSTS": f"{MIRROR},mirror-two.example.org",
        "ONION_URL": ONION_URL + "/",
        "ALLOWED_HOSTS": "petitions.example.org",
        "DEFAULT_FROM_EMAIL": "Petitions <hello@petitions.example.org>",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECURE_SSL_REDIRECT": "true",  # the tests' own environment turns it off
    }
    env.pop("PRIVACY_CONTACT", None)
    script = (
        "import json; from django.conf import settings as s; print(json.dumps([s.ALLOWED_HOSTS,"
        " s.CSRF_TRUSTED_ORIGINS, s.ONION_URL, s.ONION_HOST, s.PRIVACY_CONTACT,"
        " s.REDIRECT_TO_HTTPS, s.SECURE_SSL_REDIRECT]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(result.stdout.splitlines()[-1])
    allowed, trusted, onion_url, onion_host, contact, redirect, djangos_redirect = found
    assert allowed == ["petitions.example.org", MIRROR, "mirror-two.example.org", ONION]
    assert trusted == [f"https://{MIRROR}", "https://mirror-two.example.org", ONION_URL]
    assert (onion_url, onion_host) == (ONION_URL, ONION)
    assert contact == "hello@petitions.example.org"
    # Every other host still goes to HTTPS, by OnionMiddleware rather than Django's redirect.
    assert (redirect, djangos_redirect) == (True, False)


@pytest.mark.system
def test_check_deploy_is_clean_with_an_onion_address(tmp_path):
    """Django's deploy checks, SecurityMiddleware's included, still run with an onion address;
    only W008 (SECURE_SSL_REDIRECT off) is silenced, the redirect being OnionMiddleware's."""
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "k3y-" + "production-like-secret-with-enough-entropy-" * 2,
        "ALLOWED_HOSTS": "petitions.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}",
        "ONION_URL": ONION_URL,
    }
    check = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = subprocess.run(check, env=env, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    # Without the redirect, W008 is not silenced: it is true then.
    env["SECURE_SSL_REDIRECT"] = "false"
    result = subprocess.run(check, env=env, cwd=REPO, capture_output=True, text=True)
    assert "security.W008" in result.stderr


@pytest.mark.django_db
def test_share_links_and_open_graph_use_site_url_on_a_mirror(hosts):
    petition = make_petition(slug="free-press")
    mirror = on_mirror()
    page = mirror.get("/fa/p/free-press/")
    assert page.status_code == 200
    html = page.content.decode()
    canonical = f"{SITE}/fa/p/free-press/"
    assert elements(html, "meta", property="og:url", content=canonical)
    assert elements(html, "link", rel="alternate", hreflang="en", href=f"{SITE}/en/p/free-press/")
    assert MIRROR not in html

    response = mirror.post("/fa/p/free-press/sign/", sign_form_data(petition))
    assert response.status_code == 302
    thanks = mirror.get(response.url).content.decode()
    quoted = "https%3A%2F%2Fpetitions.example.org%2Ffa%2Fp%2Ffree-press%2F"
    assert f"https://t.me/share/url?url={quoted}" in thanks
    assert elements(thanks, "input", id="share-url", value=canonical)
    assert MIRROR not in thanks

    widget = mirror.get("/fa/p/free-press/embed/").content.decode()
    assert elements(widget, "link", rel="canonical", href=canonical)


@pytest.mark.django_db
def test_oembed_on_a_mirror_names_the_canonical_site(hosts):
    make_petition(slug="free-press")
    answer = on_mirror().get("/oembed", {"url": f"https://{MIRROR}/en/p/free-press/"})
    assert answer.status_code == 200
    html = answer.json()["html"]
    assert f'src="{SITE}/en/p/free-press/embed/"' in html
    assert answer.json()["provider_url"] == f"{SITE}/en/"
    # An address on another site is still refused.
    assert (
        on_mirror()
        .get("/oembed", {"url": "https://elsewhere.example/en/p/free-press/"})
        .status_code
        == 404
    )


@pytest.mark.django_db(transaction=True)
def test_email_links_use_site_url_when_signed_on_a_mirror(hosts, mailbox):
    hosts.SITE_URL = SITE  # the mailbox fixture points it at the test server
    petition = make_petition(slug="free-press", requires_confirmation=True)
    response = on_mirror().post(
        "/en/p/free-press/sign/", sign_form_data(petition, email="sara@example.com")
    )
    assert response.status_code == 302
    (message,) = mailbox.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert re.search(rf"{re.escape(SITE)}/en/confirm/\S+/", text)
    assert MIRROR not in text
    assert MIRROR not in message.get_body(preferencelist=("html",)).get_content()


@pytest.mark.django_db
def test_a_mirror_serves_the_admin_with_its_csrf_check(hosts):
    make_staff(username="organiser")
    mirror = on_mirror(enforce_csrf_checks=True)
    login = mirror.get("/admin/login/")
    assert login.status_code == 200
    token = login.cookies["csrftoken"].value
    response = mirror.post(
        "/admin/login/",
        {"username": "organiser", "password": "a-long-test-password", "csrfmiddlewaretoken": token},
        headers={"Origin": f"https://{MIRROR}", "Referer": f"https://{MIRROR}/admin/login/"},
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_clear_web_site_redirects_to_https_sends_hsts_and_names_its_onion(hosts):
    make_petition(slug="free-press")
    plain = Client(HTTP_HOST="petitions.example.org")
    response = plain.get("/fa/p/free-press/")
    assert response.status_code == 301
    assert response["Location"] == "https://petitions.example.org/fa/p/free-press/"

    secure = HttpsClient(HTTP_HOST="petitions.example.org")
    for path in ("/fa/p/free-press/", "/en/", "/en/privacy/", "/fa/p/free-press/embed/"):
        response = secure.get(path + "?fbclid=one-readers-tag")
        assert response["Strict-Transport-Security"].startswith("max-age=31536000"), path
        assert response["Onion-Location"] == f"{ONION_URL}{path}", path
    # Not on what is not a public page.
    assert "Onion-Location" not in secure.get("/fa/p/free-press/count.json")
    assert "Onion-Location" not in secure.get("/admin/login/")
    # A mirror names the onion address too.
    assert on_mirror().get("/en/")["Onion-Location"] == f"{ONION_URL}/en/"


@pytest.mark.django_db
def test_the_onion_address_has_no_redirect_no_hsts_and_no_onion_location(hosts):
    make_petition(slug="free-press")
    onion = on_onion()
    for path in ("/fa/p/free-press/", "/en/", "/fa/privacy/", "/healthz"):
        response = onion.get(path)
        assert response.status_code == 200, path
        assert "Strict-Transport-Security" not in response, path
        assert "Onion-Location" not in response, path
    # Even behind a proxy that calls it HTTPS.
    hosts.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = on_onion(HTTP_X_FORWARDED_PROTO="https").get("/en/")
    assert "Strict-Transport-Security" not in response
    # The language redirect stays on the onion host, over HTTP.
    assert onion.get("/", HTTP_ACCEPT_LANGUAGE="fa")["Location"] == "/fa/"


@pytest.mark.django_db
def test_signing_on_the_onion_address_sets_no_secure_only_cookie_and_one_click_works(hosts):
    first, second = make_petition(), make_petition()
    onion = on_onion(enforce_csrf_checks=True)
    headers = {"Origin": ONION_URL, "Sec-Fetch-Site": "same-origin"}
    data = sign_form_data(first, name="Sara Karimi", country="IR")
    response = onion.post(f"/fa/p/{first.slug}/sign/", data, headers=headers)
    assert response.status_code == 302
    assert response["Location"] == f"/fa/p/{first.slug}/thanks/"
    cookie = response.cookies["supporter"]
    assert not cookie["secure"]
    assert cookie["httponly"]
    assert "Strict-Transport-Security" not in response

    page = onion.get(f"/fa/p/{second.slug}/me/").content.decode()
    assert "<bdi>Sara K.</bdi>" in page
    response = onion.post(
        f"/fa/p/{second.slug}/sign/", one_click_data(onion, second), headers=headers
    )
    assert response.status_code == 302
    assert Signature.objects.filter(petition=second, name="Sara Karimi").exists()

    # The same cookie stays Secure on the clear-web site.
    clear = HttpsClient(HTTP_HOST="petitions.example.org")
    response = clear.post(f"/en/p/{first.slug}/sign/", sign_form_data(first))
    assert response.cookies["supporter"]["secure"]


@pytest.mark.django_db
def test_the_admin_signs_in_on_the_onion_address(hosts):
    make_staff(username="organiser")
    onion = on_onion(enforce_csrf_checks=True)
    login = onion.get("/admin/login/")
    assert not login.cookies["csrftoken"]["secure"]
    response = onion.post(
        "/admin/login/",
        {
            "username": "organiser",
            "password": "a-long-test-password",
            "csrfmiddlewaretoken": login.cookies["csrftoken"].value,
        },
        headers={"Origin": ONION_URL},
    )
    assert response.status_code == 302
    assert not response.cookies["sessionid"]["secure"]


@pytest.mark.django_db
def test_signers_on_the_onion_address_share_their_own_larger_limit(hosts):
    """Tor hands every onion signer to the app from one address: the per-address limit for
    households would refuse the twenty-first Tor user in ten minutes."""
    hosts.SIGN_RATE_PER_IP = "2/10m"
    hosts.SIGN_RATE_ONION = "5/10m"
    petition = make_petition()
    onion = on_onion()
    codes = [
        onion.post(f"/fa/p/{petition.slug}/sign/", sign_form_data(petition)).status_code
        for _n in range(6)
    ]
    assert codes == [302] * 5 + [429]

    clear = HttpsClient(HTTP_HOST="petitions.example.org", REMOTE_ADDR="198.51.100.7")
    codes = [
        clear.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition)).status_code
        for _n in range(3)
    ]
    assert codes == [302, 302, 429]


@pytest.mark.django_db
def test_a_clear_web_request_naming_the_onion_host_gets_the_clear_web_rules(hosts):
    """Only nginx's onion listener says a request came through Tor; the Host header is the
    client's to choose."""
    hosts.SIGN_RATE_PER_IP = "2/10m"
    hosts.SIGN_RATE_ONION = "50/10m"
    petition = make_petition()
    plain = Client(HTTP_HOST=ONION)
    assert plain.get("/en/").status_code == 301

    pretender = HttpsClient(HTTP_HOST=ONION, REMOTE_ADDR="198.51.100.8")
    page = pretender.get("/en/")
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    codes = []
    for _n in range(3):
        response = pretender.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
        codes.append(response.status_code)
        if response.status_code == 302:
            assert response.cookies["supporter"]["secure"]
    assert codes == [302, 302, 429]


@pytest.mark.django_db
def test_the_onion_mark_counts_only_from_behind_the_proxy(hosts):
    """Without a proxy in front (NUM_PROXIES=0) nothing strips a client's own X-Via-Onion."""
    hosts.NUM_PROXIES = 0
    response = HttpsClient(HTTP_HOST=ONION, HTTP_X_VIA_ONION="1").get("/en/")
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert Client(HTTP_HOST=ONION, HTTP_X_VIA_ONION="1").get("/en/").status_code == 301


ONION_SITE = {
    "upstream.conf": "server 127.0.0.1:{app};\n",
    "listen.conf": (
        "listen 127.0.0.1:{port_public};\nlisten 127.0.0.1:{port_onion};\n"
        f"server_name petitions.example.org {ONION};\n"
    ),
    "onion.map": "127.0.0.1:{port_onion} 1;\n",
    "cache-path.conf": "proxy_cache_path {tmp}/cache keys_zone=petitions:1m;\n",
}


@pytest.mark.system
def test_nginx_marks_only_the_onion_listeners_requests_and_refuses_the_onion_host_elsewhere():
    with shipped_nginx(ONION_SITE, listeners=("public", "onion")) as nginx:
        status, sent = nginx.request("onion", "GET", "/en/", Host=ONION)
        assert status == 200
        assert sent.get("X-Via-Onion") == "1"
        assert sent["Host"] == ONION

        status, sent = nginx.request("public", "GET", "/en/", Host="petitions.example.org")
        assert status == 200
        assert "X-Via-Onion" not in sent
        # A client's own mark never reaches the app from the public listener.
        status, sent = nginx.request(
            "public", "GET", "/en/", Host="petitions.example.org", **{"X-Via-Onion": "1"}
        )
        assert (status, "X-Via-Onion" in sent) == (200, False)

        for host in (ONION, ONION.upper(), f"{ONION}:80", "www." + ONION):
            status, sent = nginx.request("public", "GET", "/en/", Host=host)
            assert (status, sent) == (421, {}), host
