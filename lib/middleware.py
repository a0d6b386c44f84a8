"""Site-wide response rules. count.json, the most requested address, and the read API skip the
session, user, messages and per-view policy work; the answer to a signature skips the last."""

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
from django.middleware.locale import LocaleMiddleware
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_cache_control

from .urls import on_onion

log = logging.getLogger(__name__)


class OnionMiddleware:
    """The onion address is plain HTTP (Tor encrypts): no HTTPS redirect, HSTS or Secure cookie.
    SecurityMiddleware redirects every host or none, so this one redirects the others."""

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
            # A cache in front keys the page on its path: no reader's query string.
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
    """A response that sets a cookie is personal, whatever its view said, or the next visitor would
    be served someone's CSRF token, session or message."""

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
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class DatabaseUnavailableMiddleware:
    """A translated 503, not a 500; every write is a transaction, so none is left half-done."""

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
# The read API (integrations/urls.py): the same answer for everyone, so no visitor's state.
API = re.compile(r"^/api/")


# petitions:sign in each language. Its answer to a signature is a redirect, which shows no document,
# and its view sets no policy of its own.
SIGN = re.compile(rf"^/({_languages})/p/[-\w]+/sign/$")


def on_count_feed(request) -> bool:
    """count.json or the read API: no session, user, messages or language of the visitor."""
    path = request.path_info
    return COUNT_FEED.match(path) is not None or API.match(path) is not None


# Django's own, except on the feeds; their process_response lets a request they skipped pass.
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


class FeedAwareLocaleMiddleware(LocaleMiddleware):
    """The API has no language in its address: Django's would pick one from the visitor's cookie
    or Accept-Language and send `Vary: Accept-Language`, splitting every cache's copy by reader."""

    def process_request(self, request):
        if not API.match(request.path_info):
            return super().process_request(request)
        # A thread keeps the last request's language; the API's answers are in the site's own.
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return None

    def process_response(self, request, response):
        if API.match(request.path_info):
            return response
        return super().process_response(request, response)


def is_signature_redirect(request, response) -> bool:
    return 300 <= response.status_code < 400 and SIGN.match(request.path_info) is not None


class FeedAwareCSPMiddleware(CSPMiddleware):
    """On count.json and the redirect after a signature, whose views change no policy and render
    nothing that takes a nonce, the headers django-csp would send, made once. The sign address's
    refusals are pages: their policy is built per answer."""

    def __init__(self, get_response):
        super().__init__(get_response)
        sample = super().process_response(HttpRequest(), HttpResponse())
        self.feed_headers = {n: sample[n] for n in (HEADER, HEADER_REPORT_ONLY) if n in sample}

    def process_request(self, request):
        if not on_count_feed(request):
            super().process_request(request)

    def process_response(self, request, response):
        if not (on_count_feed(request) or is_signature_redirect(request, response)):
            return super().process_response(request, response)
        for name, policy in self.feed_headers.items():
            response.headers.setdefault(name, policy)
        return response
