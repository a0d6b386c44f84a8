"""Where a webhook may be sent: never into the site's own network (SSRF), unless settings say this
is a development machine or a test. Checked when an endpoint is saved and again before each POST,
which then connects to the very address checked."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _


class UnsafeAddress(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_address(url: str, *, resolve: bool) -> list[str]:
    """The addresses `url` may be reached at; UnsafeAddress if none. Without
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES (DEBUG and tests only) every address the name resolves to
    must be public, so that an organiser cannot point the site at its own network. With it,
    plain http is allowed to private addresses only, never across the internet."""
    parts = urlsplit(url)
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeAddress(_("The address must start with https://."))
    if parts.scheme == "http" and not allow_private:
        raise UnsafeAddress(_("The address must start with https://."))
    if parts.username or parts.password:
        raise UnsafeAddress(_("Put no user name or password in the address: use the secret."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeAddress(_("The address's port is not a number.")) from None
    try:
        addresses = [ipaddress.ip_address(parts.hostname).compressed]
    except ValueError:
        if not resolve:
            return []
        try:
            infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise UnsafeAddress(_("The address's name cannot be found.")) from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    public = [_public(address) for address in addresses]
    if not allow_private and not all(public):
        raise UnsafeAddress(_("The address leads to a private or local network."))
    if parts.scheme == "http" and any(public):
        raise UnsafeAddress(_("Only a local address may use plain http; use https://."))
    return addresses
