"""Site-wide response rules that Django 5.2 does not ship: a Content-Security-Policy, and a polite
503 when the database is down."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils import translation

log = logging.getLogger(__name__)

# Everything is served from our own origin: no inline script or style, no third-party host.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def frame_ancestors(request) -> str:
    """Only the petition page may ever be embedded, and only by origins the operator lists."""
    embeddable = getattr(request, "embeddable", False)
    if embeddable and settings.EMBED_ALLOWED_ORIGINS:
        return "frame-ancestors " + " ".join(settings.EMBED_ALLOWED_ORIGINS)
    return "frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", f"{CSP}; {frame_ancestors(request)}")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class DatabaseUnavailableMiddleware:
    """When the database cannot be reached, answer 503 with a translated "try again" page instead
    of a 500. Every write runs in a transaction, so nothing is left half-written to retry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.error("Database unavailable: %s", exception.__class__.__name__)
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        with translation.override(language):
            # A plain template with no context processors: they would reach for the database.
            html = loader.get_template("503.html").render({"LANGUAGE_CODE": language})
        response = HttpResponse(html, status=503)
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
