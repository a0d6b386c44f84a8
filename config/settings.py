"""Settings for the petition site, all read from the environment.

One file for every machine: production behaviour switches on DEBUG=False, not on a second module.
Every variable is documented in .env.example.
"""

from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for developers; real deployments set the environment itself.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Only a development machine may run on a known key: anyone who knows it could forge sessions
# and the one-click signing cookie. Without DEBUG and without a key it stays empty: serving then
# refuses to start (config/wsgi.py), while commands that sign nothing (makemigrations, migrate)
# still run.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Key for hashing signers' IP addresses (see signatures/signing.py). Defaults to SECRET_KEY; set
# it separately so that rotating SECRET_KEY does not break spotting a burst from one source.
IP_HASH_SECRET = env.str("IP_HASH_SECRET", default=SECRET_KEY)
# How many proxies in front of the app append to X-Forwarded-For (0: use the connection address).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# -- Reach under filtering, and privacy for signers at risk (issue 20) --------------------------
# The canonical address of the site: every share link, email link, Open Graph and oEmbed address
# names it, whichever host a request came in on (a mirror or the onion address).
# Without it, `make run` names the host and port it serves on (RUN_SITE_URL, set by the Makefile).
SITE_URL = env.str(
    "SITE_URL", default=env.str("RUN_SITE_URL", default="http://127.0.0.1:8000")
).rstrip("/")
# Other host names that serve the whole site where the main one is filtered, e.g.
# MIRROR_HOSTS=mirror-one.example.net,mirror-two.example.org (HTTPS, like the main one).
MIRROR_HOSTS = env.list("MIRROR_HOSTS", default=[])
# The site's Tor onion service, e.g. http://abc...xyz.onion. That host is served over plain HTTP
# (Tor encrypts it end to end): no HTTPS redirect, no HSTS, no Secure-only cookies there
# (config.middleware.OnionMiddleware); the clear-web pages point Tor Browser to it with
# an Onion-Location header.
ONION_URL = env.str("ONION_URL", default="").rstrip("/")
ONION_HOST = urlsplit(ONION_URL).netloc
ALLOWED_HOSTS += [host for host in [*MIRROR_HOSTS, ONION_HOST] if host]
CSRF_TRUSTED_ORIGINS += [f"https://{host}" for host in MIRROR_HOSTS]
CSRF_TRUSTED_ORIGINS += [ONION_URL] if ONION_URL else []
# Tor hides each signer's address: on the onion address every signer comes from the Tor
# daemon's, so the per-address limit there is this one, set for everyone on Tor together (the
# per-petition limit, the form token and the fill time still apply).
SIGN_RATE_ONION = env.str("SIGN_RATE_ONION", default="600/10m")
# Who takes requests to erase a signer's data; named on the privacy page. Defaults to the address
# the site sends its emails from.
PRIVACY_CONTACT = env.str("PRIVACY_CONTACT", default="")
# Countries with fewer signers than this are counted together as "other" in the public breakdown
# by country, so that no small group can be singled out.
COUNTRY_COUNT_MINIMUM = env.int("COUNTRY_COUNT_MINIMUM", default=10)
# The public breakdown changes at most this often, and only after at least COUNTRY_COUNT_MINIMUM
# more signatures: read between two signatures, it must not say where the second signer is.
COUNTRY_RELEASE_HOURS = env.int("COUNTRY_RELEASE_HOURS", default=24)

INSTALLED_APPS = [
    "django.contrib.admin",
    # Django's auth with its admin's permissions and numbers in the reader's language.
    "config.apps.AuthConfig",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_countries",
    # axes and django-tasks-db with names a moderator can read, in both languages (issue 21).
    "config.apps.AxesConfig",
    "csp",
    "django_tasks",
    "config.apps.TasksDatabaseConfig",
    "lib",
    "petitions",
    "signatures",
]

