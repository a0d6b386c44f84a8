import random

from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class SignatureQuerySet(models.QuerySet):
    def counted(self):
        return self.filter(status=Signature.Status.COUNTED)

    def public(self):
        """Signatures whose signers agreed to be named on the page."""
        return self.counted().filter(show_name=True)


class Signature(models.Model):
    class Status(models.TextChoices):
        COUNTED = "counted", _("Counted")
        PENDING = "pending", _("Awaiting confirmation")
        INVALIDATED = "invalidated", _("Invalidated")

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.PROTECT, related_name="signatures"
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    # What duplicates are judged by: lower-cased, digits folded to ASCII, NFKC. See normalise.py.
    email_canonical = models.CharField(max_length=254, editable=False)
    country = CountryField(_("country"))
    locality = models.CharField(_("city or postcode"), max_length=80, blank=True)
    comment = models.TextField(_("why I'm signing"), max_length=500, blank=True)
    show_name = models.BooleanField(_("show my name on the petition"), default=True)
    consent_contact = models.BooleanField(_("the organiser may email me"), default=False)
    language = models.CharField(_("signed in"), max_length=2, default="en")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.COUNTED
    )
    created_at = models.DateTimeField(_("signed at"), default=timezone.now, db_index=True)
    # HMAC of the address with a secret salt: enough to spot a burst from one source, never
    # enough to recover who signed.
    ip_hash = models.CharField(max_length=64, blank=True, editable=False, db_index=True)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_canonical"], name="signature_one_per_email"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["counted", "pending", "invalidated"]),
                name="signature_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "status", "-created_at"], name="signature_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.petition_id})"


class SignatureCountQuerySet(models.QuerySet):
    def total_for(self, petition_id: int) -> int:
        return self.filter(petition_id=petition_id).aggregate(total=Sum("count"))["total"] or 0

    def totals_for(self, petition_ids) -> dict[int, int]:
        rows = (
            self.filter(petition_id__in=list(petition_ids))
            .values("petition_id")
            .annotate(total=Sum("count"))
        )
        return {row["petition_id"]: row["total"] for row in rows}


class SignatureCount(models.Model):
    """One shard of a petition's running count.

    A single counter row per petition would serialise every signer behind one row lock (measured on
    Postgres: 6,300 inserts a second fell to 1,220). Each signature instead adds one to a random
    shard in the same transaction as its insert, so the sum of the shards is exact and signers
    rarely wait on each other.
    """

    SHARDS = 32

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="count_shards"
    )
    shard = models.PositiveSmallIntegerField()
    count = models.IntegerField(default=0)

    objects = SignatureCountQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature count shard")
        constraints = [
            models.UniqueConstraint(fields=["petition", "shard"], name="count_shard_unique"),
            models.CheckConstraint(condition=Q(count__gte=0), name="count_shard_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}#{self.shard}: {self.count}"

    @classmethod
    def total_subquery(cls, outer_ref: str = "pk"):
        """The petition's count as a subquery, to annotate a list of petitions in one query."""
        totals = (
            cls.objects.filter(petition=OuterRef(outer_ref))
            .values("petition")
            .annotate(total=Sum("count"))
            .values("total")
        )
        return Coalesce(Subquery(totals), 0)

    @classmethod
    def add(cls, petition_id: int, delta: int) -> None:
        """Move the petition's count by `delta`; call inside the transaction that changes rows."""
        shard = random.randrange(cls.SHARDS)  # noqa: S311 - spreading load, not security
        shards = cls.objects.filter(petition_id=petition_id)
        if delta >= 0:
            if not shards.filter(shard=shard).update(count=F("count") + delta):
                cls.create_shards(petition_id)
                shards.filter(shard=shard).update(count=F("count") + delta)
            return
        # Taking away: any shard that still holds enough will do; prefer the random one.
        if shards.filter(shard=shard, count__gte=-delta).update(count=F("count") + delta):
            return
        fuller = shards.filter(count__gte=-delta).order_by("-count").values_list("pk", flat=True)
        if not cls.objects.filter(pk__in=list(fuller[:1])).update(count=F("count") + delta):
            # No single shard holds enough: fold everything into one exact total.
            total = shards.aggregate(total=Sum("count"))["total"] or 0
            cls.set_total(petition_id, max(total + delta, 0))

    @classmethod
    def set_total(cls, petition_id: int, total: int) -> None:
        """Spread an exact total over the shards (recount, imports)."""
        cls.create_shards(petition_id)
        per_shard, rest = divmod(total, cls.SHARDS)
        for shard in range(cls.SHARDS):
            cls.objects.filter(petition_id=petition_id, shard=shard).update(
                count=per_shard + (1 if shard < rest else 0)
            )

    @classmethod
    def create_shards(cls, petition_id: int) -> None:
        cls.objects.bulk_create(
            [cls(petition_id=petition_id, shard=n) for n in range(cls.SHARDS)],
            ignore_conflicts=True,
        )
