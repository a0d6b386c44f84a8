"""Milestones: a threshold reached, the response or outcome published, the petition closed. Each
is announced once, where it is recorded and in its transaction:

- to the consenting signers, as an `Update` of that milestone kind, already approved, listed for
  the update outbox (petitions/mailing.py), which sends it in each signer's language at most one
  milestone a day per signature;
- to the starter of a petition started by the public, whatever the signers chose, and at each
  quarter of the goal (found by `tend_petitions`);
- to the organisers (active staff in the "Organisers" group with an email address), in English.

docs/milestones.md says what is sent, to whom and why it rides the outbox.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tasks import task

from lib import audit, emails

from . import mailing, milestone_words
from .milestone_words import GOAL, QUARTERS, Kind
from .models import Petition, ThresholdReached, Update

log = logging.getLogger(__name__)

ORGANISERS = "Organisers"
STARTER = "starter"
# The admin has no language preference for a user; organisers read the admin in English first.
ORGANISER_LANGUAGE = "en"


def announce(petition: Petition, kind: str, key: str, number: int | None, *, by) -> Update | None:
    """The milestone's update, its recipients listed and its send kicked after the commit, with
    its audit entry; None if it was announced before (a second pass, an edit saved again) or the
    petition is not public."""
    if petition.status not in Petition.Status.PUBLIC:
        return None
    with transaction.atomic():
        if Update.objects.milestones().filter(petition=petition, milestone_key=key).exists():
            return None
        titles = milestone_words.titles(petition, kind, number)
        bodies = milestone_words.summary(petition, kind, number)
        now = timezone.now()
        try:
            with transaction.atomic():
                update = Update.objects.create(
                    petition=petition,
                    milestone=kind,
                    milestone_key=key,
                    milestone_number=number,
                    title_en=titles["en"][:200],
                    title_fa=titles["fa"][:200],
                    body_en=bodies["en"],
                    body_fa=bodies["fa"],
                    email_signers=True,
                    status=Update.Status.PUBLISHED,
                    published_at=now,
                    email_state=Update.Email.SENDING,
                    email_started_at=now,
                )
        except IntegrityError:
            return None  # another pass announced it first
        recipients = mailing.list_recipients(update)
        audit.record(
            by,
            audit.Action.MILESTONE_ANNOUNCED,
            update,
            milestone=kind,
            number=number,
            recipients=recipients,
        )
        mailing.kick(update.pk)
        tell_team(petition, kind, number)
    return update


def threshold_reached(row: ThresholdReached, *, by) -> Update | None:
    # Whole: the pass that found it read only what counting needs.
    petition = Petition.objects.get(pk=row.petition_id)
    return announce(petition, Kind.THRESHOLD, f"threshold:{row.number}", row.number, by=by)


def closed(petition: Petition, *, by) -> Update | None:
    """After `petition.close()` or a status set to closed: the final count goes in the email."""
    count = milestone_words.final_count(petition)
    return announce(petition, Kind.CLOSED, "closed", count, by=by)


def answered(petition: Petition, changed: set[str], *, by) -> list[Update]:
    """The response or outcome just saved in the admin. Once the response has been announced,
    editing it announces nothing; each outcome is announced once. A response and an outcome
    saved together make one email, which names the outcome."""
    announced = []
    response_changed = bool(changed & {"response_en", "response_fa"})
    if response_changed and petition.has_response:
        update = announce(petition, Kind.RESPONSE, "response", None, by=by)
        if update is not None:
            return [update]
    if "outcome" in changed and petition.outcome:
        key = f"outcome:{petition.outcome}"
        update = announce(petition, Kind.OUTCOME, key, None, by=by)
        if update is not None:
            announced.append(update)
    return announced


def with_counts(petitions):
    return petitions.annotate(total=Coalesce(Sum("count_shards__count"), 0))


def tell_goal_progress() -> list[tuple[Petition, int]]:
    """The periodic pass: each open petition started by the public whose count passed another
    quarter of its goal tells its starter, once. A count that jumps two quarters in one pass
    sends one email, of the higher. The conditional UPDATE makes it once however many passes
    run at once. Returns (petition, percent) for each told."""
    petitions = (
        Petition.objects.signable()
        .exclude(starter_email_canonical="")
        .filter(goal_percent_told__lt=QUARTERS[-1])
    )
    told = []
    for petition in with_counts(petitions).only("pk", "goal", "goal_percent_told", "status"):
        passed = [q for q in QUARTERS if petition.total * 100 >= q * petition.goal]
        if not passed or passed[-1] <= petition.goal_percent_told:
            continue
        percent = passed[-1]
        with transaction.atomic():
            if Petition.objects.filter(pk=petition.pk, goal_percent_told__lt=percent).update(
                goal_percent_told=percent
            ):
                queue_notice(petition.pk, GOAL, percent, STARTER)
                told.append((petition, percent))
    return told


def organisers():
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=ORGANISERS)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )


def tell_team(petition: Petition, kind: str, number: int | None) -> None:
    """The starter hears whatever the signers chose; each organiser hears on their own, so that
    one refusing address does not hold back the others."""
    if petition.is_started_by_public:
        queue_notice(petition.pk, kind, number, STARTER)
    for pk in organisers().values_list("pk", flat=True):
        queue_notice(petition.pk, kind, number, str(pk))


def queue_notice(petition_id: int, kind: str, number: int | None, recipient: str) -> None:
    transaction.on_commit(lambda: send_notice.enqueue(petition_id, kind, number, recipient, 1))


def notice(petition: Petition, kind: str, number: int | None, recipient: str):
    """The email to the starter or one organiser, or None when there is no one to send it to now
    (the starter's address erased, the organiser gone)."""
    if recipient == STARTER:
        if not petition.starter_email:
            return None
        language = petition.starter_language or petition.original_language
        to, name, audience = petition.starter_email, petition.starter_name, "starter"
    else:
        user = organisers().filter(pk=int(recipient)).first()
        if user is None:
            return None
        language, to, audience = ORGANISER_LANGUAGE, user.email, "organiser"
        name = user.get_full_name() or user.get_username()
    context = milestone_words.context_for(petition, kind, number, language, audience=audience)
    return emails.message(
        "milestone", language, to, context | {"name": name}, headers=emails.AUTOMATIC
    )


@task()
def send_notice(petition_id: int, kind: str, number: int | None, recipient: str, attempt=1) -> str:
    petition = Petition.objects.filter(pk=petition_id).first()
    message = notice(petition, kind, number, recipient) if petition else None
    if message is None:
        return "nothing to send"
    try:
        emails.send(message)
    except emails.TRANSIENT as exc:
        return emails.retry_later(send_notice, (petition_id, kind, number, recipient), attempt, exc)
    return "sent"