MIDDLEWARE = [
    # First, to keep the onion address out of the HTTPS rules below it (issue 20).
    "config.middleware.OnionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above every middleware that may set a cookie, so that it sees them all.
    "config.middleware.NeverSharePersonalMiddleware",
    # FeedAware*: Django's and django-csp's, with no work on count.json (config/middleware.py).
    "config.middleware.FeedAwareSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.middleware.FeedAwareAuthenticationMiddleware",
    "config.middleware.FeedAwareMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.FeedAwareCSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so that it sees database errors raised by the views.
    "config.middleware.DatabaseUnavailableMiddleware",
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

# The embedded default is an SQLite file so that `make run` needs nothing installed;
# production runs on PostgreSQL (DATABASE_URL=postgres://user:pass@host:5432/name).
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
    # With server-side binding (Django's documented option for psycopg 3) PostgreSQL can keep the
    # statements it is sent often, the signing ones above all, parsed and planned for the life of
    # the connection (psycopg prepares a query after `prepare_threshold` runs). Behind a pooler in
    # transaction mode that needs PgBouncer 1.21+ with max_prepared_statements (docs/scaling.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "server_side_binding", env.bool("DB_SERVER_SIDE_BINDING", default=False)
    )
    # A database that does not answer a new connection must not hold a request for long.
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# "default" holds short-lived copies (the count, recent signers): per-process memory will do on
# one machine. "shared" holds what every app server must agree on (rate limits): never
# per-process memory, so the database when there is no Redis, where signatures.abuse counts the
# limits in a table of their own, atomically (the database cache's incr is not). With CACHE_URL
# (Redis, e.g. redis://127.0.0.1:6379/1) both live there, through django-redis, which keeps a
# pool of connections per process where Django's own backend builds a client for every call.
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

# Signing limits (signatures/abuse.py, in the shared cache). A household or a café shares one
# address, so the per-address limit is generous; the per-petition one only stops a flood.
SIGN_RATE_CACHE = "shared"
SIGN_RATE_PER_IP = env.str("SIGN_RATE_PER_IP", default="20/10m")
SIGN_RATE_PER_PETITION = env.str("SIGN_RATE_PER_PETITION", default="6000/m")
# The full form must take a person at least this long to fill in (seconds).
SIGN_MIN_FILL_SECONDS = env.float("SIGN_MIN_FILL_SECONDS", default=2.0)
# A one-click button must have been shown this long before it signs (seconds): the second click
# of a double click on a window opened under the pointer comes sooner.
SIGN_MIN_CLICK_SECONDS = env.float("SIGN_MIN_CLICK_SECONDS", default=1.0)

# Console by default so that nothing leaves a development machine; smtp://user:pass@host:587
# in production.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Petitions <petitions@localhost>")
PRIVACY_CONTACT = PRIVACY_CONTACT or parseaddr(DEFAULT_FROM_EMAIL)[1]

# Confirmation emails are sent off the request path through Django's tasks framework (the
# django-tasks backport). "immediate" runs them inline, so `make run` needs no worker;
# "database" queues them in PostgreSQL, where they survive a worker restart, and
# `manage.py db_worker` sends them.
TASKS = {
    "default": {
        "BACKEND": {
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "database": "django_tasks_db.DatabaseBackend",
        }[env.str("TASKS_BACKEND", default="immediate")]
    }
}
# A confirmation link works for this long.
CONFIRMATION_MAX_AGE = env.int("CONFIRMATION_MAX_AGE_HOURS", default=72) * 3600
# Signing again while pending sends the email again, but not more often than this.
CONFIRMATION_RESEND_SECONDS = env.int("CONFIRMATION_RESEND_SECONDS", default=5 * 60)
# A failed send is tried again after each of these delays (seconds), then given up and logged.
CONFIRMATION_RETRY_DELAYS = [60, 300, 900, 3600, 4 * 3600]
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Starting a petition (issue 18). The emailed link that proves the starter's address and opens
# their page works this long. An address may have this many petitions unconfirmed, waiting for
# review or open at once. The start form (and "email me my links") is limited per address like
# signing, in the same shared cache, and takes a person at least START_MIN_FILL_SECONDS to write.
# Previews and going back to edit have a looser limit of their own, since a starter previews
# several times; and one recipient gets at most START_EMAIL_RATE_PER_ADDRESS start or links emails.
START_LINK_MAX_AGE = env.int("START_LINK_MAX_AGE_HOURS", default=72) * 3600
START_OPEN_PER_EMAIL = env.int("START_OPEN_PER_EMAIL", default=3)
START_RATE_PER_IP = env.str("START_RATE_PER_IP", default="10/h")
START_PREVIEW_RATE_PER_IP = env.str("START_PREVIEW_RATE_PER_IP", default="60/h")
START_EMAIL_RATE_PER_ADDRESS = env.str("START_EMAIL_RATE_PER_ADDRESS", default="1/h")
START_MIN_FILL_SECONDS = env.float("START_MIN_FILL_SECONDS", default=15.0)

