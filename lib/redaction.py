"""Keeps emailed links' tokens, email addresses and client addresses out of every log line: Django
prints paths, a mail server's refusal names the recipient, gunicorn names a bad request's peer."""

import logging
import re

# tests/test_no_personal_data.py checks that every URL with a token is here; a petition's
# supporters' link (support/<slug>/<key>) is a secret too.
TOKEN_PATH = re.compile(
    r"/(confirm|withdraw|start/link|unsubscribe|support/[^/\s\"'?#]+)/[^/\s\"'?#]+"
)
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
