"""Site-wide response rules that Django 5.2 and django-csp do not ship: no shared caching of a
response that sets a cookie, a Permissions-Policy, a polite 503 when the database is down, and
Django's HTTPS rules kept off the onion address. The Content-Security-Policy is django-csp's
(CONTENT_SECURITY_POLICY in config/settings.py).

The live counter's feed, count.json, is the most requested address and the same public bytes for
everyone: the session, user, messages and per-view policy middleware below have nothing to do
there, so they leave it alone, and its security headers are the site's own, built once."""

import logging
import re

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_cache_control

from petitions.addresses import on_onion

log = logging.getLogger(__name__)


class OnionMiddleware:
    """Requests through the onion service (settings.ONION_URL, as petitions.addresses.on_onion
    decides: the proxy says so, never the Host), which Tor serves over plain HTTP, kept out of the
    HTTPS rules of the clear-web site (issue 20): there, no redirect to an https:// that does not
    exist, no HSTS, and no cookie marked Secure, which a browser would drop over HTTP (the
    remembered supporter for one-click signing, the admin's session and CSRF cookies, messages).
    Tor encrypts that connection end to end, so the flag adds nothing there. Django's
    SecurityMiddleware redirects every host or none, so with an onion address the settings turn
    its redirect off (SECURE_SSL_REDIRECT) and this one redirects every other host, by the same
    rules (REDIRECT_TO_HTTPS, SECURE_REDIRECT_EXEMPT). On the clear-web site every public page
    names its onion twin in an Onion-Location header, which Tor Browser offers to follow.
    Listed first, above SecurityMiddleware, so that it sees every cookie and header set below."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.redirect = bool(settings.ONION_URL) and settings.REDIRECT_TO_HTTPS
        self.exempt = [re.compile(pattern) for pattern in settings.SECURE_REDIRECT_EXEMPT]

    def __call__(self, request):
        onion = on_onion(request)
        if self.redirect and not onion and not request.is_secure() and not self.exempted(request):
            return HttpResponsePermanentRedirect(
                f"https://{request.get_host()}{request.get_full_path()}"
            )
        response = self.get_response(request)
        if onion:
            response.headers.pop("Strict-Transport-Security", None)
            for morsel in response.cookies.values():
                morsel["secure"] = False
        elif settings.ONION_URL and is_public_page(request, response):
            # The path alone: a cache in front keys the page on its path (deploy/nginx), so the
            # header must not carry one reader's query string to the next.
            response.headers["Onion-Location"] = settings.ONION_URL + request.path
        return response

    def exempted(self, request) -> bool:
        path = request.path.lstrip("/")
        return any(pattern.search(path) for pattern in self.exempt)


def is_public_page(request, response) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
        and not request.path.startswith("/" + settings.ADMIN_URL)
    )


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


# petitions:count in each language (petitions/urls.py); the admin's catch-all takes any address,
# so the whole address is matched, not its ending.
_languages = "|".join(re.escape(code) for code, _name in settings.LANGUAGES)
COUNT_FEED = re.compile(rf"^/({_languages})/p/[-\w]+/count\.json$")


def on_count_feed(request) -> bool:
    """Whether this is a request for a petition's count.json."""
    return COUNT_FEED.match(request.path_info) is not None


# Django's own, except on count.json; their process_response lets a request they skipped pass.
class FeedAwareSessionMiddleware(SessionMiddleware):
    def process_request(self, request):
        if not on_count_feed(request):
            super().process_request(request)


class FeedAwareAuthenticationMiddleware(AuthenticationMiddleware):
    def process_request(self, request):
        if not on_count_feed(request):
            super().process_request(request)


class FeedAwareMessageMiddleware(MessageMiddleware):
    def process_request(self, request):
        if not on_count_feed(request):
            super().process_request(request)


class FeedAwareCSPMiddleware(CSPMiddleware):
    """django-csp's, except on count.json, whose view changes nothing of the policy: every answer
    there (an error page too) gets the headers django-csp sends for such a view, made once."""

    def __init__(self, get_response):
        super().__init__(get_response)
        sample = super().process_response(HttpRequest(), HttpResponse())
        self.feed_headers = {n: sample[n] for n in (HEADER, HEADER_REPORT_ONLY) if n in sample}

    def process_request(self, request):
        if not on_count_feed(request):
            super().process_request(request)

    def process_response(self, request, response):
        if not on_count_feed(request):
            return super().process_response(request, response)
        for name, policy in self.feed_headers.items():
            response.headers.setdefault(name, policy)
        return response
