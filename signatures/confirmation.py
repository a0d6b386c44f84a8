"""Email confirmation: the signed link, the email itself, and sending it off the request path
(a background task, with retries that outlive a worker restart).

The link carries a signed, expiring token naming the signature. Opening it only shows a button:
mail scanners fetch every link in a message, so a GET that confirmed (or used up the token) would
confirm for people who never clicked, or break the real click that follows.
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language_info
from django_tasks import task

from lib import tokens
from lib.tokens import ExpiredToken, InvalidToken  # noqa: F401 - what its callers catch
from lib.urls import site_url

from .models import Signature

log = logging.getLogger(__name__)
TOKEN_SALT = "signatures.confirm"  # noqa: S105 - a namespace, not a secret
# Failures worth another try later: the mail server is down, busy or greylisting us.
TRANSIENT = (smtplib.SMTPException, OSError)


def make_token(signature) -> str:
    return tokens.make_token(signature.pk, signature.email_canonical, salt=TOKEN_SALT)


def read_token(token: str) -> tuple[int, str]:
    return tokens.read_token(
        token, salt=TOKEN_SALT, email_of=signature_email, max_age=settings.CONFIRMATION_MAX_AGE
    )


def signature_email(pk: int) -> str | None:
    return Signature.objects.filter(pk=pk).values_list("email_canonical", flat=True).first()


def confirmation_url(signature) -> str:
    with translation.override(signature.language):
        path = reverse("signatures:confirm", kwargs={"token": make_token(signature)})
    return site_url(path)


def build_email(signature) -> EmailMultiAlternatives:
    """The confirmation email in the language the supporter signed in, text and HTML."""
    with translation.override(signature.language):
        petition = signature.petition
        context = {
            "signature": signature,
            "petition": petition,
            "text": petition.in_language(signature.language),
            "url": confirmation_url(signature),
            "hours": settings.CONFIRMATION_MAX_AGE // 3600,
            "language": signature.language,
            "direction": "rtl" if get_language_info(signature.language)["bidi"] else "ltr",
            "site_url": settings.SITE_URL,
        }
        subject = " ".join(render_to_string("emails/confirm-subject.txt", context).split())
        text = render_to_string("emails/confirm-body.txt", context)
        html = render_to_string("emails/confirm-body.html", context)
    message = EmailMultiAlternatives(subject, text, to=[signature.email])
    message.attach_alternative(html, "text/html")
    message.extra_headers["Content-Language"] = signature.language
    # Automatic replies to a confirmation would only bounce around.
    message.extra_headers["Auto-Submitted"] = "auto-generated"
    return message


def queue_confirmation(signature) -> bool:
    """Queue the email unless one went out for this signature within the resend pause.
    Returns whether it was queued. Safe to call on every repeat signing: only one caller per
    pause wins the update."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.CONFIRMATION_RESEND_SECONDS)
    claimed = (
        Signature.objects.filter(pk=signature.pk, status=Signature.Status.PENDING)
        .filter(Q(emailed_at__isnull=True) | Q(emailed_at__lt=cutoff))
        .update(emailed_at=now)
    )
    if claimed:
        transaction.on_commit(lambda: send_confirmation.enqueue(signature.pk, 1))
    return bool(claimed)


@task()
def send_confirmation(signature_id: int, attempt: int = 1) -> str:
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None or signature.status != Signature.Status.PENDING:
        return "nothing to send"  # confirmed, invalidated or erased since it was queued
    try:
        build_email(signature).send()
    except TRANSIENT as exc:
        return retry_later(signature_id, attempt, exc)
    return "sent"


def retry_later(signature_id: int, attempt: int, exc: Exception) -> str:
    delays = settings.CONFIRMATION_RETRY_DELAYS
    if attempt > len(delays):
        log.error("Gave up on the confirmation email for signature %s: %s", signature_id, exc)
        return "gave up"
    log.warning(
        "Confirmation email for signature %s failed (attempt %s, %s); retrying",
        signature_id,
        attempt,
        exc.__class__.__name__,
    )
    if send_confirmation.get_backend().supports_defer:
        run_after = timezone.now() + datetime.timedelta(seconds=delays[attempt - 1])
        send_confirmation.using(run_after=run_after).enqueue(signature_id, attempt + 1)
        return "retry queued"
    # Inline (immediate) backend: no queue to come back to, so try again now.
    return send_confirmation.call(signature_id, attempt + 1)
