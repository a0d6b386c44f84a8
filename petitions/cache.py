"""Per-process copies, at most a second old, of what every reader of a viral petition asks for:
the petition itself and its page as a first-time visitor sees it.

These live in each process's memory rather than in Redis because they are the hottest reads on the
site and a second of staleness costs nothing: the count on the page is brought up to date by the
live counter, and signing checks in the database that the petition is still open.
"""

import threading
import time
import uuid

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.middleware.csrf import get_token
from django.utils import translation

from signatures.abuse import form_started_token
from signatures.supporter import COOKIE_NAME as SUPPORTER_COOKIE

from .models import Petition

SECONDS = 1


class ProcessCache:
    """A dictionary in this process whose entries last `seconds`. Thread-safe as far as it needs
    to be: two threads filling one key at once both leave a good value."""

    def __init__(self, seconds: float, max_entries: int = 1000):
        self.seconds = seconds
        # Far more petitions than any one site runs at once; beyond it, start afresh rather than
        # grow.
        self.max_entries = max_entries
        self._entries: dict = {}
        self._loading: set = set()
        self._lock = threading.Lock()

    def get(self, key):
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return None

    def get_or_load(self, key, load):
        """The entry, or what load() returns (kept unless None) when it is missing or expired.

        An expired entry is reloaded by one thread while the process's other threads go on with
        it: under load every thread of every worker found the entry expired in the same instant
        and each reloaded it."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        if entry is not None:
            with self._lock:
                if key in self._loading:
                    return entry[1]
                self._loading.add(key)
        try:
            value = load()
        finally:
            if entry is not None:
                with self._lock:
                    self._loading.discard(key)
        if value is None:
            self.pop(key)
        else:
            self.set(key, value)
        return value

    def set(self, key, value) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.seconds, value)

    def pop(self, key) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


_petitions = ProcessCache(SECONDS)
_pages = ProcessCache(SECONDS)

# Holes left in a cached page for what differs between visitors. Random per process, so no
# organiser's text can contain one by chance.
_HOLE = uuid.uuid4().hex
CSRF_HOLE = f"csrf{_HOLE}"
STARTED_HOLE = f"started{_HOLE}"

# Cookies that change the page: a one-click supporter, a signed-in organiser (drafts, previews),
# or a message waiting to be shown.
_PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, CookieStorage.cookie_name, SUPPORTER_COOKIE)


def public_petition(slug: str) -> Petition | None:
    """The public petition at `slug`, or None. Treat it as read-only: it is shared."""
    return _petitions.get_or_load(slug, lambda: Petition.objects.public().filter(slug=slug).first())


def page_is_shared(request) -> bool:
    """Whether this request gets the page everyone gets, with only its own tokens filled in.
    Query strings other than ?form= (share trackers and the like) do not change the page."""
    return (
        request.method in ("GET", "HEAD")
        and "form" not in request.GET
        and not any(name in request.COOKIES for name in _PERSONAL_COOKIES)
    )


def _page_key(request, slug: str) -> tuple[str, str, str]:
    return (request.get_host(), slug, translation.get_language())


def shared_page(request, slug: str) -> str | None:
    """This request's page as everyone gets it, holes and all, if one was kept in the last
    second."""
    return _pages.get(_page_key(request, slug))


def keep_shared_page(request, slug: str, html_with_holes: str) -> None:
    _pages.set(_page_key(request, slug), html_with_holes)


def fill_holes(request, html: str) -> str:
    """Put this visitor's own CSRF token and form start time into a shared page."""
    if CSRF_HOLE in html:  # a closed petition's page has no form, and needs no CSRF cookie
        html = html.replace(CSRF_HOLE, get_token(request), 1)
    if STARTED_HOLE in html:
        html = html.replace(STARTED_HOLE, form_started_token(), 1)
    return html


def clear() -> None:
    _petitions.clear()
    _pages.clear()


@receiver(post_save, sender=Petition)
@receiver(post_delete, sender=Petition)
def _petition_changed(sender, instance, **kwargs):
    # Other processes catch up within SECONDS; this one (the admin's) at once.
    clear()
