"""The site's own addresses in full. Anything that leaves the page (a shared link, an Open Graph
or oEmbed address, an email) names the canonical site, SITE_URL, whichever host the request came
in on: a link shared from a mirror or from the onion address must still open for everyone else,
and the page stays the same bytes on every host."""

from urllib.parse import urlsplit

from django.conf import settings


def site_url(path: str) -> str:
    """`path` (as reverse() gives it) on the canonical site."""
    return settings.SITE_URL + path


def own_hosts(request) -> set[str]:
    """Every host name this site answers to as itself: the request's own, the canonical one, the
    mirrors and the onion address."""
    hosts = {request.get_host(), urlsplit(settings.SITE_URL).netloc, *settings.MIRROR_HOSTS}
    return hosts | ({settings.ONION_HOST} if settings.ONION_HOST else set())


def on_onion(request) -> bool:
    """Whether this request came through the site's Tor onion service (settings.ONION_URL).

    Only the proxy knows: its onion listener sends `X-Via-Onion: 1` and its public one drops any
    a client sent (deploy/nginx/petitions.conf). The Host header is the client's to choose, so it
    decides nothing, and without a proxy in front (NUM_PROXIES=0) nothing would drop the header.
    """
    return bool(
        settings.ONION_HOST and settings.NUM_PROXIES and request.headers.get("X-Via-Onion") == "1"
    )
