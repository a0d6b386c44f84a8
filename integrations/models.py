"""Organisations' webhook endpoints and the deliveries queued for them (integrations/webhooks.py).

A delivery row names its event and the record it is about, never a person's details: those are
read from the signature when the POST is built, so an erasure leaves nothing behind here."""

import base64
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from petitions.models import Petition

from .bulk_models import BulkFile  # noqa: F401  (the bulk data files)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's tag, not a secret
SECRET_BYTES = 24  # the Standard Webhooks minimum


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


class Event(models.TextChoices):
    SIGNATURE_COUNTED = "signature.counted", _("A consenting signer is counted")
    SIGNATURE_REMOVED = "signature.removed", _("A signature sent before is no longer counted")
    SIGNATURE_ERASED = "signature.erased", _("A signer sent before was erased")
    PETITION_PUBLISHED = "petition.published", _("The petition is published")
    THRESHOLD_REACHED = "threshold.reached", _("The petition passed a goal or a ladder step")
    PETITION_CLOSED = "petition.closed", _("The petition closed")


# Not subscribable: sent only from the admin's button.
PING = "ping"


def default_events() -> list[str]:
    return list(Event.values)


def validate_events(value) -> None:
    if not isinstance(value, list) or not set(value) <= set(Event.values):
        raise ValidationError(_("Choose events from the list."), code="events")


class EndpointQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def covering(self, petition_id: int):
        """The endpoints that hear about this petition: its own and the site-wide ones."""
        return self.filter(Q(petition_id=petition_id) | Q(petition__isnull=True))


class Endpoint(models.Model):
    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        PERSIAN = "fa", _("Persian")

    petition = models.ForeignKey(
        Petition,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("petition"),
        help_text=_("Leave empty for every petition on the site (staff with the right only)."),
    )
    url = models.URLField(
        _("address"),
        max_length=500,
        help_text=_("Where each event is sent, as an HTTPS POST."),
    )
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    events = models.JSONField(
        _("events"), default=default_events, validators=[validate_events], blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    owner_email = models.EmailField(
        _("owner's email"),
        max_length=254,
        help_text=_("Told when the endpoint is turned off after failing."),
    )
    owner_language = models.CharField(
        _("owner's language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Consecutive failed attempts, and since when: reset by any success.
    failure_streak = models.PositiveIntegerField(_("failures in a row"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("turned off after failing"), null=True, blank=True)
    # Where discovery has read up to (integrations/webhooks.py); editable by no one.
    signatures_read_at = models.DateTimeField(null=True, editable=False)
    audit_read_at = models.DateTimeField(null=True, editable=False)
    petitions_read_at = models.DateTimeField(null=True, editable=False)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at"]
        permissions = [
            ("add_sitewide_endpoint", gettext_noop("Can add webhooks for every petition")),
        ]

    def __str__(self) -> str:
        return Truncator(self.description or self.url).chars(60)

    def clean(self):
        from .webhook_addresses import UnsafeAddress, check_address

        if self.url:
            try:
                check_address(self.url, resolve=True)
            except UnsafeAddress as exc:
                raise ValidationError({"url": exc.message}) from None

    def wants(self, event: str) -> bool:
        return event == PING or event in self.events

    @property
    def key(self) -> bytes:
        return base64.b64decode(self.secret.removeprefix(SECRET_PREFIX))


class DeliveryQuerySet(models.QuerySet):
    def due(self, now=None):
        return self.filter(
            state=Delivery.State.QUEUED, due_at__lte=now or timezone.now(), endpoint__active=True
        )


class Delivery(models.Model):
    """One event for one endpoint, tried until it is taken or its time runs out. The row's
    `message_id` is the `webhook-id` header: the same on every attempt, the receiver's key to
    drop a repeat."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        DROPPED = "dropped", _("Not sent: no longer true")

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    message_id = models.UUIDField(_("message id"), default=uuid.uuid4, unique=True)
    event = models.CharField(_("event"), max_length=40)
    # One event per endpoint and thing: "signature.counted:123"; a ping's is its own id.
    key = models.CharField(max_length=100)
    # The signature's or petition's id; no foreign key, so the row outlives an erasure.
    subject_id = models.BigIntegerField(_("about"))
    petition_id = models.BigIntegerField(_("petition"), null=True)
    detail = models.JSONField(default=dict, blank=True)  # never a person's details
    occurred_at = models.DateTimeField(_("happened at"))
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    # The next attempt, or while one runs the end of its claim: a worker that dies leaves the row
    # due again once the claim lapses, without anyone recovering it.
    due_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "delivered", "failed", "dropped"]),
                name="webhook_delivery_state_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="webhook_delivery_due", condition=Q(state="queued")
            ),
            models.Index(fields=["endpoint", "event", "subject_id"], name="webhook_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.subject_id}"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.message_id.hex}"
