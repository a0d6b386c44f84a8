"""Site-wide response rules that Django 5.2 and django-csp do not ship: no shared caching of a
response that sets a cookie, a Permissions-Policy, and a polite 503 when the database is down.
The Content-Security-Policy is django-csp's (CONTENT_SECURITY_POLICY in config/settings.py)."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_cache_control

log = logging.getLogger(__name__)


class NeverSharePersonalMiddleware:
    """A response that sets a cookie is personal to one visitor, whatever its view said: a CSRF
    token, a session or a message added to a page must never reach a shared cache, or the next
    visitor would be served them. Placed above the middleware that set those cookies, so it sees
    them all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        sets_cookie = response.cookies or response.has_header("Set-Cookie")
        if sets_cookie and "public" in response.get("Cache-Control", ""):
            log.warning("%s set a cookie on a public response: sent private", request.path)
            patch_cache_control(response, private=True, no_cache=True)
        return response


class PermissionsPolicyMiddleware:
    """The site uses no camera, microphone or location: say so, so that no script could ask."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
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
