"""Absolute addresses name SITE_URL whichever host a request came in on: a link shared from a
mirror or the onion address must open for everyone, and a page is the same bytes on every host."""

from urllib.parse import urlsplit

from django.conf import settings


def site_url(path: str) -> str:
    return settings.SITE_URL + path


def own_hosts(request) -> set[str]:
    hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc, *settings.MIRROR_HOSTS}
    return hosts | ({settings.ONION_HOST} if settings.ONION_HOST else set())


def on_onion(request) -> bool:
    """Only the proxy knows (deploy/nginx/petitions.conf): the client chooses the Host header."""
    return bool(
        settings.ONION_HOST and settings.NUM_PROXIES and request.headers.get("X-Via-Onion") == "1"
    )
