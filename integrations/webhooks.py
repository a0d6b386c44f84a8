"""Webhooks: events found by reading what the site already writes, queued as `Delivery` rows and
POSTed, signed as Standard Webhooks sign them, by whichever task worker claims them first.

Signing writes nothing for webhooks: the signatures table is the outbox of `signature.counted`,
read past each endpoint's cursor; removals and erasures are found from the audit log, which the
moderation and erasure operations already write; the rest from the petitions' own rows. Every
event has one key per endpoint (`Delivery.key`, unique), so reading a stretch twice queues
nothing twice, and discovery reads a few seconds back (WEBHOOK_LOOKBACK_SECONDS) to catch a
transaction that committed after a later one. See docs/webhooks.md.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import logging
import random
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import task

from lib import emails
from lib.audit import Action
from lib.models import AuditEntry
from lib.urls import site_url
from petitions.models import Petition, ThresholdReached
from signatures.models import Signature

from .models import PING, Delivery, Endpoint, Event
from .webhook_addresses import UnsafeAddress, check_address

log = logging.getLogger(__name__)

# Audit actions after which a petition's sent signers are checked again.
REMOVALS = {Action.SIGNATURE_INVALIDATED, Action.SIGNATURE_BULK_INVALIDATED}
ERASURES = {Action.SIGNATURE_ERASED, Action.SIGNATURE_DELETED}
REMOVALS |= {Action.SIGNATURE_WITHDRAWN}
NOT_COUNTED = (Signature.Status.INVALIDATED, Signature.Status.WITHDRAWN)
USER_AGENT = "petitions-webhooks/1"
# How much of a refusing server's answer the log keeps.
ERROR_LENGTH = Delivery._meta.get_field("error").max_length


# -- Signing ----------------------------------------------------------------------------------


def signature_header(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: HMAC-SHA256 of "id.timestamp.body", base64, tagged v1."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(endpoint: Endpoint, delivery: Delivery, body: bytes, now=None) -> dict:
    timestamp = int((now or timezone.now()).timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(endpoint.key, delivery.webhook_id, timestamp, body),
    }


# -- Payloads ---------------------------------------------------------------------------------


def _when(value) -> str | None:
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if value else None


def petition_reference(petition: Petition) -> dict:
    with translation.override("en"):
        url = site_url(petition.get_absolute_url())
    return {
        "id": petition.pk,
        "slug": petition.slug,
        "title": {"en": petition.title_en, "fa": petition.title_fa},
        "url": url,
    }


def payload(delivery: Delivery) -> dict | None:
    """The event's data as it stands now; None when it is no longer true (the signer withdrew
    their consent, was invalidated or erased before it went), and so is not sent."""
    data = {}
    if delivery.event == Event.SIGNATURE_COUNTED:
        signature = (
            Signature.objects.filter(
                pk=delivery.subject_id, status=Signature.Status.COUNTED, consent_contact=True
            )
            .select_related("petition")
            .first()
        )
        if signature is None:
            return None
        data = {
            "signature": {
                "id": signature.pk,
                "name": signature.name,
                "email": signature.email,
                "country": str(signature.country),
                "language": signature.language,
                "source": signature.source,
                "signed_at": _when(signature.created_at),
                "counted_at": _when(signature.confirmed_at or signature.created_at),
            },
            "petition": petition_reference(signature.petition),
        }
    elif delivery.event in (Event.SIGNATURE_REMOVED, Event.SIGNATURE_ERASED):
        data = {"signature": {"id": delivery.subject_id}, **delivery.detail}
        petition = Petition.objects.filter(pk=delivery.petition_id).first()
        if petition is not None:
            data["petition"] = {"id": petition.pk, "slug": petition.slug}
    elif delivery.event == PING:
        data = {"endpoint": delivery.endpoint_id, **delivery.detail}
    else:
        petition = Petition.objects.filter(pk=delivery.subject_id).first()
        if petition is None:
            return None
        data = {"petition": petition_reference(petition), **delivery.detail}
    return {"type": delivery.event, "timestamp": _when(delivery.occurred_at), "data": data}


def body_of(content: dict) -> bytes:
    # ASCII, compact: the bytes signed are the bytes sent.
    return json.dumps(content, separators=(",", ":"), sort_keys=True).encode()


# -- Discovery --------------------------------------------------------------------------------


def discover(now=None) -> int:
    """Queue what happened since each active endpoint last looked; returns how many rows. Each
    endpoint is read in its own transaction, locked so two dispatchers share the work."""
    now = now or timezone.now()
    queued = 0
    for endpoint_id in Endpoint.objects.active().values_list("pk", flat=True):
        with transaction.atomic():
            endpoint = (
                Endpoint.objects.active()
                .select_for_update(skip_locked=True)
                .filter(pk=endpoint_id)
                .first()
            )
            if endpoint is not None:
                queued += Discovery(endpoint, now).run()
    return queued


class Discovery:
    def __init__(self, endpoint: Endpoint, now):
        self.endpoint = endpoint
        self.now = now
        self.lookback = datetime.timedelta(seconds=settings.WEBHOOK_LOOKBACK_SECONDS)
        self.rows: list[Delivery] = []

    def since(self, cursor) -> datetime.datetime:
        """The first look starts when the endpoint was made: what came before is old news."""
        made = self.endpoint.created_at
        return max(cursor - self.lookback, made) if cursor else made

    def petitions(self):
        if self.endpoint.petition_id:
            return Petition.objects.filter(pk=self.endpoint.petition_id)
        return Petition.objects.all()

    def signatures(self):
        if self.endpoint.petition_id:
            return Signature.objects.filter(petition_id=self.endpoint.petition_id)
        return Signature.objects.all()

    def sent(self, event: str):
        return Delivery.objects.filter(endpoint=self.endpoint, event=event)

    def queue(self, event: str, subject_id: int, occurred_at, *, key=None, petition_id=None,
              **detail) -> None:  # fmt: skip
        self.rows.append(
            Delivery(
                endpoint=self.endpoint,
                event=event,
                key=key or f"{event}:{subject_id}",
                subject_id=subject_id,
                petition_id=petition_id,
                occurred_at=occurred_at,
                detail=detail,
                due_at=self.now,
            )
        )

    def run(self) -> int:
        endpoint = self.endpoint
        if endpoint.wants(Event.SIGNATURE_COUNTED):
            self.counted()
        if endpoint.wants(Event.SIGNATURE_REMOVED) or endpoint.wants(Event.SIGNATURE_ERASED):
            self.removed_and_erased()
        if endpoint.wants(Event.PETITION_PUBLISHED):
            self.published()
        if endpoint.wants(Event.PETITION_CLOSED):
            self.closed()
        if endpoint.wants(Event.THRESHOLD_REACHED):
            self.thresholds()
        endpoint.signatures_read_at = endpoint.audit_read_at = self.now
        endpoint.petitions_read_at = self.now
        endpoint.save(update_fields=["signatures_read_at", "audit_read_at", "petitions_read_at"])
        created = Delivery.objects.bulk_create(self.rows, ignore_conflicts=True)
        return len(created)

    def counted(self) -> None:
        """Consenting signers counted since the last look: on signing, or on confirming later
        (whose row may be older than the cursor; a confirmation link lasts a few days). Only
        petitions that ask for confirmation are read days back, since confirmed_at has no index
        of its own (one more index would cost every signature)."""
        since = self.since(self.endpoint.signatures_read_at)
        oldest_pending = since - datetime.timedelta(seconds=settings.CONFIRMATION_MAX_AGE + 86400)
        confirming = list(
            self.petitions().filter(requires_confirmation=True).values_list("pk", flat=True)
        )
        queued = self.sent(Event.SIGNATURE_COUNTED).filter(subject_id=OuterRef("pk"))
        recent = Q(created_at__gte=since)
        if confirming:
            recent |= Q(
                petition_id__in=confirming, confirmed_at__gte=since, created_at__gte=oldest_pending
            )
        rows = (
            self.signatures()
            .filter(status=Signature.Status.COUNTED, consent_contact=True)
            .filter(recent)
            .exclude(Exists(queued))
            .order_by("pk")
            .values_list("pk", "petition_id", "created_at", "confirmed_at")
        )
        for pk, petition_id, created_at, confirmed_at in rows.iterator(chunk_size=2000):
            self.queue(
                Event.SIGNATURE_COUNTED,
                pk,
                max(created_at, confirmed_at or created_at),
                petition_id=petition_id,
            )

    def removed_and_erased(self) -> None:
        """The audit log says which petitions lost or changed signatures, never whose; the rows
        this endpoint was sent say whose to check."""
        entries = AuditEntry.objects.filter(
            created_at__gte=self.since(self.endpoint.audit_read_at),
            action__in=REMOVALS | ERASURES,
            target_type__model="petition",
            target_type__app_label="petitions",
        )
        if self.endpoint.petition_id:
            entries = entries.filter(target_id=self.endpoint.petition_id)
        touched = set(entries.values_list("target_id", flat=True))
        if not touched:
            return
        sent = self.sent(Event.SIGNATURE_COUNTED).filter(petition_id__in=touched)
        sent = sent.exclude(state=Delivery.State.DROPPED)
        if self.endpoint.wants(Event.SIGNATURE_REMOVED):
            removed = Signature.objects.filter(pk=OuterRef("subject_id"), status__in=NOT_COUNTED)
            told = self.sent(Event.SIGNATURE_REMOVED).filter(subject_id=OuterRef("subject_id"))
            rows = sent.filter(Exists(removed)).exclude(Exists(told))
            statuses = dict(
                Signature.objects.filter(
                    pk__in=list(rows.values_list("subject_id", flat=True))
                ).values_list("pk", "status")
            )
            for subject_id, petition_id in rows.values_list("subject_id", "petition_id"):
                if subject_id in statuses:
                    self.queue(
                        Event.SIGNATURE_REMOVED,
                        subject_id,
                        self.now,
                        petition_id=petition_id,
                        reason=statuses[subject_id],
                    )
        if self.endpoint.wants(Event.SIGNATURE_ERASED):
            exists = Signature.objects.filter(pk=OuterRef("subject_id"))
            told = self.sent(Event.SIGNATURE_ERASED).filter(subject_id=OuterRef("subject_id"))
            rows = sent.exclude(Exists(exists)).exclude(Exists(told))
            for subject_id, petition_id in rows.values_list("subject_id", "petition_id"):
                self.queue(Event.SIGNATURE_ERASED, subject_id, self.now, petition_id=petition_id)

    def published(self) -> None:
        rows = self.petitions().filter(
            status__in=Petition.Status.PUBLIC,
            opened_at__gte=self.since(self.endpoint.petitions_read_at),
        )
        for pk, opened_at in rows.values_list("pk", "opened_at"):
            self.queue(Event.PETITION_PUBLISHED, pk, opened_at, petition_id=pk)

    def closed(self) -> None:
        """Closed by a moderator or on its closing date (`closed_at` says when); a date passed
        but not yet turned into a closing by `tend_petitions` counts from the date."""
        made = self.endpoint.created_at
        told = self.sent(Event.PETITION_CLOSED).filter(subject_id=OuterRef("pk"))
        rows = (
            self.petitions()
            .filter(
                Q(status=Petition.Status.CLOSED, closed_at__gte=made)
                | Q(
                    status__in=Petition.Status.SIGNABLE,
                    closes_at__lte=self.now,
                    closes_at__gte=made,
                )
            )
            .exclude(Exists(told))
        )
        for pk, status, closes_at, closed_at in rows.values_list(
            "pk", "status", "closes_at", "closed_at"
        ):
            when = closed_at if status == Petition.Status.CLOSED else closes_at
            self.queue(Event.PETITION_CLOSED, pk, when, petition_id=pk)

    def thresholds(self) -> None:
        """Each threshold a petition reached since the last look, as petitions.thresholds
        records it (dated, with the consequence promised then): one rule for the page, the
        awaiting-response list and this event."""
        rows = ThresholdReached.objects.filter(
            petition__in=self.petitions(),
            reached_at__gte=self.since(self.endpoint.petitions_read_at),
        ).values_list(
            "petition_id", "number", "consequence_en", "consequence_fa", "count", "reached_at",
            "respond_by",
        )  # fmt: skip
        for petition_id, number, en, fa, count, reached_at, respond_by in rows:
            self.queue(
                Event.THRESHOLD_REACHED,
                petition_id,
                reached_at,
                key=f"{Event.THRESHOLD_REACHED}:{petition_id}:{number}",
                petition_id=petition_id,
                threshold=number,
                consequence={"en": en, "fa": fa},
                respond_by=_when(respond_by) if respond_by else None,
                signatures=count,
            )


# -- Delivery ---------------------------------------------------------------------------------


def retry_delay(attempt: int, rng=random) -> datetime.timedelta:
    """After the `attempt`th failure (from 1): doubling from WEBHOOK_RETRY_FIRST_SECONDS up to
    WEBHOOK_RETRY_MAX_SECONDS, each with up to a fifth more or less, so a receiver back from an
    outage is not met by every delayed message at the same second."""
    base = min(
        settings.WEBHOOK_RETRY_FIRST_SECONDS * 2 ** (attempt - 1),
        settings.WEBHOOK_RETRY_MAX_SECONDS,
    )
    return datetime.timedelta(seconds=base * rng.uniform(0.8, 1.2))


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to whatever the name resolves to a moment
    later (DNS rebinding); Host and TLS still name the host."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(PinnedHTTPConnection):
    default_port = 443

    def connect(self):
        super().connect()
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """(status code, error); a redirect is an answer, not followed. Never raises for the
    receiver's failures: each is an error to retry."""
    try:
        addresses = check_address(url, resolve=True)
    except UnsafeAddress as exc:
        # The log's other errors are the receiver's words, in English; a worker has no reader's
        # language, so this one is too, whichever language the process last had on.
        with translation.override(settings.LANGUAGE_CODE):
            return None, str(exc.message)
    parts = urlsplit(url)
    kind = PinnedHTTPSConnection if parts.scheme == "https" else PinnedHTTPConnection
    connection = kind(
        parts.hostname, parts.port, address=addresses[0], timeout=settings.WEBHOOK_TIMEOUT
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(ERROR_LENGTH).decode(errors="replace")
    except TimeoutError:
        return None, f"no answer within {settings.WEBHOOK_TIMEOUT:g} s"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return response.status, ""
    return response.status, f"{response.status} {response.reason}: {answer}"[:ERROR_LENGTH]


def claim(ids=None, *, limit=None) -> list[Delivery]:
    """Due rows no other worker holds, each then held for WEBHOOK_CLAIM_SECONDS: a worker that
    dies leaves them due again when the claim lapses, and they are sent again (at least once)."""
    now = timezone.now()
    with transaction.atomic():
        rows = Delivery.objects.filter(state=Delivery.State.QUEUED, due_at__lte=now)
        rows = rows.filter(pk__in=ids) if ids is not None else rows.filter(endpoint__active=True)
        picked = list(
            rows.order_by("due_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[: limit or settings.WEBHOOK_CHUNK]
        )
        Delivery.objects.filter(pk__in=picked).update(
            due_at=now + datetime.timedelta(seconds=settings.WEBHOOK_CLAIM_SECONDS),
            attempts=F("attempts") + 1,
        )
    return list(Delivery.objects.filter(pk__in=picked).select_related("endpoint").order_by("pk"))


def attempt(delivery: Delivery) -> str:
    """One POST of a claimed row, and what came of it."""
    content = payload(delivery)
    mine = Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.QUEUED)
    if content is None:
        mine.update(state=Delivery.State.DROPPED, error="no longer true when it was due")
        return "dropped"
    endpoint = delivery.endpoint
    body = body_of(content)
    status, error = post(endpoint.url, body, headers_for(endpoint, delivery, body))
    now = timezone.now()
    if not error:
        mine.update(
            state=Delivery.State.DELIVERED, delivered_at=now, status_code=status, error="",
        )  # fmt: skip
        Endpoint.objects.filter(pk=endpoint.pk).update(failure_streak=0, failing_since=None)
        return "delivered"
    due = now + retry_delay(delivery.attempts)
    gives_up = delivery.event == PING or due > delivery.created_at + datetime.timedelta(
        seconds=settings.WEBHOOK_RETRY_FOR_SECONDS
    )
    mine.update(
        state=Delivery.State.FAILED if gives_up else Delivery.State.QUEUED,
        due_at=now if gives_up else due,
        status_code=status,
        error=error,
    )
    failed(endpoint, now)
    return "failed" if gives_up else "retry"


def failed(endpoint: Endpoint, now) -> None:
    """Count the failure; turn the endpoint off once every attempt for
    WEBHOOK_DISABLE_AFTER_SECONDS failed, and tell its owner once."""
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    Endpoint.objects.filter(pk=endpoint.pk).update(failure_streak=F("failure_streak") + 1)
    since = now - datetime.timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    turned_off = Endpoint.objects.filter(
        pk=endpoint.pk, active=True, failing_since__lte=since
    ).update(active=False, disabled_at=now)
    if turned_off:
        log.warning("Webhook endpoint %s turned off after failing since %s", endpoint.pk, since)
        transaction.on_commit(lambda: send_disabled_email.enqueue(endpoint.pk, 1))


def deliver_due(*, budget_seconds: float | None = None) -> dict:
    """Chunks until nothing is due or the budget is spent; what came of each attempt."""
    outcomes: dict[str, int] = {}
    started = timezone.now()
    while True:
        chunk = claim()
        if not chunk:
            return outcomes
        for delivery in chunk:
            outcome = attempt(delivery)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        spent = (timezone.now() - started).total_seconds()
        if budget_seconds is not None and spent > budget_seconds:
            return outcomes


@task()
def deliver_webhooks(delivery_id: int | None = None) -> str:
    """One row (the admin's test), or every due row for up to a minute, claimed with SKIP LOCKED
    so any number of these run side by side."""
    if delivery_id is not None:
        rows = claim([delivery_id])
        return attempt(rows[0]) if rows else "not due"
    return str(deliver_due(budget_seconds=settings.WEBHOOK_TASK_SECONDS))


def dispatch() -> int:
    """Discovery, then one delivering task if anything is due; `manage.py webhooks --forever`
    runs this every WEBHOOK_DISPATCH_SECONDS. Returns how many deliveries were queued."""
    queued = discover()
    if Delivery.objects.due().exists():
        deliver_webhooks.enqueue()
    return queued


def ping(endpoint: Endpoint, *, by) -> Delivery:
    """A test event queued at once and tried once, even on an endpoint turned off: the owner is
    checking their receiver. With the immediate task backend it has been tried on return."""
    now = timezone.now()
    delivery = Delivery(
        endpoint=endpoint, event=PING, subject_id=endpoint.pk, occurred_at=now, due_at=now,
        detail={"message": "A test event from the petitions site."},
    )  # fmt: skip
    delivery.key = f"{PING}:{delivery.message_id.hex}"
    delivery.save()
    # Called outside a transaction (the admin's button), so the row is there for the worker.
    deliver_webhooks.enqueue(delivery.pk)
    return delivery


# -- Telling the owner -------------------------------------------------------------------------


@task()
def send_disabled_email(endpoint_id: int, attempt: int = 1) -> str:
    endpoint = Endpoint.objects.filter(pk=endpoint_id).select_related("petition").first()
    if endpoint is None or endpoint.active:
        return "nothing to send"  # deleted, or turned on again since
    last = endpoint.deliveries.exclude(error="").order_by("-pk").first()
    context = {
        "endpoint": endpoint,
        "url": endpoint.url,
        "petition_title": endpoint.petition.text("title", endpoint.owner_language)
        if endpoint.petition
        else "",
        "failing_since": endpoint.failing_since,
        "last_error": last.error if last else "",
        "retry_hours": settings.WEBHOOK_DISABLE_AFTER_SECONDS // 3600,
        "admin_url": site_url(reverse("admin:integrations_endpoint_change", args=[endpoint.pk])),
    }
    message = emails.message(
        "webhook-disabled", endpoint.owner_language, endpoint.owner_email, context,
        headers=emails.AUTOMATIC,
    )  # fmt: skip
    try:
        emails.send(message)
    except emails.TRANSIENT as exc:
        return emails.retry_later(send_disabled_email, (endpoint_id,), attempt, exc)
    return "sent"
