"""Emailing an approved update to the signers who agreed to hear about the campaign (issue 19).

Exactly once each, however the workers die. Approving the update writes one `Delivery` row per
recipient, in the approval's own transaction. Tasks on the existing queue (below the confirmation
emails) then send them a chunk at a time: a row is claimed, marked `sending` just before the mail
server gets it and `sent` once the server said yes (in the statement that marks the next one
`sending`, so a message costs one commit). Nothing is remembered in a process.

A link sends on a few streams at once (UPDATE_SEND_STREAMS, on PostgreSQL), each its own
connection to the mail server with one message in flight: a message mostly waits (for the commit,
for the server's answers), so one stream alone sent about 250 a second here, four about 400. A
worker killed mid-send leaves at most one row `sending` per stream; those become `uncertain` and
are never sent again unless a moderator says so.

A chain of tasks drives one send, each running for a slice of time and then queueing the next
(so confirmations and other sends are not held up for the length of a big send). Each link first
queues a watchdog copy of the next link, due when its own lease runs out: if the worker is killed,
the watchdog carries on once the lease has lapsed; if it is not, the watchdog finds the chain has
moved on and does nothing. A link runs only if it is the next one (`Update.link`), so however many
copies are queued, one link sends at a time.

The consent, the signature's standing (counted, not erased) and the send's own state (not paused
or cancelled) are checked again for every message, in the statement that marks it `sending`:
unsubscribing or erasure stops a send that is already running at the next message.
"""

import contextlib
import datetime
import email.message
import logging
import re
import secrets
import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Min, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django_tasks import task

from lib import audit
from lib import tokens as links
from signatures.models import Signature

from .models import Delivery, Petition, Update, text_direction

log = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "petitions.unsubscribe"
# Sends yield to confirmation emails, which a signer is waiting for.
PRIORITY = -10


class CapReached(Exception):
    """The petition emailed an update too recently; a moderator may override."""

    def __init__(self, last: datetime.datetime):
        super().__init__(last)
        self.last = last


# -- unsubscribing --------------------------------------------------------------------------------


