"""Settings, all read from the environment (see .env.example); production is DEBUG=False."""

from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# A known key forges sessions and the supporter cookie, so only DEBUG gets one; without it serving
# refuses to start (config/wsgi.py) while migrate and friends still run.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"  # noqa: S105
# Old keys still accepted: an emailed unsubscribe link never expires (docs/operations.md).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Separate from SECRET_KEY so that rotating it does not hide a burst from one source.
IP_HASH_SECRET = env.str("IP_HASH_SECRET", default=SECRET_KEY)
# Proxies that append to X-Forwarded-For.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Every absolute link names this host, whichever mirror or onion address a request came in on.
SITE_URL = env.str(
    "SITE_URL", default=env.str("RUN_SITE_URL", default="http://127.0.0.1:8000")
).rstrip("/")
# Hosts that serve the whole site where the main one is filtered (HTTPS).
MIRROR_HOSTS = env.list("MIRROR_HOSTS", default=[])
# Served over plain HTTP, since Tor encrypts end to end (lib.middleware.OnionMiddleware).
ONION_URL = env.str("ONION_URL", default="").rstrip("/")
ONION_HOST = urlsplit(ONION_URL).netloc
ALLOWED_HOSTS += [host for host in [*MIRROR_HOSTS, ONION_HOST] if host]
CSRF_TRUSTED_ORIGINS += [f"https://{host}" for host in MIRROR_HOSTS]
CSRF_TRUSTED_ORIGINS += [ONION_URL] if ONION_URL else []
# On the onion address every signer shares the Tor daemon's address: one limit for them all.
SIGN_RATE_ONION = env.str("SIGN_RATE_ONION", default="600/10m")
# Named on the privacy page for erasure requests; defaults to DEFAULT_FROM_EMAIL.
PRIVACY_CONTACT = env.str("PRIVACY_CONTACT", default="")
# Printed at the foot of the paper signature sheet: where a filled sheet goes (a postal address).
# Empty: the sheet names the site and PRIVACY_CONTACT instead.
PAPER_RETURN_ADDRESS = env.str("PAPER_RETURN_ADDRESS", default="")
# Smaller countries are shown as "other" so that no small group can be singled out.
COUNTRY_COUNT_MINIMUM = env.int("COUNTRY_COUNT_MINIMUM", default=10)
# Released at most this often and after COUNTRY_COUNT_MINIMUM more signatures, so that comparing
# two readings does not place one signer.
COUNTRY_RELEASE_HOURS = env.int("COUNTRY_RELEASE_HOURS", default=24)

INSTALLED_APPS = [
    "django.contrib.admin",
    "config.apps.AuthConfig",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_countries",
    "config.apps.AxesConfig",
    "csp",
    "django_tasks",
    "config.apps.TasksDatabaseConfig",
    "lib",
    "petitions",
    "signatures",
    "integrations",
]

MIDDLEWARE = [
    # First, to keep the onion address out of the HTTPS rules below it.
    "lib.middleware.OnionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above every middleware that may set a cookie, so that it sees them all.
    "lib.middleware.NeverSharePersonalMiddleware",
    # FeedAware*: Django's and django-csp's, with no work on count.json and the read API
    # (lib/middleware.py).
    "lib.middleware.FeedAwareSessionMiddleware",
    "lib.middleware.FeedAwareLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "lib.middleware.FeedAwareAuthenticationMiddleware",
    "lib.middleware.FeedAwareMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lib.middleware.FeedAwareCSPMiddleware",
    "lib.middleware.PermissionsPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so that it sees database errors raised by the views.
    "lib.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "petitions.context_processors.site",
            ],
        },
    },
]

