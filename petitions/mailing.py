"""Emailing an approved update to consenting signers through a `Delivery` outbox.

Workers claim chunks with SKIP LOCKED. A row is marked `sending` in the statement that re-checks
consent and the send's state, and `sent` with the next row's mark (one commit a message), so a
killed worker leaves at most one row `uncertain`, which only a moderator may send again.
"""

import datetime
import logging
import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Exists, F, Min, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from lib import audit, emails, tokens
from signatures.models import Signature

from . import milestone_words
from .models import LANGUAGE_CODES, Delivery, Petition, Update

log = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "petitions.unsubscribe"
# Sends yield to confirmation emails, which a signer is waiting for.
PRIORITY = -10
# At most one milestone email a day to a signature (docs/milestones.md).
MILESTONE_GAP = datetime.timedelta(hours=24)


class CapReached(Exception):
    """The petition emailed an update too recently; a moderator may override."""

    def __init__(self, last: datetime.datetime):
        super().__init__(last)
        self.last = last


def unsubscribe_token(signature_id: int, email_canonical: str) -> str:
    return tokens.make_token(signature_id, email_canonical, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    # No expiry: an unsubscribe link must work in an email read a year later.
    return tokens.read_token(token, salt=UNSUBSCRIBE_SALT, email_of=signer_email)


def signer_email(pk: int) -> str | None:
    return Signature.objects.filter(pk=pk).values_list("email_canonical", flat=True).first()


def unsubscribe(signature_id: int, email_canonical: str) -> bool:
    """Takes effect at once: every send re-checks consent before each message."""
    return bool(
        Signature.objects.filter(
            pk=signature_id, email_canonical=email_canonical, consent_contact=True
        ).update(consent_contact=False)
    )


def last_emailed(update: Update) -> datetime.datetime | None:
    since = timezone.now() - datetime.timedelta(days=settings.UPDATE_EMAIL_MIN_DAYS)
    return (
        Update.objects.emailed_since(update.petition_id, since)
        .exclude(pk=update.pk)
        .aggregate(last=Min("email_started_at"))["last"]
    )


class ChangedSinceRead(Exception):
    """The update's text or email choice changed since the moderator read it."""


def approve(update: Update, *, by, override_cap: bool = False, read: str | None = None) -> int:
    """Publish and maybe email the update; returns the number of recipients. `read` is the
    `reviewed_version` the moderator was shown (ChangedSinceRead if it differs)."""
    with transaction.atomic():
        # The petition's row lock makes two approvals on one petition take turns over the cap.
        Petition.objects.select_for_update().filter(pk=update.petition_id).first()
        update = Update.objects.select_for_update().get(pk=update.pk)
        if update.status != Update.Status.SUBMITTED:
            return 0  # approved already (a double click), or rejected
        if read is not None and update.reviewed_version != read:
            raise ChangedSinceRead
        recipients = 0
        overridden = False
        if update.email_signers:
            last = last_emailed(update)
            if last is not None:
                if not override_cap:
                    raise CapReached(last)
                overridden = True
        now = timezone.now()
        update.status = Update.Status.PUBLISHED
        update.published_at = now
        update.approved_by = by if getattr(by, "pk", None) else None
        if update.email_signers:
            update.email_state = Update.Email.SENDING
            update.email_started_at = now
            update.cap_overridden = overridden
        update.save()
        if update.email_signers:
            recipients = list_recipients(update)
        emailing = {"recipients": recipients, "cap_overridden": overridden}
        audit.record(
            by, audit.Action.UPDATE_APPROVED, update, **(emailing if update.email_signers else {})
        )
        if update.email_signers:
            kick(update.pk)
    return recipients


def list_recipients(update: Update) -> int:
    """The list is fixed at approval, in one statement; re-running adds nobody twice."""
    delivery = connection.ops.quote_name(Delivery._meta.db_table)
    signature = connection.ops.quote_name(Signature._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {delivery} (update_id, signature_id, state, attempts, error) "  # noqa: S608
            f"SELECT %s, id, %s, 0, '' FROM {signature} "
            "WHERE petition_id = %s AND status = %s AND consent_contact ORDER BY id "
            "ON CONFLICT (update_id, signature_id) DO NOTHING",
            [update.pk, Delivery.State.QUEUED, update.petition_id, Signature.Status.COUNTED],
        )
        return cursor.rowcount


def reject(update: Update, *, by) -> bool:
    with transaction.atomic():
        changed = Update.objects.filter(pk=update.pk, status=Update.Status.SUBMITTED).update(
            status=Update.Status.REJECTED
        )
        if changed:
            audit.record(by, audit.Action.UPDATE_REJECTED, update)
    return bool(changed)


CONTROL_ACTIONS = {
    "pause": audit.Action.UPDATE_PAUSED,
    "resume": audit.Action.UPDATE_RESUMED,
    "cancel": audit.Action.UPDATE_CANCELLED,
    "resend_uncertain": audit.Action.UPDATE_RESENT,
}


def control(update: Update, action: str, *, by) -> bool:
    """Pause, resume, cancel, or resend uncertain messages; returns whether anything changed."""
    with transaction.atomic():
        rows = Update.objects.select_for_update().filter(pk=update.pk)
        current = rows.first()
        if current is None:
            return False
        now = timezone.now()
        deliveries = Delivery.objects.filter(update_id=update.pk)
        if action == "pause":
            changed = rows.filter(email_state=Update.Email.SENDING).update(
                email_state=Update.Email.PAUSED
            )
        elif action == "resume":
            changed = rows.filter(email_state=Update.Email.PAUSED).update(
                email_state=Update.Email.SENDING
            )
        elif action == "cancel":
            changed = rows.filter(email_state__in=Update.Email.STOPPABLE).update(
                email_state=Update.Email.CANCELLED, email_finished_at=now
            )
            if changed:
                deliveries.filter(
                    state__in=[Delivery.State.QUEUED, Delivery.State.CLAIMED, Delivery.State.HELD]
                ).update(state=Delivery.State.CANCELLED)
        elif action == "resend_uncertain":
            changed = deliveries.filter(state=Delivery.State.UNCERTAIN).update(
                state=Delivery.State.QUEUED, due_at=None
            )
            if changed:
                rows.filter(email_state=Update.Email.DONE).update(
                    email_state=Update.Email.SENDING, email_finished_at=None
                )
        else:
            raise ValueError(action)
        if changed:
            audit.record(
                by,
                CONTROL_ACTIONS[action],
                current,
                **({"emails": changed} if action == "resend_uncertain" else {}),
            )
            if action in ("resume", "resend_uncertain"):
                kick(update.pk)
    return bool(changed)


def kick(update_id: int) -> None:
    transaction.on_commit(lambda: send_update.enqueue(update_id))


@task(priority=PRIORITY)
def send_update(update_id: int, *_link: int) -> str:
    # `_link`: tasks queued before the outbox (by the chain of links) carry one more number.
    return Outbox(update_id).run()


class Outbox:
    """One task's chunk; all rows with the immediate backend, where no task would come back."""

    FIELDS = ("id", "attempts", "signature_id", "signature__name", "signature__email",
              "signature__email_canonical", "signature__language")  # fmt: skip

    def __init__(self, update_id: int):
        self.update_id = update_id
        self.rows = Delivery.objects.filter(update_id=update_id)
        self.deferrable = send_update.get_backend().supports_defer
        self.domain = urlsplit(settings.SITE_URL).hostname or "localhost"
        self.stamp: datetime.datetime | None = None  # this task's claim: its rows' `due_at`
        self.milestone = False  # a milestone's rows keep to one a day per signer

    def run(self) -> str:
        self.recover()
        sent = 0
        while True:
            update = (
                Update.objects.select_related("petition")
                .filter(pk=self.update_id, email_state=Update.Email.SENDING)
                .first()
            )
            if update is None:
                return f"sent {sent}; not sending"
            self.milestone = bool(update.milestone)
            chunk = self.claim()
            if not chunk:
                return f"sent {sent}; {self.finish()}"
            mail = emails.connection()
            try:
                mail.open()
            except emails.TRANSIENT as exc:
                self.unreachable(exc)
                return f"sent {sent}; mail server unreachable"
            if self.deferrable:
                send_update.enqueue(self.update_id)  # the next chunk, on whichever worker is free
            try:
                done, stopped = self.send(update, chunk, mail)
            finally:
                mail.close()
            sent += done
            if stopped:
                return f"sent {sent}; stopped"
            if self.deferrable and self.due().exists():
                return f"sent {sent}"  # the next task takes the rest
            # Else round again: the end of the send, or the next chunk without a queue.

    def due(self):
        now = timezone.now()
        return self.rows.filter(state__in=[Delivery.State.QUEUED, Delivery.State.HELD]).filter(
            Q(due_at__isnull=True) | Q(due_at__lte=now)
        )

    def mine(self):
        return self.rows.filter(due_at=self.stamp)

    def recover(self) -> None:
        """Lapsed claims: unstarted rows requeue; a `sending` one may have arrived, so uncertain."""
        lapsed = self.rows.filter(Q(due_at__lt=timezone.now()) | Q(due_at__isnull=True))
        lapsed.filter(state=Delivery.State.CLAIMED).update(state=Delivery.State.QUEUED, due_at=None)
        lost = lapsed.filter(state=Delivery.State.SENDING).update(
            state=Delivery.State.UNCERTAIN, error="the worker stopped while sending"
        )
        if lost:
            log.warning(
                "Update %s: %s message(s) of a dead worker left uncertain", self.update_id, lost
            )

    def claim(self) -> list:
        seconds = settings.UPDATE_SEND_CLAIM_SECONDS
        self.stamp = timezone.now() + datetime.timedelta(seconds=seconds)
        with transaction.atomic():
            ids = list(
                self.due()
                .order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[: settings.UPDATE_SEND_CHUNK]
            )
            rows = Delivery.objects.filter(
                pk__in=ids, state__in=[Delivery.State.QUEUED, Delivery.State.HELD]
            )
            rows.exclude(
                signature__consent_contact=True, signature__status=Signature.Status.COUNTED
            ).update(state=Delivery.State.SKIPPED)
            if self.milestone and ids:
                self.hold(ids)
            rows.filter(Q(due_at__isnull=True) | Q(due_at__lte=timezone.now())).update(
                state=Delivery.State.CLAIMED, due_at=self.stamp
            )
        return list(
            self.mine().filter(state=Delivery.State.CLAIMED).order_by("id")
            .values_list(*self.FIELDS, named=True)
        )  # fmt: skip

    def hold(self, ids: list[int]) -> int:
        """Hold the rows among `ids` whose signer had another milestone sent in the last day, has
        one on its way, or has an older one still waiting: each is due a day after that one, and
        is looked at again then. So two milestones the same day reach a signer a day apart, in
        the order they happened, and neither is dropped. In the claim's transaction, one
        statement a chunk."""
        state = Delivery.State
        now = timezone.now()
        before = (
            Delivery.objects.filter(signature_id=OuterRef("signature_id"), update__milestone__gt="")
            .exclude(update_id=OuterRef("update_id"))
            .filter(
                Q(state=state.SENT, sent_at__gt=now - MILESTONE_GAP)
                | Q(state__in=[state.CLAIMED, state.SENDING])
                | Q(
                    state__in=[state.QUEUED, state.HELD],
                    update_id__lt=OuterRef("update_id"),
                    update__email_state__in=[Update.Email.SENDING, Update.Email.PAUSED],
                )
            )
        )
        # A sent one counts from when it went; one still to go, from when it is due (or now).
        latest = before.annotate(
            at=Case(
                When(state=state.SENT, then=F("sent_at")),
                default=Greatest(Coalesce("due_at", Value(now)), Value(now)),
            )
        ).order_by(F("at").desc(nulls_last=True))
        return (
            Delivery.objects.filter(pk__in=ids, state__in=[state.QUEUED, state.HELD])
            .filter(Exists(before))
            .update(state=state.HELD, due_at=Subquery(latest.values("at")[:1]) + MILESTONE_GAP)
        )

    def send(self, update: Update, chunk: list, mail) -> tuple[int, bool]:
        """Returns how many went and whether the send stopped."""
        shared: dict[str, tuple[dict, dict]] = {}  # each language's context and headers
        sent = 0
        accepted = None  # (row id, when) the mail server took last, not yet marked sent
        try:
            for row in chunk:
                language = row.signature__language
                language = language if language in LANGUAGE_CODES else "en"
                if language not in shared:
                    shared[language] = self.language_parts(update, language)
                message = self.message(row, language, *shared[language])
                try:
                    mail.open()  # again after a conversation that broke off
                except emails.TRANSIENT as exc:
                    self.unreachable(exc)
                    return sent, True
                handed = self.hand_over(row.id, accepted)
                accepted = None
                if not handed:
                    if not Update.objects.filter(
                        pk=self.update_id, email_state=Update.Email.SENDING
                    ).exists():
                        return sent, True
                    self.mine().filter(pk=row.id, state=Delivery.State.CLAIMED).update(
                        state=Delivery.State.SKIPPED
                    )
                    continue
                try:
                    mail.send_messages([message])
                except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
                    self.refused(row, exc)
                    continue
                except emails.TRANSIENT as exc:
                    # The server may or may not have the message.
                    self.mine().filter(pk=row.id).update(
                        state=Delivery.State.UNCERTAIN, error=f"connection lost: {exc}"[:200]
                    )
                    mail.close()
                    continue
                accepted = (row.id, timezone.now())
                sent += 1
            return sent, False
        finally:
            with transaction.atomic():
                if accepted:
                    self.mark_sent(*accepted)
                # Paused, or the mail server went away: the rest waits for the next task.
                self.mine().filter(state=Delivery.State.CLAIMED).update(
                    state=Delivery.State.QUEUED, due_at=None
                )

    def hand_over(self, row_id: int, accepted) -> bool:
        """Mark `row_id` sending if still ours, its signer counted and consenting and the send
        running, and `accepted` sent, in one statement; whether `row_id` may go. Raw SQL: the
        ORM's version costs more to build than to run, once a message."""
        delivery, signature, update = (
            connection.ops.quote_name(model._meta.db_table)
            for model in (Delivery, Signature, Update)
        )
        sent_id, sent_at = accepted or (None, None)
        as_stored = Delivery._meta.get_field("due_at").get_db_prep_value
        state = Delivery.State
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {delivery} SET "  # noqa: S608 - names from the models, values as parameters
                "state = CASE WHEN id = %s THEN %s ELSE %s END, "
                "attempts = CASE WHEN id = %s THEN attempts + 1 ELSE attempts END, "
                "sent_at = CASE WHEN id = %s THEN sent_at ELSE %s END, "
                "error = CASE WHEN id = %s THEN error ELSE '' END "
                f"WHERE update_id = %s AND due_at = %s AND ("
                "(id = %s AND state IN (%s, %s)) "
                f"OR (id = %s AND state = %s AND EXISTS (SELECT 1 FROM {signature} s "
                f"WHERE s.id = {delivery}.signature_id AND s.consent_contact AND s.status = %s) "
                f"AND EXISTS (SELECT 1 FROM {update} u WHERE u.id = %s AND u.email_state = %s))"
                ") RETURNING id",
                [
                    row_id, state.SENDING, state.SENT,
                    row_id,
                    row_id, as_stored(sent_at, connection),
                    row_id,
                    self.update_id, as_stored(self.stamp, connection),
                    # Uncertain too: a slow worker whose claim lapsed knows better than `recover`.
                    sent_id, state.SENDING, state.UNCERTAIN,
                    row_id, state.CLAIMED, Signature.Status.COUNTED,
                    self.update_id, Update.Email.SENDING,
                ],
            )  # fmt: skip
            return any(marked == row_id for (marked,) in cursor.fetchall())

    def mark_sent(self, row_id: int, when: datetime.datetime) -> None:
        # Uncertain too: a slow worker whose claim lapsed knows better than `recover`.
        self.mine().filter(
            pk=row_id, state__in=[Delivery.State.SENDING, Delivery.State.UNCERTAIN]
        ).update(state=Delivery.State.SENT, sent_at=when, error="")

    def refused(self, row, exc) -> None:
        """4xx: retry later; 5xx: never."""
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(exc.recipients.values()))
        else:
            code, text = exc.smtp_code, exc.smtp_error
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        error = f"{code} {text}"[:200]
        delay = emails.retry_delay(row.attempts + 1) if code < 500 else None
        mine = self.mine().filter(pk=row.id)
        if delay is None:
            mine.update(state=Delivery.State.FAILED, error=error)
        else:
            mine.update(state=Delivery.State.QUEUED, due_at=timezone.now() + delay, error=error)

    def unreachable(self, exc: Exception) -> None:
        """Give the chunk back, due at least a second on so a queue with no pause cannot spin."""
        log.warning("Update %s: mail server unreachable (%s)", self.update_id, exc)
        delay = max(emails.retry_delay(1) or datetime.timedelta(0), datetime.timedelta(seconds=1))
        due = timezone.now() + delay
        self.mine().filter(state=Delivery.State.CLAIMED).update(
            state=Delivery.State.QUEUED, due_at=due
        )
        if self.deferrable:
            send_update.using(run_after=due).enqueue(self.update_id)

    def finish(self) -> str:
        """Nothing due: done, or come back when the next retry or lapsing claim is due."""
        waiting = self.rows.filter(state__in=Delivery.State.WAITING)
        if not self.deferrable:
            # No queue to come back to: the messages to retry are left for a moderator.
            # A held row is not a retry: it waits for its day, which a moderator cannot hurry.
            waiting.filter(state=Delivery.State.QUEUED).update(state=Delivery.State.FAILED)
        if waiting.exists():
            due = waiting.aggregate(due=Min("due_at"))["due"] or timezone.now()
            if self.deferrable:
                send_update.using(run_after=due).enqueue(self.update_id)
            return f"waiting until {due:%H:%M:%S}"
        Update.objects.filter(pk=self.update_id, email_state=Update.Email.SENDING).update(
            email_state=Update.Email.DONE, email_finished_at=timezone.now()
        )
        return "done"

    def language_parts(self, update: Update, language: str) -> tuple[dict, dict]:
        """Rendered once a chunk per language."""
        petition = update.petition
        headers = {"List-Id": f"<{petition.slug}.{self.domain}>"}
        if update.milestone:
            return milestone_words.context(update, language, audience="signer"), headers
        title = update.text("title", language)
        with translation.override(language):
            page = settings.SITE_URL + petition.get_absolute_url()
        context = {
            "update": update,
            "petition_title": petition.text("title", language),
            "title": title,
            "body": update.text("body", language),
            "body_html": update.body_html(language),
            "fallback": title.is_fallback,
            "page_url": f"{page}#update-{update.pk}",
        }
        return context, headers

    def message(self, row, language: str, context: dict, headers: dict):
        token = unsubscribe_token(row.signature_id, row.signature__email_canonical)
        with translation.override(language):
            path = reverse("petitions:unsubscribe", kwargs={"token": token})
        unsubscribe = settings.SITE_URL + path
        kind = "milestone" if context["update"].milestone else "update"
        return emails.message(
            kind,
            language,
            row.signature__email,
            context | {"name": row.signature__name, "unsubscribe": unsubscribe},
            headers=headers
            | {
                # RFC 8058: a mail client may offer its own unsubscribe button, which POSTs
                # "List-Unsubscribe=One-Click" to the address.
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                # One id per update and signer: a copy sent twice is one message to a client.
                "Message-ID": f"<{kind}-{self.update_id}.{row.signature_id}@{self.domain}>",
            },
        )
