"""Background work: sending confirmation emails, with retries that outlive a worker restart."""

import datetime
import logging
import smtplib

from django.conf import settings
from django.utils import timezone
from django_tasks import task

log = logging.getLogger(__name__)

# Failures worth another try later: the mail server is down, busy or greylisting us.
TRANSIENT = (smtplib.SMTPException, OSError)


@task()
def send_confirmation(signature_id: int, attempt: int = 1) -> str:
    from .confirmation import build_email
    from .models import Signature

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
