"""Publish or send back a petition the public started: the audit record is written in the change's
transaction and the starter's email queued on its commit, so no caller can forget either."""

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib import audit
from signatures import cosponsoring

from . import cosponsors, starting
from .models import Petition


class Choice(models.TextChoices):
    PUBLISH = "publish", _("Published")
    REJECT = "reject", _("Sent back")


ACTIONS = {
    Choice.PUBLISH: audit.Action.PETITION_PUBLISHED,
    Choice.REJECT: audit.Action.PETITION_REJECTED,
}


class NotWaiting(Exception):
    """Someone decided first, or the starter has not confirmed their email yet."""


class ChangedSinceRead(Exception):
    """The petition is not what the moderator read: the starter (or an organiser) changed it."""


def publish(petition: Petition, *, by, read: str | None = None) -> Petition:
    return decide(petition, Choice.PUBLISH, by=by, read=read)


def reject(
    petition: Petition, *, by, reason: str, note: str = "", read: str | None = None
) -> Petition:
    if reason not in Petition.RejectionReason.values:
        raise ValueError(f"Not a reason: {reason!r}")
    return decide(petition, Choice.REJECT, by=by, reason=reason, note=note, read=read)


def decide(
    petition: Petition,
    action: str,
    *,
    by,
    reason: str = "",
    note: str = "",
    read: str | None = None,
) -> Petition:
    """`read` is the petition's `reviewed_version` on the page the moderator decided from; a
    petition changed since then is not decided. Only callers that show no text (scripts, tests)
    leave it out."""
    with transaction.atomic():
        # Locked, so two moderators deciding at once cannot both act (or both email), and a
        # starter's edit (a conditional UPDATE of the same row) lands wholly before or not at all.
        locked = Petition.objects.select_for_update().filter(pk=petition.pk).first()
        if locked is None or locked.status != Petition.Status.PENDING:
            raise NotWaiting
        if read is not None and locked.reviewed_version != read:
            raise ChangedSinceRead
        if action == Choice.PUBLISH:
            locked.status = Petition.Status.OPEN
            locked.opened_at = timezone.now()
            locked.rejection_reason, locked.moderator_note = "", ""
        else:
            locked.status = Petition.Status.REJECTED
            locked.rejection_reason, locked.moderator_note = reason, note.strip()
        # The same rules as an organiser's save in the admin (one complete language at least).
        locked.full_clean()
        locked.save()
        if action == Choice.PUBLISH:
            counted = cosponsoring.count_at_publish(locked)
        else:
            counted = 0
            cosponsors.forget(locked)
        why = {name: value for name, value in (("reason", reason), ("note", note.strip())) if value}
        if counted:
            why["supporters"] = counted
        audit.record(by, ACTIONS[action], locked, **why)
        if locked.is_started_by_public:  # an organiser's own petition has no one to tell
            starting.queue_outcome_email(locked)
    return locked