# SQLite so that `make run` needs nothing installed; production runs on PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers carry on while a signer writes; the timeout queues writers instead of
    # failing them with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "lib.postgresql"  # Django's, with bulk writes cut to size
    # Parameters bound by the server, and a statement run DB_PREPARE_THRESHOLD times on a
    # connection kept prepared there: PostgreSQL then plans the signing statement once per
    # connection, not once per signature (planning was half of its CPU). Django turns psycopg's
    # preparing off unless asked; PgBouncer 1.18 cannot carry it (below).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "server_side_binding", env.bool("DB_SERVER_SIDE_BINDING", default=True)
    )
    DATABASES["default"]["OPTIONS"].setdefault(
        "prepare_threshold", env.int("DB_PREPARE_THRESHOLD", default=5) or None
    )
    # A database that does not answer a new connection must not hold a request for long.
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
    )
    # Nor one that vanishes behind a dead link or a firewall dropping packets: without these the
    # kernel waits about 15 minutes for the ACK of a query sent, and forever for the answer to
    # one it took. What is sent and not acknowledged for this long, or an idle connection whose
    # peer stops answering keepalive probes, ends the connection with an error (a 503).
    network_timeout = env.int("DB_NETWORK_TIMEOUT", default=3)
    DATABASES["default"]["OPTIONS"].update(
        {
            "tcp_user_timeout": network_timeout * 1000,
            "keepalives": 1,
            "keepalives_idle": network_timeout,
            "keepalives_interval": 1,
            "keepalives_count": 3,
        }
    )
    # PgBouncer in transaction pooling mode (docs/scaling.md, deploy/pgbouncer.ini) hands each
    # transaction whichever server connection is free: nothing may outlive a transaction on one.
    # No prepared statements (prepare_threshold None, Django's default made explicit: PgBouncer
    # 1.18 cannot carry them), and cursors read whole on the client, since a server-side cursor
    # used outside a transaction (the delivery pack's) would be lost. PgBouncer 1.18 refuses
    # startup options, so the statement timeout is its own (query_timeout in pgbouncer.ini).
    pooler = env.str("DATABASE_POOLER", default="")
    if pooler == "pgbouncer":
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    elif pooler:
        raise ImproperlyConfigured(f"DATABASE_POOLER is 'pgbouncer' or empty, not {pooler!r}")
    elif statement_timeout := env.float("DB_STATEMENT_TIMEOUT", default=0):
        # A statement that runs (or waits for a lock) longer is cancelled: a 503, not a request
        # held until the proxy gives up. gunicorn sets one for requests (config/gunicorn.conf.py);
        # migrations and bulk jobs run without unless this is set.
        options = DATABASES["default"]["OPTIONS"].get("options", "")
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"{options} -c statement_timeout={round(statement_timeout * 1000)}".strip()
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# "default" holds short-lived copies, so per-process memory will do; "shared" holds what every
# server must agree on (rate limits), so never per-process. django-redis keeps a connection pool
# where Django's own Redis backend builds a client per call.
if env.str("CACHE_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": env.str("CACHE_URL"),
            "OPTIONS": {
                # A cache that does not answer must cost a request milliseconds, not seconds.
                "SOCKET_CONNECT_TIMEOUT": env.float("CACHE_CONNECT_TIMEOUT", default=0.25),
                "SOCKET_TIMEOUT": env.float("CACHE_TIMEOUT", default=0.25),
            },
        }
    }
    CACHES["shared"] = CACHES["default"]
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "shared_cache",
        },
    }

# Where every rate limit is counted (lib/ratelimit.py): never per-process memory. A household or
# a café shares one address, so the per-address limit is generous.
RATE_LIMIT_CACHE = "shared"
SIGN_RATE_PER_IP = env.str("SIGN_RATE_PER_IP", default="20/10m")
SIGN_RATE_PER_PETITION = env.str("SIGN_RATE_PER_PETITION", default="6000/m")
# Checking a receipt code: a signer needs a few tries (check, withdraw, check again); a guesser
# of 100-bit codes gets nowhere at any rate, this stops one address from loading the database.
RECEIPT_RATE_PER_IP = env.str("RECEIPT_RATE_PER_IP", default="30/h")
SIGN_MIN_FILL_SECONDS = env.float("SIGN_MIN_FILL_SECONDS", default=2.0)
# The second click of a double click on a window opened under the pointer comes sooner.
SIGN_MIN_CLICK_SECONDS = env.float("SIGN_MIN_CLICK_SECONDS", default=1.0)

