"""`gunicorn -c config/gunicorn.conf.py config.wsgi`; deploy with deploy/reload-gunicorn.sh."""

import multiprocessing
import os
from pathlib import Path

from gunicorn.glogging import Logger

from lib.redaction import Redact

bind = os.environ.get(
    "GUNICORN_BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# One thread a process, and enough processes to fill the cores while others wait on PostgreSQL or
# Redis: threads of one process take turns at the GIL. On 2 cores `make bench` measured 10 x 1
# against 5 x 4 at +8 % signing and +13-25 % pages straight from gunicorn, floors unchanged; 16
# was slower again. gthread, not sync: it keeps idle keep-alive connections without a process.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 5))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycled so that a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
# No client address, query string, Referer or token: signers must not be traceable from our logs.
access_log_format = "%(m)s %(U)s %(s)s %(b)s %(M)sms"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Seconds a request's SQL statement may run or wait for a lock before PostgreSQL cancels it (a
# 503): no request needs longer. Set for the app servers only (gunicorn puts raw_env in the
# environment before it loads the app), so that migrations and bulk jobs keep no limit.
raw_env = [] if "DB_STATEMENT_TIMEOUT" in os.environ else ["DB_STATEMENT_TIMEOUT=15"]

# Workers fork ready to answer. New code therefore needs a new master (USR2), since HUP forks
# the old code again: deploy/reload-gunicorn.sh.
preload_app = True
pidfile = os.environ.get("GUNICORN_PIDFILE") or None


class RedactingLogger(Logger):
    """An error line names the request's path, which may hold an emailed link's token."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, Redact) for f in log.filters):  # setup runs again on HUP
                log.addFilter(Redact())


logger_class = RedactingLogger


def when_ready(server):
    """Warm up once in the master so that a new worker's first answers are quick. Opens no
    database or cache connection: every forked worker would share it."""
    from django.apps import apps

    if apps.ready:  # preload_app, as above
        warm_up_django()


def warm_up_django():
    from django.conf import settings
    from django.core.files.storage import storages
    from django.template.loader import get_template
    from django.urls import reverse
    from django.utils import translation

    from lib import cache

    for language, _ in settings.LANGUAGES:
        with translation.override(language):  # its catalogue, and the URLs in that language
            reverse("healthz")  # imports the URLconf, and with it every view
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for template in Path(directory).rglob("*.html"):
            get_template(str(template.relative_to(directory)))
    storages["staticfiles"]  # reads the manifest of hashed names
    cache.load_backends()
