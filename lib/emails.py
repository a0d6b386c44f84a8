"""Every email the site sends, from `emails/<name>-subject.txt`, `-body.txt` and `-body.html`,
with one retry policy."""

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import get_language_info

log = logging.getLogger(__name__)

# Failures worth another try later: the mail server is down, busy or greylisting us.
TRANSIENT = (smtplib.SMTPException, OSError)
# Emails nobody should answer with an automatic reply (RFC 3834).
AUTOMATIC = {"Auto-Submitted": "auto-generated"}


def direction(language: str) -> str:
    return "rtl" if get_language_info(language)["bidi"] else "ltr"


def render(name: str, language: str, context: dict) -> tuple[str, str, str]:
    context = {
        "language": language,
        "direction": direction(language),
        "site_url": settings.SITE_URL,
        **context,
    }
    with translation.override(language):
        subject = render_to_string(f"emails/{name}-subject.txt", context)
        text = render_to_string(f"emails/{name}-body.txt", context)
        html = render_to_string(f"emails/{name}-body.html", context)
    return " ".join(subject.split()), text, html


def build(
    subject: str,
    text: str,
    html: str,
    *,
    to: str,
    language: str,
    headers: dict | None = None,
    connection=None,
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject,
        text,
        to=[to],
        connection=connection,
        headers={"Content-Language": language, **(headers or {})},
    )
    message.attach_alternative(html, "text/html")
    return message


def message(
    name: str, language: str, to: str, context: dict, *, headers: dict | None = None
) -> EmailMultiAlternatives:
    return build(*render(name, language, context), to=to, language=language, headers=headers)


def connection():
    """Open once and send many messages on it."""
    return get_connection(timeout=settings.EMAIL_TIMEOUT)


def send(email: EmailMultiAlternatives) -> None:
    """Raises one of TRANSIENT when the mail server fails."""
    email.connection = email.connection or connection()
    email.send()


def retry_delay(attempt: int) -> datetime.timedelta | None:
    """The pause after the `attempt`th failure (from 1); None once EMAIL_RETRY_DELAYS run out."""
    delays = settings.EMAIL_RETRY_DELAYS
    return datetime.timedelta(seconds=delays[attempt - 1]) if attempt <= len(delays) else None


def retry_later(task, args: tuple, attempt: int, exc: Exception) -> str:
    """Queue `task(*args, attempt + 1)` after the backoff, or give up. The last arg is the
    attempt."""
    delay = retry_delay(attempt)
    if delay is None:
        log.error("Gave up on an email (%s %s): %s", task.name, args[:1], exc)
        return "gave up"
    log.warning("An email failed (%s, attempt %s, %s); retrying", task.name, attempt, exc)
    if task.get_backend().supports_defer:
        task.using(run_after=timezone.now() + delay).enqueue(*args, attempt + 1)
        return "retry queued"
    # The immediate backend has no queue to come back to: try again now.
    return task.call(*args, attempt + 1)