# Console by default so that nothing leaves a development machine.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Seconds a mail server may take to accept a connection or answer a command (lib/emails.py);
# Django's default is none, and a server behind dropped packets would hang the worker.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10)
# A send the mail server failed for now is tried again after each of these pauses (seconds), then
# given up: confirmations and starters' emails are logged, an update's message recorded as failed.
EMAIL_RETRY_DELAYS = [60, 300, 900, 3600, 4 * 3600]
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Petitions <petitions@localhost>")
PRIVACY_CONTACT = PRIVACY_CONTACT or parseaddr(DEFAULT_FROM_EMAIL)[1]

# "immediate" so that `make run` needs no worker; "database" survives a worker restart.
TASKS = {
    "default": {
        "BACKEND": {
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "database": "django_tasks_db.DatabaseBackend",
        }[env.str("TASKS_BACKEND", default="immediate")]
    }
}
# Signers' names, emails, comments and places are anonymised this many days after their petition
# closes (about six months, as the UK Parliament's petitions do), unless a moderator holds them;
# counts, countries and receipts stay (signatures/retention.py).
SIGNATURE_RETENTION_DAYS = env.int("SIGNATURE_RETENTION_DAYS", default=183)
CONFIRMATION_MAX_AGE = env.int("CONFIRMATION_MAX_AGE_HOURS", default=72) * 3600
CONFIRMATION_RESEND_SECONDS = env.int("CONFIRMATION_RESEND_SECONDS", default=5 * 60)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Starting a petition. Previews have a looser limit, since a starter previews several times.
START_LINK_MAX_AGE = env.int("START_LINK_MAX_AGE_HOURS", default=72) * 3600
START_OPEN_PER_EMAIL = env.int("START_OPEN_PER_EMAIL", default=3)
START_RATE_PER_IP = env.str("START_RATE_PER_IP", default="10/h")
START_PREVIEW_RATE_PER_IP = env.str("START_PREVIEW_RATE_PER_IP", default="60/h")
START_EMAIL_RATE_PER_ADDRESS = env.str("START_EMAIL_RATE_PER_ADDRESS", default="1/h")
START_MIN_FILL_SECONDS = env.float("START_MIN_FILL_SECONDS", default=15.0)
# Confirmed supporters a started petition gathers through its private link before it waits for
# review, as the UK Parliament asks 5 and the Senedd 2; 0 sends it for review at once.
COSPONSORS_REQUIRED = env.int("COSPONSORS_REQUIRED", default=5)

# Updates emailed to signers (petitions/mailing.py), on the same task queue as the confirmations
# but behind them (a lower priority), a chunk of recipients per task; run as many db_worker
# processes as the send should use.
# At most one emailed update per petition in this many days, unless a moderator overrides.
UPDATE_EMAIL_MIN_DAYS = env.int("UPDATE_EMAIL_MIN_DAYS", default=3)
UPDATE_SEND_CHUNK = env.int("UPDATE_SEND_CHUNK", default=100)
# A worker's claim on its chunk lapses after this long; then a killed worker's rows go back to the
# queue, and the one it was sending is marked uncertain. Longer than a slow chunk takes.
UPDATE_SEND_CLAIM_SECONDS = env.float("UPDATE_SEND_CLAIM_SECONDS", default=600.0)

