"""Email confirmation. The link's GET only shows a button: mail scanners fetch every link, so a
confirming GET would confirm for people who never clicked, or use up the token.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from lib import emails, tokens
from lib.tokens import ExpiredToken, InvalidToken  # noqa: F401 - what its callers catch
from lib.urls import site_url

from . import receipts
from .models import Signature

TOKEN_SALT = "signatures.confirm"  # noqa: S105 - a namespace, not a secret
# The email's withdrawal link never expires: withdrawing must stay possible while the petition is.
WITHDRAW_SALT = "signatures.withdraw"


def make_token(signature) -> str:
    return tokens.make_token(signature.pk, signature.email_canonical, salt=TOKEN_SALT)


def read_token(token: str) -> tuple[int, str]:
    return tokens.read_token(
        token, salt=TOKEN_SALT, email_of=signature_email, max_age=settings.CONFIRMATION_MAX_AGE
    )


def signature_email(pk: int) -> str | None:
    return Signature.objects.filter(pk=pk).values_list("email_canonical", flat=True).first()


def petition_path(name: str, petition, language: str) -> str:
    with translation.override(language):
        return reverse(name, kwargs={"slug": petition.slug})


def confirmation_url(signature) -> str:
    with translation.override(signature.language):
        path = reverse("signatures:confirm", kwargs={"token": make_token(signature)})
    return site_url(path)


def withdraw_token(signature) -> str:
    return tokens.make_token(signature.pk, signature.email_canonical, salt=WITHDRAW_SALT)


def read_withdraw_token(token: str) -> tuple[int, str]:
    """A withdrawn row's address is gone, so its link reads as invalid from then on."""
    return tokens.read_token(token, salt=WITHDRAW_SALT, email_of=signature_email)


def withdraw_url(signature) -> str:
    with translation.override(signature.language):
        path = reverse("signatures:withdraw", kwargs={"token": withdraw_token(signature)})
    return site_url(path)


def confirmation_email(signature, receipt: str = ""):
    """`receipt`: the code whose hash the row now holds; the email proves the address, so it is
    the one place a pending signature's code goes."""
    petition = signature.petition
    context = {
        "signature": signature,
        "petition": petition,
        "text": petition.in_language(signature.language),
        "url": confirmation_url(signature),
        "hours": settings.CONFIRMATION_MAX_AGE // 3600,
        "receipt": receipts.grouped(receipt) if receipt else "",
        "receipt_url": site_url(petition_path("signatures:receipt", petition, signature.language)),
        "withdraw_url": withdraw_url(signature),
    }
    return emails.message(
        "confirm", signature.language, signature.email, context, headers=emails.AUTOMATIC
    )


def queue_confirmation(signature) -> bool:
    """Whether queued; safe on every repeat signing, as one caller per resend pause wins."""
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
    # A new code for each email, its hash written before it leaves: the code is never stored.
    receipt = receipts.new_code()
    if not Signature.objects.filter(pk=signature.pk, status=Signature.Status.PENDING).update(
        receipt=receipts.digest(receipt)
    ):
        return "nothing to send"
    try:
        emails.send(confirmation_email(signature, receipt))
    except emails.TRANSIENT as exc:
        return emails.retry_later(send_confirmation, (signature_id,), attempt, exc)
    return "sent"
