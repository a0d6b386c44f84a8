"""An endpoint cannot point the site at its own network (SSRF): refused when saved and again when
sent, whatever the name resolves to by then."""

import socket

import pytest
from django.core.exceptions import ValidationError

from integrations import webhooks
from integrations.models import Delivery, Endpoint
from integrations.webhook_addresses import UnsafeAddress, check_address
from tests.factories import make_endpoint, make_petition, make_signature

PRIVATE = [
    "https://127.0.0.1/hooks",
    "https://localhost/hooks",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://192.168.1.10:8443/",
    "https://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
    "https://100.64.0.1/",
    "https://[::1]/",
    "https://[fd00::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://0.0.0.0/",
]


@pytest.fixture
def resolves_to(monkeypatch):
    """Names resolve as the test says, not as this machine's resolver would."""

    def answer(*addresses):
        def getaddrinfo(host, port, *args, **kwargs):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return answer


@pytest.mark.parametrize("url", PRIVATE)
def test_a_private_or_local_address_is_refused_in_production(url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(UnsafeAddress):
        check_address(url, resolve=True)


def test_a_name_that_resolves_to_any_private_address_is_refused(settings, resolves_to):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    resolves_to("93.184.215.14", "10.0.0.5")
    with pytest.raises(UnsafeAddress):
        check_address("https://crm.example.org/hooks", resolve=True)
    resolves_to("93.184.215.14")
    assert check_address("https://crm.example.org/hooks", resolve=True) == ["93.184.215.14"]


@pytest.mark.parametrize(
    "url",
    ["http://crm.example.org/", "ftp://crm.example.org/", "https://user:pw@crm.example.org/"],
)
def test_only_https_without_credentials_is_accepted(url, settings, resolves_to):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    resolves_to("93.184.215.14")
    with pytest.raises(UnsafeAddress):
        check_address(url, resolve=True)


def test_development_allows_plain_http_to_a_local_address_only(settings, resolves_to):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    assert check_address("http://127.0.0.1:8080/", resolve=True) == ["127.0.0.1"]
    resolves_to("93.184.215.14")
    with pytest.raises(UnsafeAddress):
        check_address("http://crm.example.org/", resolve=True)


@pytest.mark.django_db
def test_the_admins_form_refuses_a_private_address(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    endpoint = Endpoint(url="https://169.254.169.254/", owner_email="o@example.org")
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()
    assert "url" in refused.value.message_dict


@pytest.mark.django_db
def test_a_name_that_turns_private_after_it_was_saved_is_not_posted_to(
    settings, resolves_to, monkeypatch
):
    """DNS rebinding: checked again before each POST, which connects to the address checked."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    petition = make_petition()
    make_endpoint(petition, url="https://crm.example.org/hooks")
    make_signature(petition, consent_contact=True)
    webhooks.discover()
    resolves_to("127.0.0.1")
    connects = []
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kw: connects.append(args))
    webhooks.deliver_due()
    delivery = Delivery.objects.get()
    assert connects == []
    assert delivery.state == Delivery.State.QUEUED
    assert "private or local" in delivery.error


@pytest.mark.django_db
def test_the_post_connects_to_the_address_that_was_checked(settings, resolves_to, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    resolves_to("93.184.215.14")
    connects = []

    def refuse(address, *args, **kwargs):
        connects.append(address)
        raise ConnectionRefusedError("refused in the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    status, error = webhooks.post("https://crm.example.org:8443/hooks", b"{}", {})
    assert connects == [("93.184.215.14", 8443)]
    assert (status, error) == (None, "ConnectionRefusedError: refused in the test")
