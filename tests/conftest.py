import email
import os
import socket
import threading
from email import policy

import pytest


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_runtest_setup(item):
    """Tests marked `postgres` need the real database: skipped on a laptop running SQLite, but a
    failure under CI, which must always run them."""
    if not item.get_closest_marker("postgres"):
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        if running_in_ci():
            pytest.fail("this test needs PostgreSQL, and CI must provide it (DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


DB_FIXTURES = {"db", "transactional_db", "client", "admin_client", "live_server"}


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """Counts and recent signers are cached for a second or two; a test must not see another
    test's petition (under CI the cache is the shared Redis)."""
    from django.conf import settings
    from django.core.cache import caches

    from lib import cache

    cache.reset()
    caches["default"].clear()
    # Without Redis the shared cache is a database table, reachable only by tests that may use
    # the database.
    uses_db = request.node.get_closest_marker("django_db") or DB_FIXTURES & set(
        request.fixturenames
    )
    if uses_db or "DatabaseCache" not in settings.CACHES["shared"]["BACKEND"]:
        caches["shared"].clear()


class Mailbox:
    """An SMTP server's handler: keeps what arrives, and can refuse the first few deliveries
    with a temporary error, as a busy or greylisting server does."""

    def __init__(self):
        self.messages = []
        self.refuse_next = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "451 4.3.0 Try again later"
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox(settings):
    """A real SMTP server on a loopback port, with Django's SMTP backend pointed at it."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "http://testserver"  # live-server tests point this at themselves
    yield box
    controller.stop()


def app_server_env(**overrides: str) -> dict[str, str]:
    """The environment for a gunicorn started by a test against the test database: production
    settings over plain HTTP on loopback."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    return {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_MANIFEST": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESSLOG": "/dev/null",
    } | overrides
