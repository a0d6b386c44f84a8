"""Tables the shared infrastructure keeps for both apps."""

import contextlib
import random

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditQuerySet(models.QuerySet):
    def delete(self):
        raise TypeError("Audit entries cannot be deleted.")

    def update(self, **kwargs):
        raise TypeError("Audit entries cannot be changed.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise TypeError("Audit entries cannot be changed.")

    def about(self, target):
        return self.filter(
            target_type=ContentType.objects.get_for_model(target, for_concrete_model=True),
            target_id=target.pk,
        )

    def about_any(self, model, pks):
        return self.filter(
            target_type=ContentType.objects.get_for_model(model, for_concrete_model=True),
            target_id__in=list(pks),
        )

    def forget_labels(self) -> int:
        """The one change an entry takes: an erasure on request also reaches the words the log
        kept of what was erased (a draft's title can name its starter). What was done, by whom
        and when stays."""
        return super().update(target_label="")


class AuditEntry(models.Model):
    """Actor and target are also kept as text, to outlive the account or the record."""

    class Action(models.TextChoices):
        PETITION_PUBLISHED = "petition.published", _("Published a petition")
        PETITION_SUPPORTED = (
            "petition.supported",
            _("Sent a petition for review once enough supporters confirmed"),
        )
        PETITION_REJECTED = "petition.rejected", _("Sent back a petition")
        PETITION_TIDIED = "petition.tidied", _("Tidied a petition's Persian spacing")
        PETITION_STARTER_ERASED = (
            "petition.starter_erased",
            _("Removed a starter's address on request"),
        )
        PETITION_ERASED = "petition.erased", _("Deleted a starter's unpublished petitions")
        SIGNATURE_INVALIDATED = "signature.invalidated", _("Invalidated signatures")
        SIGNATURE_BULK_INVALIDATED = "signature.bulk_invalidated", _("Bulk-invalidated signatures")
        SIGNATURE_RESTORED = "signature.restored", _("Restored signatures")
        SIGNATURE_DELETED = "signature.deleted", _("Deleted signatures")
        SIGNATURE_ERASED = "signature.erased", _("Erased a signer's data on request")
        SIGNATURE_WITHDRAWN = "signature.withdrawn", _("A signer withdrew their signature")
        SIGNATURE_EXPORTED = "signature.exported", _("Exported signatures")
        PACK_MADE = "pack.made", _("Made a delivery pack")
        PACK_DOWNLOADED = "pack.downloaded", _("Downloaded a delivery pack")
        UPDATE_APPROVED = "update.approved", _("Approved an update")
        UPDATE_REJECTED = "update.rejected", _("Rejected an update")
        UPDATE_PAUSED = "update.paused", _("Paused an update's email")
        UPDATE_RESUMED = "update.resumed", _("Resumed an update's email")
        UPDATE_CANCELLED = "update.cancelled", _("Cancelled an update's email")
        UPDATE_RESENT = "update.resent", _("Queued an update's uncertain emails again")
        RETENTION_HELD = "retention.held", _("Held a petition's signer data past retention")
        RETENTION_RELEASED = "retention.released", _("Lifted a hold on a petition's signer data")
        SIGNATURE_ANONYMISED = "signature.anonymised", _("Anonymised signers after retention")
        PETITION_CLOSED = "petition.closed", _("Closed a petition")
        THRESHOLD_REACHED = "threshold.reached", _("A petition reached a threshold")
        MILESTONE_ANNOUNCED = "milestone.announced", _("Announced a milestone to signers")
        PAPER_ENTERED = "paper.entered", _("Entered a batch of paper signatures")
        PAPER_REMOVED = "paper.removed", _("Removed a batch of paper signatures")

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who (name)"), max_length=150)
    action = models.CharField(_("what"), max_length=40, choices=Action.choices)
    # Protected: dropping a model's content type must not take its history with it.
    target_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kind of record"),
    )
    target_id = models.PositiveBigIntegerField(_("record number"), null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    target_label = models.CharField(_("about"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_entry_target")]

    def __str__(self) -> str:
        return f"{self.actor_label} · {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, using=None, keep_parents=False):
        raise TypeError("Audit entries cannot be deleted.")


class RateCounter(models.Model):
    """A rate limit's counter when the shared cache is the database (lib.ratelimit): one row per
    limit and window. Django's database cache cannot serve here: its incr reads and then writes,
    so concurrent hits are lost, and it resets the expiry to the cache's default timeout."""

    key = models.CharField(max_length=255, primary_key=True)
    expires_at = models.BigIntegerField(db_index=True)  # Unix time: the same on every backend
    hits = models.PositiveIntegerField()

    # Expired rows are deleted on about one hit in this many: a window's key is never used
    # again, and one indexed delete now and then keeps the table small.
    PURGE_ONE_IN = 100

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"

    @classmethod
    def hit(cls, windows: dict[str, int]) -> dict[str, int]:
        """Add one to the counter at each key, starting it at one for its seconds if it is new or
        has expired; return each key's value. One statement for all of them, so concurrent hits
        are all counted, on PostgreSQL and on SQLite 3.35+. Raises DatabaseError when the
        database does not answer."""
        now = int(timezone.now().timestamp())
        # The same order in every statement, so that two of them never wait on each other's rows.
        keys = sorted(windows)
        params = [value for key in keys for value in (key, now + windows[key])] + [now, now]
        # Inside a caller's transaction, a failure must not break the rest of it.
        guard = contextlib.nullcontext() if transaction.get_autocommit() else transaction.atomic()
        with guard, connection.cursor() as cursor:
            cursor.execute(_hit_sql(cls._meta.db_table, len(keys)), params)
            counts = dict(cursor.fetchall())
        if random.randrange(cls.PURGE_ONE_IN) == 0:  # noqa: S311 - not a secret
            cls.objects.filter(expires_at__lte=now).delete()
        return counts

    @classmethod
    def take_back(cls, keys: list[str]) -> None:
        """Undo one hit counted at each key."""
        cls.objects.filter(key__in=keys, hits__gt=0).update(hits=F("hits") - 1)


def _hit_sql(table: str, rows: int) -> str:
    quote = connection.ops.quote_name
    table = quote(table)
    key, expires, hits = map(quote, ("key", "expires_at", "hits"))
    values = ", ".join(["(%s, %s, 1)"] * rows)
    return (
        f"INSERT INTO {table} ({key}, {expires}, {hits}) VALUES {values} "  # noqa: S608 - names from the model, values as parameters
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"{hits} = CASE WHEN {table}.{expires} > %s THEN {table}.{hits} + 1 ELSE 1 END, "
        f"{expires} = CASE WHEN {table}.{expires} > %s THEN {table}.{expires} "
        f"ELSE excluded.{expires} END "
        f"RETURNING {key}, {hits}"
    )
