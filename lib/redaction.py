"""What must never reach a log: the token of an emailed link (it acts for its reader for days,
and older ones carry the address), an email address, a client's address. Django's own lines print
the path (a CSRF failure, a 400 on a bad link), a mail server's refusal names the recipient, and
gunicorn names the peer of a malformed request; this filter rewrites each line before any handler
writes it. settings.LOGGING puts it on the site's handler, config/gunicorn.conf.py on gunicorn's
loggers."""

import logging
import re

# Every emailed link's path (tests/test_no_personal_data.py checks each URL with a token).
TOKEN_PATH = re.compile(r"/(confirm|start/link|unsubscribe)/[^/\s\"'?#]+")
EMAIL = re.compile(r"[^\s\"'<>(){}\[\],;:]+@[^\s\"'<>(){}\[\],;:]+\.[A-Za-z]{2,}")
PEER = re.compile(r"\bip=\S+")


def redact(text: str) -> str:
    text = TOKEN_PATH.sub(r"/\1/<token>", text)
    text = EMAIL.sub("<email>", text)
    return PEER.sub("ip=<address>", text)


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
