"""Tables the shared infrastructure keeps for both apps."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
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


class AuditEntry(models.Model):
    """Actor and target are also kept as text, to outlive the account or the record."""

    class Action(models.TextChoices):
        PETITION_PUBLISHED = "petition.published", _("Published a petition")
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
        SIGNATURE_EXPORTED = "signature.exported", _("Exported signatures")
        PACK_MADE = "pack.made", _("Made a delivery pack")
        PACK_DOWNLOADED = "pack.downloaded", _("Downloaded a delivery pack")
        UPDATE_APPROVED = "update.approved", _("Approved an update")
        UPDATE_REJECTED = "update.rejected", _("Rejected an update")
        UPDATE_PAUSED = "update.paused", _("Paused an update's email")
        UPDATE_RESUMED = "update.resumed", _("Resumed an update's email")
        UPDATE_CANCELLED = "update.cancelled", _("Cancelled an update's email")
        UPDATE_RESENT = "update.resent", _("Queued an update's uncertain emails again")

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
