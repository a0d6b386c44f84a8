"""Supporters before review: a confirmed petition gathers COSPONSORS_REQUIRED confirmed supporters
through a private link before it waits for a moderator, so a moderator reads only what a few
people besides its starter stand behind. Each supporter confirms their address by email; once
enough have, the petition waits for review, with an audit entry, and its starter is told.
"""

import datetime
import hmac

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from lib import audit, emails, tokens
from lib.tokens import ExpiredToken, InvalidToken  # noqa: F401 - what its callers catch
from lib.urls import site_url

from . import starting
from .models import Cosponsor, Petition

LINK_SALT = "petitions.supporters"
CONFIRM_SALT = "petitions.cosponsor"


def required() -> int:
    return starting.cosponsors_required()


def link_key(petition: Petition) -> str:
    """The secret part of the supporters' link: a keyed hash, so nothing secret is stored and the
    starter's page can show the same link every time. The starter's address is in it, so erasing
    the starter voids the link."""
    return tokens.email_proof(
        f"{petition.pk}:{petition.slug}:{petition.starter_email_canonical}", salt=LINK_SALT
    )


def link_path(petition: Petition, language: str) -> str:
    with translation.override(language):
        return reverse(
            "petitions:supporters", kwargs={"slug": petition.slug, "key": link_key(petition)}
        )


def petition_for_link(slug: str, key: str) -> Petition | None:
    """None for a wrong key, so a guess tells nothing of whether the petition exists."""
    petition = Petition.objects.filter(slug=slug).exclude(starter_email_canonical="").first()
    if petition is None or petition.email_confirmed_at is None:
        return None
    value = f"{petition.pk}:{petition.slug}:{petition.starter_email_canonical}"
    keys = [
        tokens.email_proof(value, salt=LINK_SALT, secret=secret)
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    ]
    if not any(hmac.compare_digest(key, candidate) for candidate in keys):
        return None
    return petition


def supporters_count(petition: Petition) -> int:
    return Cosponsor.objects.filter(petition=petition).counting().count()


def add(
    petition: Petition,
    *,
    name: str,
    email: str,
    email_canonical: str,
    country: str,
    language: str,
    ip_hash: str,
) -> None:
    """Record a supporter and email them their confirmation link. A repeat takes the details typed
    last (the first to type an address may not own it) and gets the email again, within the
    resend pause; the page answers both alike."""
    details = {"name": name, "email": email, "country": country, "language": language}
    try:
        with transaction.atomic():
            cosponsor = Cosponsor.objects.create(
                petition=petition, email_canonical=email_canonical, ip_hash=ip_hash, **details
            )
    except IntegrityError:
        cosponsor = Cosponsor.objects.filter(
            petition=petition, email_canonical=email_canonical
        ).first()
        if cosponsor is None:
            raise
        if cosponsor.confirmed_at is not None:
            return
        Cosponsor.objects.filter(pk=cosponsor.pk).update(**details)
    queue_confirmation(cosponsor)


