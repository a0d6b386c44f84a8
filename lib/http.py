"""Which client sent a request, and how a public page is cached, in front and by the app."""

import hashlib
import ipaddress

from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.views.decorators.clickjacking import xframe_options_exempt

from . import cache

# Long enough for a cache in front to answer a crowd, short enough that an organiser's edit shows
# within seconds; the live counter brings the count up to date in the browser.
PAGE_CACHE = {"public": True, "max_age": 10, "stale_while_revalidate": 60}


def client_ip(request) -> str:
    """As every limit counts it, the admin's lockout (AXES_CLIENT_IP_CALLABLE) included."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.NUM_PROXIES:
        forwarded = [ip.strip() for ip in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [ip for ip in forwarded if ip]
        if len(forwarded) >= settings.NUM_PROXIES:
            address = forwarded[-settings.NUM_PROXIES]
    return source_address(address)


def source_address(ip: str | None) -> str:
    """IPv6 counts as its /64, which every IPv6 host has to itself; junk is the one source ""."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(address), 64), strict=False).network_address)


def cache_like_the_page(response, personal: bool):
    if personal:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, **PAGE_CACHE)
        # A cache must not hand this page to a visitor whose cookies would change it.
        patch_vary_headers(response, ["Cookie"])
    return response


def kept(key: str, make, frame_ancestors=None) -> HttpResponse:
    """For servers without nginx in front, and the visitors nginx passes through."""
    found = kept_page(key)
    if found is not None:
        return found
    response = make()
    if response.status_code == 200:
        ancestors = frame_ancestors() if frame_ancestors else None
        cache.set(key, (response.content, ancestors), PAGE_CACHE["max_age"])
    return response


def kept_page(key: str) -> HttpResponse | None:
    found = cache.get(key)
    if found is None:
        return None
    content, ancestors = found
    response = cache_like_the_page(HttpResponse(content), personal=False)
    return response if ancestors is None else framed_by(response, ancestors)


def framed_by(response, ancestors: list[str]):
    @csp_replace({"frame-ancestors": ancestors})
    @xframe_options_exempt
    def framed(request):
        return response

    return framed(None)


def strong_etag(body: str | bytes) -> str:
    """The same bytes, the same tag, on every app server: a cache in front may revalidate any."""
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.blake2b(data, digest_size=8).hexdigest() + '"'


def not_modified(request, etag: str) -> bool:
    """Whether the client's If-None-Match already names these bytes."""
    tags = parse_etags(request.META.get("HTTP_IF_NONE_MATCH", ""))
    return etag in tags or "*" in tags