# Organisations' webhooks (integrations/webhooks.py, docs/webhooks.md), run by `manage.py webhooks`
# and the task workers. Plain http and private addresses only where nothing else can be reached
# (DEBUG and the tests): in production an endpoint on the site's own network is refused.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
# Seconds a receiver may take to accept the connection, and then for each read of its answer.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10)
# Retries double from the first pause to the longest, each within a fifth either way, for a day.
WEBHOOK_RETRY_FIRST_SECONDS = env.int("WEBHOOK_RETRY_FIRST_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=4 * 3600)
WEBHOOK_RETRY_FOR_SECONDS = env.int("WEBHOOK_RETRY_FOR_SECONDS", default=24 * 3600)
# An endpoint whose every attempt failed for this long is turned off and its owner emailed.
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=24 * 3600)
# How far back each look for events reaches again: a transaction that committed after a later one.
WEBHOOK_LOOKBACK_SECONDS = env.int("WEBHOOK_LOOKBACK_SECONDS", default=10)
WEBHOOK_DISPATCH_SECONDS = env.float("WEBHOOK_DISPATCH_SECONDS", default=5)
WEBHOOK_CHUNK = env.int("WEBHOOK_CHUNK", default=50)
# Longer than a chunk of slow receivers takes (each up to two timeouts).
WEBHOOK_CLAIM_SECONDS = env.int("WEBHOOK_CLAIM_SECONDS", default=1800)
WEBHOOK_TASK_SECONDS = env.int("WEBHOOK_TASK_SECONDS", default=60)

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Keyed on username and address, so a stranger locks a username out from their own address only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "lib.http.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"


def axes_username(request, credentials: dict | None) -> str | None:
    """The attempted username, cut to fit axes' 255-character column (longer ones raised a 500)."""
    from django.contrib.auth import get_user_model  # apps are not loaded while settings are read

    username = (credentials or request.POST).get("username")
    if not username:
        return username
    user_model = get_user_model()
    return username[: user_model._meta.get_field(user_model.USERNAME_FIELD).max_length]


AXES_USERNAME_CALLABLE = axes_username

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# A signature is a few hundred bytes and a petition letter a few dozen kilobytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=512 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "lib.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fa", _("Persian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names let browsers keep assets for a year; DEBUG needs no collectstatic.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
STATIC_MANIFEST = STORAGES["staticfiles"]["BACKEND"].startswith("whitenoise")
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG

ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
REDIRECT_TO_HTTPS = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The onion address has no HTTPS, so with one OnionMiddleware redirects the other hosts and W008
# does not apply.
SECURE_SSL_REDIRECT = REDIRECT_TO_HTTPS and not ONION_URL
SILENCED_SYSTEM_CHECKS = ["security.W008"] if REDIRECT_TO_HTTPS and ONION_URL else []
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_REFERRER_POLICY = "same-origin"
# false only for a local trial over plain HTTP (benchmarks), never for a real deployment.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The admin's language choice must outlive the browser session.
LANGUAGE_COOKIE_AGE = env.int("LANGUAGE_COOKIE_AGE", default=365 * 24 * 3600)
X_FRAME_OPTIONS = "DENY"
# An embeddable view says so itself with @csp_replace and @xframe_options_exempt.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
    }
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Django's loggers go through the redacting handler too; its defaults would not redact.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "lib.redaction.Redact"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}},
}

# Outside static and media: delivery packs list signers and are downloaded through the admin only.
DELIVERY_PACK_ROOT = env.path("DELIVERY_PACK_ROOT", default=BASE_DIR / "var" / "delivery")
DELIVERY_SMALL_COUNTRY = env.int("DELIVERY_SMALL_COUNTRY", default=10)
SHARE_IMAGE_SECONDS = env.int("SHARE_IMAGE_SECONDS", default=300)
# fontTools, which fpdf2 uses to embed the font, logs every glyph it keeps at INFO.
LOGGING["loggers"]["fontTools"] = {"level": "WARNING"}

# The read API (integrations/api): reads per client address, counted like signing's limits. A
# newsroom's office shares one address, and paging through every petition takes a few hundred.
API_RATE_PER_IP = env.str("API_RATE_PER_IP", default="600/10m")
