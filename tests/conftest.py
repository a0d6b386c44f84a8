import contextlib
import email
import http.client
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from email import policy
from pathlib import Path

import pytest
from django.core.management import call_command


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def sqlite_chosen() -> bool:
    """DATABASE_URL names SQLite: `make test-sqlite`, which CI runs after the PostgreSQL suite."""
    return os.environ.get("DATABASE_URL", "").startswith("sqlite")


def pytest_runtest_setup(item):
    """Tests marked `postgres` need the real database: skipped on SQLite, but a failure under CI
    when PostgreSQL was not given, since CI must always run them."""
    if not item.get_closest_marker("postgres"):
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        if running_in_ci() and not sqlite_chosen():
            pytest.fail("this test needs PostgreSQL, and CI must provide it (DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


# The fast tier (`make test-fast`, `-m "not browser and not system"`) is every test that runs in
# this process alone. A test that starts one of these is marked `system`; the fast tier refuses
# to start them, so a new slow test cannot join it unmarked.
SERVER_PROGRAMS = {
    "chromium",
    "gunicorn",
    "initdb",
    "java",
    "make",
    "nginx",
    "pg_ctl",
    "postgres",
    "redis-server",
    "wrk",
}
SERVER_COMMANDS = {"runserver", "db_worker", "gunicorn"}  # manage.py's, or python -m gunicorn
SHELLS = {"sh", "bash", "dash"}


def server_program(argv) -> str | None:
    """The server or system tool a command line starts, if it starts one."""
    words = [os.fsdecode(word) for word in argv]
    if not words:
        return None
    program = os.path.basename(words[0])
    if program in SHELLS and len(words) > 2 and words[1] == "-c":
        return server_program(shlex.split(words[2]))
    if program in SERVER_PROGRAMS:
        return program
    if program.startswith("python"):
        return next((word for word in words[1:] if word in SERVER_COMMANDS), None)
    return None


class FastTier:
    """Which test is running, if it is a fast one, and what it was refused."""

    test = None
    refused: list[str] = []

    @classmethod
    def check(cls):
        """Fails a fast test that started a server even if it caught the refusal."""
        if cls.refused:
            pytest.fail(f"{cls.test} started {', '.join(cls.refused)}: mark it `system`")


def _refuse_servers_in_the_fast_tier(event, args):
    if event != "subprocess.Popen" or FastTier.test is None:
        return
    executable, argv = args[0], args[1]
    program = server_program([executable, *argv[1:]]) or server_program(argv)
    if program:
        FastTier.refused.append(program)
        raise RuntimeError(
            f"{FastTier.test} starts {program}: mark it @pytest.mark.system, which keeps it out "
            "of `make test-fast`"
        )


def pytest_configure(config):
    sys.addaudithook(_refuse_servers_in_the_fast_tier)  # an audit hook stays for the process


def is_fast(item) -> bool:
    return not (item.get_closest_marker("system") or item.get_closest_marker("browser"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    FastTier.test = item.nodeid if is_fast(item) else None
    FastTier.refused = []
    try:
        return (yield)
    finally:
        FastTier.test = None


@pytest.fixture(autouse=True)
def _fast_tier(request):
    """Passwords hashed with MD5 in every test whose servers run in this process: Django's
    default hasher takes a good part of a second per login, on purpose. A server a `system` test
    starts reads its own settings, so that test keeps the real hasher, whose hashes it checks."""
    from django.test import override_settings

    if request.node.get_closest_marker("system"):
        yield
        return
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
    FastTier.check()


@pytest.fixture(autouse=True, scope="session")
def _static_files_found_on_request():
    """Each test's client builds the middleware again, and WhiteNoise would list every static
    file (several hundred, through the finders) each time: a tenth of the fast tier's CPU. Found
    when asked for instead, as under DEBUG: the same files."""
    from django.test import override_settings

    with override_settings(WHITENOISE_AUTOREFRESH=True):
        yield


@pytest.fixture(autouse=True, scope="session")
def _a_redis_database_per_worker():
    """`make test-fast` runs the tests in several processes (pytest-xdist), each with its own
    test database. Every test empties the cache first, so each process gets a Redis database
    of its own too: the next ones after CACHE_URL's ("gw0" uses one more, "gw1" two more)."""
    from django.conf import settings
    from django.test import override_settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    location = settings.CACHES["default"].get("LOCATION", "")
    if not worker or not location.startswith("redis://"):
        yield
        return
    base, _, number = location.rpartition("/")
    own = f"{base}/{int(number or 0) + 1 + int(worker.removeprefix('gw'))}"
    caches = {name: {**config, "LOCATION": own} for name, config in settings.CACHES.items()}
    with override_settings(CACHES=caches):
        yield


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
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Different ports: each socket stays bound until all are picked, or the kernel may hand the
    same free port out twice."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


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
        # Four one-thread workers: requests overlap as in production, on a test-sized server.
        "WEB_CONCURRENCY": "4",
        "GUNICORN_ACCESSLOG": "/dev/null",
    } | overrides


@contextlib.contextmanager
def running_gunicorn(tmp_path, port: int, env: dict[str, str]):
    """gunicorn with config/gunicorn.conf.py on `port`, up once /healthz answers; stopped after."""
    log = tmp_path / "gunicorn.log"
    root = Path(__file__).resolve().parent.parent
    command = [str(root / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.conf.py"]
    command += ["config.wsgi", "--control-socket", str(tmp_path / "gunicorn.ctl")]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not healthy(port):
            assert process.poll() is None, f"gunicorn exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def _no_cosponsors_unless_asked(settings):
    """A confirmed petition goes straight to review, as before supporters were asked for; the
    tests of gathering supporters (tests/test_cosponsors_*.py) set the number they need."""
    settings.COSPONSORS_REQUIRED = 0


@pytest.fixture
def queue(settings):
    """The database queue the site runs on, with a worker run in this process on demand."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_RETRY_DELAYS = [0, 0]

    def work():
        call_command("db_worker", "--batch", "--interval", "0", "--no-startup-delay", verbosity=0)

    return work