# Updates emailed to signers (issue 19, petitions/mailing.py), on the same task queue as the
# confirmations but behind them (a lower priority), a few hundred recipients per task.
# At most one emailed update per petition in this many days, unless a moderator overrides.
UPDATE_EMAIL_MIN_DAYS = env.int("UPDATE_EMAIL_MIN_DAYS", default=3)
# Recipients claimed at a time, and how long one task sends before handing over to the next.
UPDATE_SEND_CHUNK = env.int("UPDATE_SEND_CHUNK", default=100)
UPDATE_SEND_SLICE_SECONDS = env.float("UPDATE_SEND_SLICE_SECONDS", default=30.0)
# Connections to the mail server a send keeps busy at once (on PostgreSQL), each with one message
# in flight: a worker killed mid-send leaves at most this many messages uncertain.
UPDATE_SEND_STREAMS = env.int("UPDATE_SEND_STREAMS", default=4)
# A task that has not reported for this long is taken for dead, and a queued watchdog carries on
# its send. Longer than a slow mail server's answer to one message.
UPDATE_SEND_LEASE_SECONDS = env.float("UPDATE_SEND_LEASE_SECONDS", default=120.0)
# A message the mail server refused for now (4xx) is tried again after each of these delays
# (seconds), then recorded as failed; so is a send whose mail server cannot be reached.
UPDATE_RETRY_DELAYS = [60, 300, 900, 3600]

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords lock that username from that address for an hour. The address is the
# client's, read as the rate limits read it (NUM_PROXIES; an IPv6 /64 is one address): keyed on
# username and address, a stranger locks a username out from their own address only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "petitions.views.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"


def axes_username(request, credentials: dict | None) -> str | None:
    """The username axes records for a sign-in attempt (as axes would find it), cut to the longest
    a user can have. axes stores it in a 255-character column, so a longer one made PostgreSQL
    refuse the insert: a 500 instead of the login form again (issue 15)."""
    from django.contrib.auth import get_user_model  # apps are not loaded while settings are read

    username = (credentials or request.POST).get("username")
    if not username:
        return username
    user_model = get_user_model()
    return username[: user_model._meta.get_field(user_model.USERNAME_FIELD).max_length]


AXES_USERNAME_CALLABLE = axes_username

# Staff sessions: a working day at most, and gone when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Request size: a signature is a few hundred bytes and a petition letter a few dozen kilobytes.
# Anything larger is refused with a 400 before it is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=512 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "config.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation: English and Persian, the language always in the URL.
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
        # Hashed names let browsers keep assets for a year; DEBUG serves the plain files so that a
        # developer need not run collectstatic after every edit.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
STATIC_MANIFEST = STORAGES["staticfiles"]["BACKEND"].startswith("whitenoise")
# Without a collected manifest (development, tests) whitenoise serves straight from the sources.
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG

ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER via the environment flag.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
REDIRECT_TO_HTTPS = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Django's redirect covers every host; with an onion address, which has no HTTPS, the redirect of
# every other host is config.middleware.OnionMiddleware's instead (issue 20), so Django's deploy
# check that SECURE_SSL_REDIRECT is on (W008) does not apply.
SECURE_SSL_REDIRECT = REDIRECT_TO_HTTPS and not ONION_URL
SILENCED_SYSTEM_CHECKS = ["security.W008"] if REDIRECT_TO_HTTPS and ONION_URL else []
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_REFERRER_POLICY = "same-origin"
# Cookies only over HTTPS in production. SECURE_COOKIES=false is for a local trial over plain HTTP
# (benchmarks, the two-server test), never for a real deployment.
SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The admin's language choice (issue 21) is this cookie: it must outlive the browser session, or
# a Persian moderator would be sent back to the browser's language every morning.
LANGUAGE_COOKIE_AGE = env.int("LANGUAGE_COOKIE_AGE", default=365 * 24 * 3600)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): everything from our own origin, no inline script or style,
# and no page may be framed. A view that must be embeddable says so itself, with
# @csp_replace({"frame-ancestors": [...]}) and @xframe_options_exempt.
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
# No emailed token, email address or client address in any line (config/redaction.py). Django's
# own loggers go to the same handler instead of Django's defaults, which would not redact.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.redaction.Redact"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}},
}

# Proof and delivery (issue 22). Delivery packs (PDF and CSV of a petition's signers) are written
# to this private directory, outside static and media, and downloaded through the admin only.
DELIVERY_PACK_ROOT = env.path("DELIVERY_PACK_ROOT", default=BASE_DIR / "var" / "delivery")
# In a delivery pack's counts by country, a country with fewer signers than this is counted under
# "other countries", so that a handful of signers cannot be picked out by their country.
DELIVERY_SMALL_COUNTRY = env.int("DELIVERY_SMALL_COUNTRY", default=10)
# The share image and the count-over-time chart are made again at most this often (seconds).
SHARE_IMAGE_SECONDS = env.int("SHARE_IMAGE_SECONDS", default=300)
# fontTools, which fpdf2 uses to embed the font, logs every glyph it keeps at INFO.
LOGGING["loggers"]["fontTools"] = {"level": "WARNING"}
