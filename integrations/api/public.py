"""What every API address does around its answer: the same bytes for everyone (no cookie read or
set), a strong ETag and 304, Cache-Control, CORS for any site, and the per-address rate limit.

A plain Django view decorator rather than a ninja hook, so that the schema, the reference page,
the bulk files, OPTIONS preflights and errors all get it too."""

import functools

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_cache_control
from django.utils.http import parse_http_date_safe

from lib import ratelimit
from lib.http import client_ip, not_modified, strong_etag
from signatures.signing import hash_ip

# Errors are cached briefly too, so a crowd asking for a withdrawn petition reaches us seldom.
ERROR_CACHE = {"public": True, "max_age": 10}
# What changes only with a deploy (the schema), where the view set no rule of its own.
STATIC_CACHE = {"public": True, "max_age": 300}
READ_METHODS = ("GET", "HEAD")
PREFLIGHT_SECONDS = 86400


def cors(response: HttpResponse) -> HttpResponse:
    """Any page may read any answer: none is personal, and none is sent with credentials."""
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Retry-After"
    return response


def preflight() -> HttpResponse:
    response = cors(HttpResponse(status=204))
    response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_SECONDS)
    response["Cache-Control"] = f"public, max-age={PREFLIGHT_SECONDS}"
    return response


def too_many(retry_after: int) -> JsonResponse:
    response = JsonResponse({"detail": "Too many requests from your address; see Retry-After."})
    response.status_code = 429
    response["Retry-After"] = str(max(retry_after, 1))
    response["Cache-Control"] = "no-store"
    return response


def refused(request) -> JsonResponse | None:
    """429 once this address has used up API_RATE_PER_IP; counted where signing's limits are."""
    address = hash_ip(client_ip(request))
    limit = ratelimit.Limit("api", f"api:ip:{address}", settings.API_RATE_PER_IP)
    verdict = ratelimit.hit([limit])
    return too_many(verdict.retry_after) if verdict.refused else None


def public_read(view):
    @functools.wraps(view)
    def answer(request, *args, **kwargs):
        if request.method == "OPTIONS":
            return preflight()
        if request.method == "HEAD":
            # As Django's own View does: HEAD is GET, and the server sends no body.
            request.method = "GET"
        response = refused(request) or view(request, *args, **kwargs)
        cors(response)
        if response.status_code == 200 and request.method in READ_METHODS:
            if not response.has_header("Cache-Control"):
                patch_cache_control(response, **STATIC_CACHE)
            return conditional(request, response)
        if not response.has_header("Cache-Control") and response.status_code in (404, 410):
            patch_cache_control(response, **ERROR_CACHE)
        elif not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response

    return answer


def conditional(request, response):
    """A strong ETag from the bytes (or the one the view gave), and 304 when the client has it."""
    if response.streaming:
        return response
    etag = response.get("ETag") or strong_etag(response.content)
    response["ETag"] = etag
    if not_modified(request, etag) or unchanged_since(request, response):
        unchanged = HttpResponseNotModified()
        for name in ("ETag", "Cache-Control", "Last-Modified", "Access-Control-Allow-Origin"):
            if response.has_header(name):
                unchanged[name] = response[name]
        return unchanged
    return response


def unchanged_since(request, response) -> bool:
    """If-Modified-Since counts only without If-None-Match (RFC 9110, 13.1.3)."""
    if "HTTP_IF_NONE_MATCH" in request.META or not response.has_header("Last-Modified"):
        return False
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    modified = parse_http_date_safe(response["Last-Modified"])
    return since is not None and modified is not None and modified <= since