def unsubscribe_token(signature_id: int, email_canonical: str) -> str:
    return links.make_token(signature_id, email_canonical, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    # No expiry: an unsubscribe link must work in an email read a year later.
    return links.read_token(token, salt=UNSUBSCRIBE_SALT, email_of=signer_email)


def signer_email(pk: int) -> str | None:
    return Signature.objects.filter(pk=pk).values_list("email_canonical", flat=True).first()


def unsubscribe(signature_id: int, email_canonical: str) -> bool:
    """Stop this signer's emails about this petition, at once: every send checks the consent
    again just before each message. Returns whether anything changed."""
    return bool(
        Signature.objects.filter(
            pk=signature_id, email_canonical=email_canonical, consent_contact=True
        ).update(consent_contact=False)
    )


# -- moderating and controlling a send ------------------------------------------------------------


def last_emailed(update: Update) -> datetime.datetime | None:
    since = timezone.now() - datetime.timedelta(days=settings.UPDATE_EMAIL_MIN_DAYS)
    return (
        Update.objects.emailed_since(update.petition_id, since)
        .exclude(pk=update.pk)
        .aggregate(last=Min("email_started_at"))["last"]
    )


class ChangedSinceRead(Exception):
    """The update is not what the moderator read: its text or its email choice changed."""


def approve(update: Update, *, by, override_cap: bool = False, read: str | None = None) -> int:
    """Publish the update and, if its author asked, start emailing it. Raises CapReached when the
    petition emailed an update within UPDATE_EMAIL_MIN_DAYS, unless `override_cap`, and
    ChangedSinceRead when `read` (the `reviewed_version` the moderator was shown; only callers
    that show nothing leave it out) is not the update's now. Returns how many signers it is going
    to."""
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
            kick(update.pk, update.link + 1)
    return recipients


def list_recipients(update: Update) -> int:
    """One Delivery row per counted signer who agreed to be emailed, in one statement, in the
    order they signed: the list is fixed when the update is approved. Re-running adds nobody
    twice."""
    delivery = connection.ops.quote_name(Delivery._meta.db_table)
    signature = connection.ops.quote_name(Signature._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {delivery} (update_id, signature_id, state, link, attempts, error) "  # noqa: S608
            f"SELECT %s, id, %s, 0, 0, '' FROM {signature} "
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
    """Pause, resume or cancel a send; or queue again the messages whose fate a killed worker
    never learnt ("resend_uncertain"), which only a moderator may decide. Returns whether it
    changed anything."""
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
                deliveries.filter(state=Delivery.State.QUEUED).update(
                    state=Delivery.State.CANCELLED
                )
        elif action == "resend_uncertain":
            changed = deliveries.filter(state=Delivery.State.UNCERTAIN).update(
                state=Delivery.State.QUEUED
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
                kick(update.pk, current.link + 1)
    return bool(changed)


def kick(update_id: int, link: int) -> None:
    """Queue that link of the send once the current transaction commits."""
    transaction.on_commit(lambda: send_update.enqueue(update_id, link))


# -- the send itself ------------------------------------------------------------------------------


@task(priority=PRIORITY)
def send_update(update_id: int, link: int) -> str:
    return Link(update_id, link).run()


@dataclass
class Recipient:
    delivery_id: int
    signature_id: int
    name: str
    email: str
    email_canonical: str
    language: str


class Link:
    """One task's turn at a send."""

    def __init__(self, update_id: int, link: int):
        self.update_id = update_id
        self.link = link
        self.deferrable = send_update.get_backend().supports_defer
        # Without a real queue (the immediate backend of `make run`) nothing else would pick the
        # send up again, so one call sends it all.
        self.slice = settings.UPDATE_SEND_SLICE_SECONDS if self.deferrable else float("inf")
        self.rows = Delivery.objects.filter(update_id=update_id)
        self.parts: dict[str, dict] = {}
        self.next_in: float | None = None  # when the next link should run, if at all
        # Where a signer's own details go in the email rendered once per language; random, so
        # no organiser's text can contain it.
        self.marker = f"m{secrets.token_hex(8)}"

    def lease(self) -> datetime.datetime:
        return timezone.now() + datetime.timedelta(seconds=settings.UPDATE_SEND_LEASE_SECONDS)

    def run(self) -> str:
        now = timezone.now()
        chain = Update.objects.filter(pk=self.update_id, email_state=Update.Email.SENDING)
        taken = (
            chain.filter(link=self.link - 1)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(link=self.link, lease_until=self.lease())
        )
        if not taken:
            held = chain.filter(link=self.link - 1).values_list("lease_until", flat=True).first()
            if held is not None and self.deferrable:
                # The previous link is alive, or was until lately: look again when its lease
                # runs out (and soon, in case it simply finishes).
                wake = min(held, now + datetime.timedelta(seconds=5))
                send_update.using(run_after=wake).enqueue(self.update_id, self.link)
                return "waiting for the previous link"
            return "not this link's turn"
        if self.deferrable:
            watchdog = self.lease() + datetime.timedelta(seconds=1)
            send_update.using(run_after=watchdog).enqueue(self.update_id, self.link + 1)
        self.recover()
        self.update = Update.objects.select_related("petition").get(pk=self.update_id)
        try:
            outcome = self.send()
        finally:
            self.release()
        self.queue_next()
        return outcome

    def recover(self) -> None:
        """Rows an earlier link claimed and never finished: the ones it had not started go back
        in the queue; the ones it had handed to the mail server (one at most per stream) may have
        arrived, and are never sent twice on our own say."""
        earlier = self.rows.filter(link__lt=self.link)
        earlier.filter(state=Delivery.State.CLAIMED).update(state=Delivery.State.QUEUED)
        lost = earlier.filter(state=Delivery.State.SENDING).update(
            state=Delivery.State.UNCERTAIN, error="the worker stopped while sending"
        )
        if lost:
            log.warning(
                "Update %s: %s message(s) of a dead worker left uncertain", self.update_id, lost
            )

    def alive(self) -> bool:
        """Extend the lease, unless the send was paused or cancelled or another link took over."""
        return bool(
            Update.objects.filter(
                pk=self.update_id, link=self.link, email_state=Update.Email.SENDING
            ).update(lease_until=self.lease())
        )

    def streams(self) -> int:
        # SQLite takes one writer at a time: more streams would only queue for its lock. Inside
        # a transaction (a test's), other connections could not see the rows to send.
        if connection.vendor != "postgresql" or not transaction.get_autocommit():
            return 1
        return settings.UPDATE_SEND_STREAMS

    def send(self) -> str:
        deadline = time.monotonic() + self.slice
        streams = [Stream(self) for _ in range(self.streams())]
        if len(streams) == 1:
            results = [streams[0].run(deadline)]
        else:
            # Rendered before the threads share them.
            for language, _name in settings.LANGUAGES:
                self.language_parts(language)
            with ThreadPoolExecutor(len(streams), thread_name_prefix="update-send") as pool:
                results = list(pool.map(lambda stream: stream.run_in_thread(deadline), streams))
        sent = sum(stream.sent for stream in streams)
        if "unreachable" in results:
            # At least a second, so a queue with no pause set cannot spin on it.
            self.later(max(settings.UPDATE_RETRY_DELAYS[0], 1))
            return f"sent {sent}; mail server unreachable, retry queued"
        if "stopped" in results:
            return f"sent {sent}; stopped"
        if all(result == "done" for result in results):
            return self.finish(sent)
        self.later(0)
        return f"sent {sent}; continuing"

    def claim(self) -> list[Recipient]:
        now = timezone.now()
        with transaction.atomic():
            ids = list(
                self.rows.filter(state=Delivery.State.QUEUED)
                .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
                .order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[: settings.UPDATE_SEND_CHUNK]
            )
            Delivery.objects.filter(pk__in=ids).update(state=Delivery.State.CLAIMED, link=self.link)
        rows = (
            Delivery.objects.filter(pk__in=ids)
            .order_by("id")
            .values_list(
                "id",
                "signature_id",
                "signature__name",
                "signature__email",
                "signature__email_canonical",
                "signature__language",
            )
        )
        return [Recipient(*row) for row in rows]

    def release(self) -> None:
        """Give back the rows claimed and not reached, and the lease."""
        cancelled = Update.objects.filter(
            pk=self.update_id, email_state=Update.Email.CANCELLED
        ).exists()
        self.rows.filter(link=self.link, state=Delivery.State.CLAIMED).update(
            state=Delivery.State.CANCELLED if cancelled else Delivery.State.QUEUED
        )
        Update.objects.filter(pk=self.update_id, link=self.link).update(lease_until=None)

    def later(self, seconds: float) -> None:
        """Ask for the next link, at once or after a pause for the mail server: queued by `run`
        once this link has let go of its lease, so that another worker can start it at once."""
        self.next_in = seconds

    def queue_next(self) -> None:
        if self.next_in is None:
            return
        if not Update.objects.filter(
            pk=self.update_id, link=self.link, email_state=Update.Email.SENDING
        ).exists():
            return  # paused, cancelled or overtaken: resuming queues the next link itself
        next_link = send_update
        if self.next_in and not self.deferrable:
            return  # no queue to come back later: a moderator resumes the send
        if self.next_in:
            next_link = send_update.using(
                run_after=timezone.now() + datetime.timedelta(seconds=self.next_in)
            )
        next_link.enqueue(self.update_id, self.link + 1)

    def finish(self, sent: int) -> str:
        """Nothing to claim now: done, or wait for the messages that are to be tried again."""
        waiting = self.rows.filter(state=Delivery.State.QUEUED).aggregate(due=Min("retry_at"))
        if self.rows.filter(state=Delivery.State.QUEUED).exists():
            wait = (waiting["due"] - timezone.now()).total_seconds() if waiting["due"] else 0
            if not self.deferrable:
                # No queue to come back to: the messages to retry are left for a moderator.
                self.rows.filter(state=Delivery.State.QUEUED).update(state=Delivery.State.FAILED)
            else:
                self.later(max(wait, 0))
                return f"sent {sent}; {wait:.0f}s until the next retry"
        Update.objects.filter(
            pk=self.update_id, link=self.link, email_state=Update.Email.SENDING
        ).update(email_state=Update.Email.DONE, email_finished_at=timezone.now())
        return f"sent {sent}; done"

    # -- the message ------------------------------------------------------------------------------

    def language_parts(self, language: str) -> "Prepared":
        """The email in one language, rendered once per link with markers where each signer's
        details go: rendering and MIME-encoding are most of a message's cost, and the rest of the
        email is the same for everyone who signed in that language."""
        if language not in self.parts:
            update, petition = self.update, self.update.petition
            title = update.text("title", language)
            with translation.override(language):
                page = settings.SITE_URL + petition.get_absolute_url()
                unsubscribe = settings.SITE_URL + reverse(
                    "petitions:unsubscribe", kwargs={"token": self.marker}
                )
            context = {
                "update": update,
                "petition_title": petition.text("title", language),
                "title": title,
                "body": update.text("body", language),
                "body_html": update.body_html(language),
                "fallback": title.is_fallback,
                "page_url": f"{page}#update-{update.pk}",
                "language": language,
                "direction": text_direction(language),
                "site_url": settings.SITE_URL,
            }
            mark = Prepared.markers(self.marker)
            with translation.override(language):
                subject = render_to_string("emails/update-subject.txt", context)
                text = render_to_string(
                    "emails/update-body.txt",
                    context | {"name": mark["name"], "unsubscribe": mark["url"]},
                )
                html = render_to_string(
                    "emails/update-body.html",
                    context | {"name": mark["name_html"], "unsubscribe": mark["url_html"]},
                )
            domain = urlsplit(settings.SITE_URL).hostname or "localhost"
            self.parts[language] = Prepared(
                marker=self.marker,
                subject=" ".join(subject.split()),
                text=text,
                html=html,
                unsubscribe=unsubscribe,
                headers={
                    "Content-Language": language,
                    # RFC 8058: a mail client may offer its own unsubscribe button, which POSTs
                    # "List-Unsubscribe=One-Click" to the address.
                    "List-Unsubscribe": f"<{mark['url']}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                    "List-Id": f"<{petition.slug}.{domain}>",
                    # One id per update and signer, so even a copy sent twice would be one
                    # message to a client that sorts by Message-ID.
                    "Message-ID": f"<update-{self.update_id}.{mark['id']}@{domain}>",
                },
            )
        return self.parts[language]

    def message(self, recipient: Recipient) -> EmailMultiAlternatives:
        languages = dict(settings.LANGUAGES)
        language = recipient.language if recipient.language in languages else "en"
        return self.language_parts(language).for_signer(recipient)


class Stream:
    """One connection to the mail server with one message in flight: claim a chunk, then for each
    message the last look and the `sending` mark, then the message. A link runs
    UPDATE_SEND_STREAMS of them side by side, because a message spends most of its time waiting
    (for the database's commit, then for the mail server's four answers), not working. A worker
    killed mid-send therefore leaves at most one uncertain row per stream."""

    def __init__(self, link: Link):
        self.link = link
        self.sent = 0
        # The message the mail server took last, not yet marked sent: (delivery id, when).
        self.accepted: tuple[int, datetime.datetime] | None = None

    def run_in_thread(self, deadline: float) -> str:
        try:
            return self.run(deadline)
        finally:
            connection.close()  # the thread's own connection, which nothing else would close

    def run(self, deadline: float) -> str:
        """Send until the slice is over ("slice"), nothing is left to claim ("done"), the send
        was paused, cancelled or overtaken ("stopped"), or the mail server cannot be reached
        ("unreachable")."""
        mail = get_connection()
        try:
            while time.monotonic() < deadline and self.link.alive():
                chunk = self.link.claim()
                if not chunk:
                    return "done"
                for recipient in chunk:
                    result = self.deliver(mail, recipient)
                    if result in ("stopped", "unreachable"):
                        return result
                    self.sent += result == "sent"
            return "slice"
        finally:
            self.settle()
            # The server may have gone away first; then there is nothing left to tidy.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                mail.close()

    def deliver(self, mail, recipient: Recipient) -> str:
        message = self.link.message(recipient)
        try:
            mail.open()
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("Update %s: mail server unreachable (%s)", self.link.update_id, exc)
            return "unreachable"
        link = self.link.link
        row = Delivery.objects.filter(pk=recipient.delivery_id, link=link)
        # The last look before the message leaves decides: consent, standing, erasure and the
        # send's own state (paused, cancelled, overtaken), not what held when the send started.
        handed = Delivery.objects.hand_over(
            recipient.delivery_id, link=link, accepted=self.accepted
        )
        self.accepted = None
        if not handed:
            if not self.link.alive():
                return "stopped"
            row.filter(state=Delivery.State.CLAIMED).update(state=Delivery.State.SKIPPED)
            return "skipped"
        try:
            mail.send_messages([message])
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            return self.refused(row, exc)
        except (smtplib.SMTPException, OSError) as exc:
            # The conversation broke off: the server may or may not have the message.
            row.filter(state=Delivery.State.SENDING).update(
                state=Delivery.State.UNCERTAIN, error=f"connection lost: {exc}"[:200]
            )
            mail.close()
            return "uncertain"
        # Marked sent by the next message's statement, or by `settle` if none follows.
        self.accepted = (recipient.delivery_id, timezone.now())
        return "sent"

    def settle(self) -> None:
        if self.accepted is not None:
            self.link.rows.filter(link=self.link.link).mark_sent(self.accepted)
            self.accepted = None

    def refused(self, row, exc) -> str:
        """The server answered no to this message: later if it said 4xx, never if 5xx."""
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, text = next(iter(exc.recipients.values()))
        else:
            code, text = exc.smtp_code, exc.smtp_error
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        error = f"{code} {text}"[:200]
        attempts = row.values_list("attempts", flat=True).first() or 0
        delays = settings.UPDATE_RETRY_DELAYS
        if code < 500 and attempts <= len(delays):
            retry_at = timezone.now() + datetime.timedelta(seconds=delays[attempts - 1])
            row.update(state=Delivery.State.QUEUED, retry_at=retry_at, error=error)
            return "retry"
        row.update(state=Delivery.State.FAILED, error=error)
        return "failed"


class Prepared:
    """One language's email with a marker wherever a signer's own details go (name, unsubscribe
    address, envelope address, Message-ID, date), and its MIME bytes made once: each signer's
    message is then those bytes with the markers replaced, which costs a small fraction of what
    Python's email package takes to encode a message.

    The shortcut is taken only where it gives the message Django would build for that signer:
    both bodies are 8-bit (not encoded, so a name goes in as its own bytes), every marker is
    found in the bytes as often as it was written, the address is plain ASCII, and no line can
    grow past the 998 bytes at which Django would encode a body instead. The one difference left
    is the folding of a long header line, which readers unfold. Anything else is built the
    ordinary way."""

    # Each field's marker ends in two letters of its own, so none is the start of another.
    FIELDS = {
        "name": "nm", "name_html": "nh", "url": "ul", "url_html": "uh", "id": "id", "date": "dt",
        "to": "to",
    }  # fmt: skip
    LINE_LIMIT = 998
    PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")

    @staticmethod
    def markers(marker: str) -> dict[str, str]:
        # Letters and digits only, so escaping, URL quoting and header folding leave them whole;
        # the address is a valid one, which Django checks.
        marks = {field: marker + end for field, end in Prepared.FIELDS.items()}
        marks["to"] += "@example.invalid"
        return marks

    def __init__(self, *, marker, subject, text, html, unsubscribe, headers):
        self.marker = marker
        self.mark = self.markers(marker)
        self.subject, self.text, self.html = subject, text, html
        self.unsubscribe = unsubscribe
        self.headers = headers
        self.longest = 0  # the longest line of `raw` with a marker in it
        self.raw = self.encode()

    def encode(self) -> bytes | None:
        """The MIME bytes with markers, or None where a signer's message could differ from them
        by more than its markers."""
        template = self.build(self.mark, to=self.mark["to"], date=self.mark["date"])
        raw = template.message().as_bytes(linesep="\r\n")
        expected = {
            field: self.text.count(mark) + self.html.count(mark) + self.subject.count(mark)
            + sum(value.count(mark) for value in self.headers.values())
            + (field in ("to", "date"))
            for field, mark in self.mark.items()
        }  # fmt: skip
        if any(raw.count(mark.encode()) != expected[field] for field, mark in self.mark.items()):
            return None
        # Both bodies as they are (8-bit), not encoded: only then is a name put in as its bytes.
        encodings = re.findall(rb"Content-Transfer-Encoding: *(\S+)", raw, flags=re.IGNORECASE)
        if encodings != [b"8bit", b"8bit"]:
            return None
        self.counts = expected
        self.longest = max(
            (len(line) for line in raw.split(b"\r\n") if self.marker.encode() in line), default=0
        )
        return raw

    def values(self, recipient: "Recipient") -> dict[str, str]:
        url = self.unsubscribe.replace(
            self.marker, unsubscribe_token(recipient.signature_id, recipient.email_canonical)
        )
        return {
            "name": recipient.name,
            "name_html": escape(recipient.name),
            "url": url,
            "url_html": escape(url),
            "id": str(recipient.signature_id),
            "date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
            "to": recipient.email,
        }

    def fill(self, text: str, values: dict[str, str]) -> str:
        for field, mark in self.mark.items():
            text = text.replace(mark, values[field])
        return text

    def build(self, values: dict[str, str], *, to: str, date: str) -> EmailMultiAlternatives:
        message = FilledEmail(self.subject, self.fill(self.text, values), to=[to])
        message.attach_alternative(self.fill(self.html, values), "text/html")
        message.extra_headers.update({k: self.fill(v, values) for k, v in self.headers.items()})
        message.extra_headers["Date"] = date
        return message

    def for_signer(self, recipient: "Recipient") -> EmailMultiAlternatives:
        values = self.values(recipient)
        message = self.build(values, to=recipient.email, date=values["date"])
        if self.raw is None or not self.PLAIN_ADDRESS.fullmatch(recipient.email):
            return message
        if "\n" in recipient.name or "\r" in recipient.name:
            return message
        encoded = {field: value.encode() for field, value in values.items()}
        # As if every field's growth landed on the longest line: no line can pass the limit.
        growth = sum(
            self.counts[field] * (len(encoded[field]) - len(mark))
            for field, mark in self.mark.items()
        )
        if self.longest + growth > self.LINE_LIMIT:
            return message
        raw = self.raw
        for field, mark in self.mark.items():
            raw = raw.replace(mark.encode(), encoded[field])
        message.raw = raw
        return message


class FilledEmail(EmailMultiAlternatives):
    """An email whose MIME bytes may have been made already (`Prepared`). Django's documented way
    to supply a message of one's own is to override `message()`; every mail backend asks it for
    the message it sends, so a test's backend sees the same email as the mail server."""

    raw: bytes | None = None

    def message(self):
        if self.raw is None:
            return super().message()
        return EncodedMessage(self.raw)


class EncodedMessage(email.message.Message):
    """A message already in bytes (with CRLF line ends), handed to a mail backend as it is."""

    def __init__(self, raw: bytes):
        super().__init__()
        self.raw = raw

    def as_bytes(self, unixfrom=False, policy=None, linesep="\n"):
        return self.raw if linesep == "\r\n" else self.raw.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom=False, maxheaderlen=0, policy=None):
        return self.as_bytes().decode()
