"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Every value can be overridden from the environment, so one file serves a 2-core box and a bigger
one. New code is deployed with `deploy/reload-gunicorn.sh`, without a gap (deploy/README.md).
"""

import multiprocessing
import os
from pathlib import Path

from gunicorn.glogging import Logger

from config.redaction import Redact

bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# Threads let a worker overlap the database waits of several requests; processes use the cores.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound; jitter keeps them from
# restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
# The access log never carries the client's address, the query string, the Referer or an emailed
# link's token: supporters of a petition against a regime must not be traceable from our logs.
access_log_format = "%(m)s %(U)s %(s)s %(b)s %(M)sms"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Seconds a request's SQL statement may run or wait for a lock before PostgreSQL cancels it (a
# 503): no request needs longer. Set for the app servers only (gunicorn puts raw_env in the
# environment before it loads the app), so that migrations and bulk jobs keep no limit.
raw_env = [] if "DB_STATEMENT_TIMEOUT" in os.environ else ["DB_STATEMENT_TIMEOUT=15"]

# The app is imported once, in the master, and every worker is a fork of it that answers at once:
# booting a worker no longer costs the half second of CPU of importing Django (issue 16). New code
# therefore comes with a new master, never with HUP, which only forks new workers from the old
# code: `deploy/reload-gunicorn.sh` sends USR2 (a new master on the same listening socket, while
# the old one serves on) and stops the old master once the new one answers.
preload_app = True
# The reload script finds the master here; the new master writes PIDFILE.2 until the old one exits.
pidfile = os.environ.get("GUNICORN_PIDFILE") or None


class RedactingLogger(Logger):
    """gunicorn's logger, with the site's redaction on its access and error lines: the path of an
    emailed link (an error names the request), the peer of a malformed request."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, Redact) for f in log.filters):  # setup runs again on HUP
                log.addFilter(Redact())


logger_class = RedactingLogger


def when_ready(server):
    """In the master, once the app is imported and before any worker is forked: what Django leaves
    to each process's first requests is done here once, so that a new worker's first answers are
    as quick as its later ones. Code that cannot even import stops a new master here, before it
    forks, and deploy/reload-gunicorn.sh leaves the old one serving. Nothing here opens a
    connection to the database or the cache: every worker forked from the master would share it.
    """
    from django.apps import apps

    if apps.ready:  # preload_app, as above
        warm_up_django()


def warm_up_django():
    from django.conf import settings
    from django.core.cache import caches
    from django.core.files.storage import storages
    from django.template.loader import get_template
    from django.urls import reverse
    from django.utils import translation

    for language, _ in settings.LANGUAGES:
        with translation.override(language):  # its catalogue, and the URLs in that language
            reverse("healthz")  # imports the URLconf, and with it every view
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for template in Path(directory).rglob("*.html"):
            get_template(str(template.relative_to(directory)))
    storages["staticfiles"]  # reads the manifest of hashed names
    for alias in settings.CACHES:
        caches[alias]  # the backend and its client library, not a connection