def queue_confirmation(cosponsor: Cosponsor) -> bool:
    """The same resend pause as a signature's confirmation: a form cannot fill a mailbox."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.CONFIRMATION_RESEND_SECONDS)
    claimed = (
        Cosponsor.objects.filter(pk=cosponsor.pk, confirmed_at__isnull=True)
        .filter(Q(emailed_at__isnull=True) | Q(emailed_at__lt=cutoff))
        .update(emailed_at=now)
    )
    if claimed:
        transaction.on_commit(lambda: send_confirmation.enqueue(cosponsor.pk, 1))
    return bool(claimed)


def make_token(cosponsor: Cosponsor) -> str:
    return tokens.make_token(cosponsor.pk, cosponsor.email_canonical, salt=CONFIRM_SALT)


def cosponsor_for_token(token: str) -> Cosponsor | None:
    pk, email = tokens.read_token(
        token, salt=CONFIRM_SALT, email_of=cosponsor_email, max_age=settings.CONFIRMATION_MAX_AGE
    )
    return Cosponsor.objects.select_related("petition").filter(pk=pk, email_canonical=email).first()


def cosponsor_email(pk: int) -> str | None:
    return Cosponsor.objects.filter(pk=pk).values_list("email_canonical", flat=True).first()


def confirm(cosponsor: Cosponsor) -> Petition:
    """Confirm a supporter; the one that makes the number sends the petition for review. Pressing
    again changes nothing."""
    with transaction.atomic():
        # Locked first, so two supporters confirming at once cannot both send it (or neither).
        petition = Petition.objects.select_for_update().get(pk=cosponsor.petition_id)
        Cosponsor.objects.filter(pk=cosponsor.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        send_if_ready(petition)
    return petition


def send_if_ready(petition: Petition) -> bool:
    """With the petition's row locked: to review if it gathers and has enough supporters."""
    supporters = supporters_count(petition)
    if petition.status != Petition.Status.GATHERING or supporters < required():
        return False
    petition.status = Petition.Status.PENDING
    petition.save(update_fields=["status", "updated_at"])
    audit.record("system", audit.Action.PETITION_SUPPORTED, petition, supporters=supporters)
    transaction.on_commit(lambda: send_ready.enqueue(petition.pk, 1))
    return True


def send_those_ready() -> int:
    """After COSPONSORS_REQUIRED is lowered (or set to 0), the petitions that already have
    enough would otherwise wait for one more confirmation that may never come."""
    sent = 0
    for pk in Petition.objects.filter(status=Petition.Status.GATHERING).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            petition = Petition.objects.select_for_update().get(pk=pk)
            sent += send_if_ready(petition)
    return sent


def forget(petition: Petition) -> int:
    """A petition sent back loses its supporters: they backed the text a moderator refused, not
    whatever it becomes, so none of them is ever counted for it."""
    deleted, _by_model = Cosponsor.objects.filter(petition=petition).delete()
    return deleted


def confirmation_url(cosponsor: Cosponsor) -> str:
    with translation.override(cosponsor.language):
        path = reverse("petitions:supporter_confirm", kwargs={"token": make_token(cosponsor)})
    return site_url(path)


def confirmation_email(cosponsor: Cosponsor):
    petition = cosponsor.petition
    context = {
        "cosponsor": cosponsor,
        "petition": petition,
        "text": petition.in_language(petition.page_language(cosponsor.language)),
        "url": confirmation_url(cosponsor),
        "hours": settings.CONFIRMATION_MAX_AGE // 3600,
    }
    return emails.message(
        "cosponsor-confirm",
        cosponsor.language,
        cosponsor.email,
        context,
        headers=emails.AUTOMATIC,
    )


def ready_email(petition: Petition):
    language = petition.starter_language or petition.original_language
    context = {
        "petition": petition,
        "text": petition.in_language(petition.page_language(language)),
        "supporters": supporters_count(petition),
        "url": starting.link_url(petition, language),
    }
    return starting.starter_message("start-supported", language, petition.starter_email, context)


@task()
def send_confirmation(cosponsor_id: int, attempt: int = 1) -> str:
    cosponsor = Cosponsor.objects.select_related("petition").filter(pk=cosponsor_id).first()
    if cosponsor is None or cosponsor.confirmed_at is not None:
        return "nothing to send"
    try:
        emails.send(confirmation_email(cosponsor))
    except emails.TRANSIENT as exc:
        return emails.retry_later(send_confirmation, (cosponsor_id,), attempt, exc)
    return "sent"


@task()
def send_ready(petition_id: int, attempt: int = 1) -> str:
    petition = Petition.objects.filter(pk=petition_id).first()
    if petition is None or not petition.is_started_by_public:
        return "nothing to send"
    try:
        emails.send(ready_email(petition))
    except emails.TRANSIENT as exc:
        return emails.retry_later(send_ready, (petition_id,), attempt, exc)
    return "sent"
