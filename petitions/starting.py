"""Starting a petition without an account. The emailed link is a login link, not a one-time
code; GET only shows a button (mail scanners open links), whose POST confirms the email.
"""

import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django_tasks import task

from lib import emails, ratelimit, tokens
from lib.normalise import canonical_email
from lib.tokens import ExpiredToken, InvalidToken  # noqa: F401 - what its callers catch
from lib.urls import site_url

from .models import Petition

TOKEN_SALT = "petitions.starter"  # noqa: S105 - a namespace, not a secret
SESSION_KEY = "started_petitions"


MARKUP = re.compile(r"<[^>]*>")


def new_slug(petition: Petition) -> str:
    """From the English title, else the Persian (browsers show Persian letters as typed), with a
    random tail so no one can guess a petition that is not public yet."""
    if petition.title_en.strip():
        stem = slugify(MARKUP.sub(" ", petition.title_en))
    else:
        # A ZWNJ joins two parts of one word; the address shows them apart, not run together.
        title_fa = MARKUP.sub(" ", petition.title_fa).replace("\u200c", " ")
        stem = slugify(title_fa, allow_unicode=True)
    stem = stem[:60].strip("-") or "petition"
    return f"{stem}-{secrets.token_hex(3)}"


def submit(petition: Petition, *, email: str, language: str) -> tuple[Petition | None, list[int]]:
    """Save and email the link, or over START_OPEN_PER_EMAIL email their links instead; the caller
    answers both alike so the page never says whether an address started anything. Nothing when
    the address had its email this hour: the form must not fill a stranger's mailbox."""
    email_canonical = canonical_email(email)
    if not may_email(email_canonical):
        return None, []
    with transaction.atomic():
        unfinished = list(
            Petition.objects.started_by(email_canonical)
            .unfinished()
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if len(unfinished) >= settings.START_OPEN_PER_EMAIL:
            queue_links(unfinished, language, "limit")
            return None, unfinished
        petition.status = Petition.Status.DRAFT
        petition.starter_email = email
        petition.starter_email_canonical = email_canonical
        petition.starter_language = language
        for _attempt in range(5):
            petition.slug = new_slug(petition)
            try:
                with transaction.atomic():
                    petition.save()
                break
            except IntegrityError:  # the random tail was taken: try another
                petition.pk = None
        else:
            raise IntegrityError("no free address for the petition")
        queue_links([petition.pk], language, "new")
    return petition, [petition.pk]


def cosponsors_required() -> int:
    return max(settings.COSPONSORS_REQUIRED, 0)


def confirm_email(petition: Petition) -> Petition:
    """An unconfirmed petition now gathers its supporters (petitions/cosponsors.py), or with
    none required waits for a moderator; pressing again changes nothing."""
    confirmed = Petition.Status.GATHERING if cosponsors_required() else Petition.Status.PENDING
    Petition.objects.filter(
        pk=petition.pk, status=Petition.Status.DRAFT, email_confirmed_at__isnull=True
    ).exclude(starter_email_canonical="").update(
        status=confirmed, email_confirmed_at=timezone.now()
    )
    petition.refresh_from_db()
    return petition


def resubmit(petition: Petition) -> bool:
    """One conditional UPDATE, so an edit read before publication does nothing once published.
    A rejected petition waits for review again. Returns whether it was saved."""
    rejected, pending = Petition.Status.REJECTED, Petition.Status.PENDING
    saved = Petition.objects.filter(pk=petition.pk, status__in=Petition.Status.EDITABLE).update(
        **{name: getattr(petition, name) for name in Petition.STARTER_FIELDS},
        status=Case(When(status=rejected, then=Value(pending)), default=F("status")),
        updated_at=timezone.now(),
    )
    return bool(saved)


def make_token(petition: Petition) -> str:
    # The address is signed in too: a link stops working if the petition's starter changes.
    return tokens.make_token(petition.pk, petition.starter_email_canonical, salt=TOKEN_SALT)


def read_token(token: str) -> tuple[int, str]:
    return tokens.read_token(
        token, salt=TOKEN_SALT, email_of=starter_email, max_age=settings.START_LINK_MAX_AGE
    )


def starter_email(pk: int) -> str | None:
    return Petition.objects.filter(pk=pk).values_list("starter_email_canonical", flat=True).first()


def petition_for_token(token: str) -> Petition | None:
    pk, email = read_token(token)
    return (
        Petition.objects.filter(pk=pk, starter_email_canonical=email)
        .exclude(starter_email_canonical="")
        .first()
    )


def link_url(petition: Petition, language: str) -> str:
    with translation.override(language):
        path = reverse("petitions:starter_link", kwargs={"token": make_token(petition)})
    return site_url(path)


def remember(request, petition: Petition) -> None:
    mine = [pair for pair in request.session.get(SESSION_KEY, []) if pair[0] != petition.pk]
    request.session[SESSION_KEY] = [*mine, [petition.pk, petition.starter_email_canonical]]
    request.session.cycle_key()  # a new session id once it grants something


def started_here(request, petition: Petition) -> bool:
    return [petition.pk, petition.starter_email_canonical] in request.session.get(
        SESSION_KEY, []
    ) and petition.is_started_by_public


def may_email(email_canonical: str) -> bool:
    """False over START_EMAIL_RATE_PER_ADDRESS. A cache that cannot count lets it go: a starter
    must not lose their link to it."""
    recipient = salted_hmac("petitions.start-recipient", email_canonical).hexdigest()[:32]
    limit = ratelimit.Limit("to", f"start:to:{recipient}", settings.START_EMAIL_RATE_PER_ADDRESS)
    return not ratelimit.hit([limit]).refused


def queue_links(petition_ids: list[int], language: str, reason: str) -> None:
    transaction.on_commit(lambda: send_links.enqueue(list(petition_ids), language, reason, 1))


def queue_outcome_email(petition: Petition) -> None:
    transaction.on_commit(lambda: send_outcome.enqueue(petition.pk, 1))


def starter_message(template: str, language: str, to: str, context: dict):
    context = context | {"hours": settings.START_LINK_MAX_AGE // 3600}
    return emails.message(template, language, to, context, headers=emails.AUTOMATIC)


def links_email(petitions: list[Petition], language: str, reason: str):
    items = [
        {
            "petition": petition,
            "text": petition.in_language(petition.page_language(language)),
            "url": link_url(petition, language),
            # Unconfirmed, the title is whatever anyone typed: it stays out of the email.
            "confirmed": petition.email_confirmed_at is not None,
        }
        for petition in petitions
    ]
    context = {"items": items, "reason": reason, "limit": settings.START_OPEN_PER_EMAIL}
    return starter_message("start-link", language, petitions[0].starter_email, context)


def outcome_email(petition: Petition):
    language = petition.starter_language or petition.original_language
    page_language = petition.page_language(language)
    with translation.override(page_language):
        public_url = site_url(petition.get_absolute_url())
    context = {
        "petition": petition,
        "text": petition.in_language(page_language),
        "published": petition.status in Petition.Status.PUBLIC,
        # Lazy, so it is translated with the rest of the email.
        "reason": Petition.RejectionReason(petition.rejection_reason).label
        if petition.rejection_reason
        else "",
        "note": petition.moderator_note,
        "public_url": public_url,
        "url": link_url(petition, language),
    }
    return starter_message("start-outcome", language, petition.starter_email, context)


@task()
def send_links(petition_ids: list[int], language: str, reason: str, attempt: int = 1) -> str:
    petitions = list(Petition.objects.filter(pk__in=petition_ids).order_by("pk"))
    if not petitions:
        return "nothing to send"
    try:
        emails.send(links_email(petitions, language, reason))
    except emails.TRANSIENT as exc:
        return emails.retry_later(send_links, (petition_ids, language, reason), attempt, exc)
    return "sent"


@task()
def send_outcome(petition_id: int, attempt: int = 1) -> str:
    petition = Petition.objects.filter(pk=petition_id).first()
    if petition is None or petition.status not in (
        Petition.Status.OPEN,
        Petition.Status.REJECTED,
    ):
        return "nothing to send"
    try:
        emails.send(outcome_email(petition))
    except emails.TRANSIENT as exc:
        return emails.retry_later(send_outcome, (petition_id,), attempt, exc)
    return "sent"
