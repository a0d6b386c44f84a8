import random
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_countries.fields import CountryField

from lib import audit, cache
from lib.audit import Action
from lib.normalise import DOTS_IGNORED
from petitions.models import Petition

# What Petition.__str__ reads, for the audit label.
LABEL_FIELDS = ("slug", "title_en", "title_fa")

# Where being seen to sign can be dangerous: a city beside a first name and initial can be enough
# to find someone.
PLACE_NEVER_SHOWN = frozenset({"IR"})

# An anonymised row's compared email: not an address, so that no mail can go to it.
ANONYMISED_PREFIX = "anonymised:"
# A withdrawn signature keeps its row (its receipt, its place in the record) and nothing that says
# who: the address becomes a label unique to the row, so the one-per-email constraint holds and the
# signer may sign again.
WITHDRAWN_DETAILS = {
    "name": "",
    "email": "",
    "email_canonical": Concat(Value("withdrawn:"), Cast("pk", models.CharField())),
    "locality": "",
    "comment": "",
    "show_name": False,
    "consent_contact": False,
    "ip_hash": "",
}

# Unfolding a country from "other" at the minimum would say who was in "other" all along.
UNFOLD_FACTOR = 2


@dataclass(frozen=True)
class CountryCounts:
    """`other` adds up every country under the minimum, so that no small group stands out."""

    countries: list[tuple[str, int]]
    other: int
    minimum: int


def forget_counts(petition_ids) -> None:
    ids = list(petition_ids)
    if not ids:
        return
    slugs = Petition.objects.filter(pk__in=ids).values_list("slug", flat=True)
    keys = [cache.recent_key(pk) for pk in ids] + [cache.count_key(slug) for slug in slugs]
    transaction.on_commit(lambda: cache.delete_many(keys))


class SignatureQuerySet(models.QuerySet):
    def counted(self):
        return self.filter(status=Signature.Status.COUNTED)

    def public(self):
        return self.counted().filter(show_name=True)

    def listed(self):
        """What the public list and the delivery pack may name."""
        return (
            self.public()
            .exclude(listing=Signature.Listing.NONE)
            .exclude(country__in=PLACE_NEVER_SHOWN)
        )

    def counts_by_country(self, minimum: int, named=None) -> CountryCounts:
        """`named`: the countries a previous breakdown named (see UNFOLD_FACTOR)."""
        rows = (
            self.counted()
            .values_list("country")
            .annotate(signers=Count("pk"))
            .order_by("-signers", "country")
        )
        countries, other = [], 0
        for country, signers in rows:
            needed = minimum if named is None or country in named else UNFOLD_FACTOR * minimum
            if signers >= needed:
                countries.append((country, signers))
            else:
                other += signers
        return CountryCounts(countries, other, minimum)

    def email_domain(self, domain: str):
        domain = domain.lower().lstrip("@")
        return self.filter(email_canonical__endswith="@" + DOTS_IGNORED.get(domain, domain))

    # Each change writes its audit records and its entry in the public record (CountChange) in
    # its own transaction, so no caller can forget them.

    def invalidate(self, *, by, detail: str = "", bulk: bool = False, reason: str = "") -> Counter:
        """Returns how many rows each petition had changed. `reason`: a Signature.Reason, shown
        on the receipt and the public record."""
        action = Action.SIGNATURE_BULK_INVALIDATED if bulk else Action.SIGNATURE_INVALIDATED
        return self.exclude(
            status__in=[Signature.Status.INVALIDATED, Signature.Status.WITHDRAWN]
        )._move_to(
            lambda _old, _ever_counted: Signature.Status.INVALIDATED,
            by=by,
            action=action,
            detail=detail,
            kind=CountChange.Kind.INVALIDATED,
            reason=reason or Signature.Reason.OTHER,
        )

    def restore(self, *, by, detail: str = "") -> Counter:
        """A signature that was never counted goes back to waiting for its confirmation: only
        the signer confirms an address."""
        return self.filter(status=Signature.Status.INVALIDATED)._move_to(
            lambda _old, ever_counted: (
                Signature.Status.COUNTED if ever_counted else Signature.Status.PENDING
            ),
            by=by,
            action=Action.SIGNATURE_RESTORED,
            detail=detail,
            kind=CountChange.Kind.RESTORED,
        )

    def withdraw(self, *, by="signer") -> Counter:
        """The signer's own decision: uncounted at once and their details cleared at once; the
        row stays, without them, so that the receipt and the record still add up."""
        return self.exclude(status=Signature.Status.WITHDRAWN)._move_to(
            lambda _old, _ever_counted: Signature.Status.WITHDRAWN,
            by=by,
            action=Action.SIGNATURE_WITHDRAWN,
            detail="",
            kind=CountChange.Kind.WITHDRAWN,
            cleared=WITHDRAWN_DETAILS,
        )

    def erase(self, *, by, signer_request: bool = False) -> Counter:
        """Returns how many rows each petition lost; the audit record never says whose."""
        action = Action.SIGNATURE_ERASED if signer_request else Action.SIGNATURE_DELETED
        kind = CountChange.Kind.ERASED if signer_request else CountChange.Kind.DELETED
        with transaction.atomic():
            rows = list(
                self.select_for_update().values_list("pk", "petition_id", "status", "counted_at")
            )
            lost, uncounted, ever_counted = Counter(), Counter(), Counter()
            for _pk, petition_id, status, counted_at in rows:
                lost[petition_id] += 1
                ever_counted[petition_id] += counted_at is not None
                if status == Signature.Status.COUNTED:
                    uncounted[petition_id] -= 1
            for chunk in _chunks([pk for pk, *_ in rows]):
                Signature.objects.filter(pk__in=chunk).delete()
            for petition_id, delta in uncounted.items():
                SignatureCount.add(petition_id, delta)
            _record_per_petition(by, action, lost)
            CountChange.objects.bulk_create(
                CountChange(
                    petition_id=petition_id,
                    kind=kind,
                    signatures=n,
                    delta=uncounted[petition_id],
                    ever_counted=ever_counted[petition_id],
                )
                for petition_id, n in lost.items()
            )
            forget_counts(lost)
        return lost

    def _move_to(
        self,
        status_for,
        *,
        by,
        action: str,
        detail: str,
        kind: str,
        reason: str = "",
        cleared: dict | None = None,
    ) -> Counter:
        """Rows locked, so that two moderators cannot count one change twice. `status_for(old
        status, ever counted)` is the new status."""
        now = timezone.now()
        with transaction.atomic():
            rows = list(
                self.select_for_update().values_list("pk", "petition_id", "status", "counted_at")
            )
            changed, deltas = Counter(), Counter()
            by_status: dict[str, list[int]] = {}
            for pk, petition_id, old, counted_at in rows:
                new = status_for(old, counted_at is not None)
                by_status.setdefault(new, []).append(pk)
                changed[petition_id] += 1
                deltas[petition_id] += (new == Signature.Status.COUNTED) - (
                    old == Signature.Status.COUNTED
                )
            for status, pks in by_status.items():
                for chunk in _chunks(pks):
                    Signature.objects.filter(pk__in=chunk).update(
                        status=status, changed_at=now, removal_reason=reason, **(cleared or {})
                    )
            for petition_id, delta in deltas.items():
                if delta:
                    SignatureCount.add(petition_id, delta)
            _record_per_petition(by, action, changed, note=detail)
            CountChange.objects.bulk_create(
                CountChange(
                    petition_id=petition_id,
                    at=now,
                    kind=kind,
                    reason=reason,
                    signatures=n,
                    delta=deltas[petition_id],
                )
                for petition_id, n in changed.items()
            )
            forget_counts(changed)
        return changed

    def anonymise(self, *, by="system") -> Counter:
        """Blank what says who signed (name, email, comment, place, address code) and keep what the
        counts, the record and the receipts stand on (status, country, language, dates, receipt).
        The compared email becomes a placeholder of the row's own number: unique, and no address.
        Returns how many rows each petition had anonymised; the audit says how many, never whose."""
        with transaction.atomic():
            rows = list(self.exclude(email="").select_for_update().values_list("pk", "petition_id"))
            changed = Counter(petition_id for _pk, petition_id in rows)
            placeholder = Concat(Value(ANONYMISED_PREFIX), Cast("pk", models.CharField()))
            for chunk in _chunks([pk for pk, _ in rows]):
                Signature.objects.filter(pk__in=chunk).update(
                    name="",
                    email="",
                    email_canonical=placeholder,
                    comment="",
                    locality="",
                    ip_hash="",
                    # Nothing left to show or to write to.
                    show_name=False,
                    consent_contact=False,
                )
            _record_per_petition(by, Action.SIGNATURE_ANONYMISED, changed)
            forget_counts(changed)
        return changed


def _record_per_petition(by, action: str, changed: Counter, note: str = "") -> None:
    petitions = Petition.objects.filter(pk__in=list(changed)).only(*LABEL_FIELDS).order_by("pk")
    extra = {"note": note} if note else {}
    audit.record_each(
        by,
        action,
        ((petition, {"signatures": changed[petition.pk], **extra}) for petition in petitions),
    )


def _chunks(items: list, size: int = 5000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Signature(models.Model):
    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        PERSIAN = "fa", _("Persian")

    class Listing(models.TextChoices):
        """What the signer was promised, so that a later, looser setting never shows them more."""

        NAMES_AND_PLACES = "full", _("First name, initial and city")
        NAMES = "names", _("First name and initial only")
        NONE = "none", _("No public list of signers")

    class Status(models.TextChoices):
        COUNTED = "counted", _("Counted")
        PENDING = "pending", _("Awaiting confirmation")
        INVALIDATED = "invalidated", _("Invalidated")
        WITHDRAWN = "withdrawn", _("Withdrawn by the signer")

    class Reason(models.TextChoices):
        """Why a moderator stopped counting a signature: public, on its receipt and the record."""

        DUPLICATE = "duplicate", _("Duplicate or fake identity")
        AUTOMATED = "automated", _("Automated or bot sign-ups")
        OUT_OF_SCOPE = "scope", _("Outside the petition's scope")
        OTHER = "other", _("Other reason")

    # No index of its own: signature_recent starts with the petition, and every index is written
    # on every signature.
    petition = models.ForeignKey(
        Petition,
        on_delete=models.PROTECT,
        related_name="signatures",
        db_index=False,
        verbose_name=_("petition"),
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    email_canonical = models.CharField(_("email as compared"), max_length=254, editable=False)
    country = CountryField(_("country"))
    locality = models.CharField(_("city or postcode"), max_length=80, blank=True)
    comment = models.TextField(_("why I'm signing"), max_length=500, blank=True)
    show_name = models.BooleanField(_("show my name on the petition"), default=True)
    # The strictest that still lists for rows inserted without it (the benchmark's plain SQL).
    listing = models.CharField(
        _("listed under"),
        max_length=5,
        choices=Listing.choices,
        db_default=Listing.NAMES,
        editable=False,
    )
    consent_contact = models.BooleanField(_("the organiser may email me"), default=False)
    language = models.CharField(
        _("signed in"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.COUNTED
    )
    created_at = models.DateTimeField(_("signed at"), default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True, editable=False)
    # Enough to spot a burst from one source, never enough to recover who signed.
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True, editable=False)
    # False when the cache was down: signing went on rather than refuse for our outage, and a
    # moderator can find such a burst afterwards.
    rate_checked = models.BooleanField(_("rate limit checked"), db_default=True, editable=False)
    # lib.normalise.clean_source; db_default for rows inserted by plain SQL (the benchmark's seed).
    source = models.CharField(_("source"), max_length=80, db_default="page", editable=False)
    # SHA-256 of the receipt code the signer was given: the code itself is never stored, so the
    # table cannot hand anyone a signer's capability to check or withdraw.
    receipt = models.BinaryField(_("receipt hash"), max_length=32, null=True, editable=False)
    # When it first entered the count (signed, or confirmed): the record's "signatures counted"
    # is read from this, not from the count it checks.
    counted_at = models.DateTimeField(_("first counted at"), null=True, editable=False)
    # The last move by a moderator or the signer (invalidated, restored, withdrawn).
    changed_at = models.DateTimeField(_("status changed at"), null=True, editable=False)
    removal_reason = models.CharField(
        _("reason removed"),
        max_length=10,
        choices=Reason.choices,
        blank=True,
        db_default="",
        editable=False,
    )

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        constraints = [
            # Email first, so that this index also finds a signer across petitions: a second
            # index on the email alone cost a tenth of PostgreSQL's signing throughput.
            models.UniqueConstraint(
                fields=["email_canonical", "petition"], name="signature_one_per_email"
            ),
            models.UniqueConstraint(fields=["receipt"], name="signature_one_per_receipt"),
            models.CheckConstraint(
                condition=Q(status__in=["counted", "pending", "invalidated", "withdrawn"]),
                name="signature_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "status", "-created_at"], name="signature_recent"),
            # Only equality lookups: no need for db_index's second, pattern-matching index.
            models.Index(fields=["ip_hash"], name="signature_ip_hash"),
        ]
        permissions = [
            ("moderate_signature", gettext_noop("Can invalidate and restore signatures")),
            ("export_signature", gettext_noop("Can export signatures")),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def listed_place(petition_lists_places: bool, listing: str, country: str, locality: str):
        if not petition_lists_places or listing != Signature.Listing.NAMES_AND_PLACES:
            return ""
        return Signature.shown_place(country, locality)

    @staticmethod
    def shown_place(country: str, locality: str) -> str:
        """Never a postcode, which says too much."""
        if str(country) in PLACE_NEVER_SHOWN or not any(ch.isalpha() for ch in locality):
            return ""
        return locality


class CountChangeQuerySet(models.QuerySet):
    def for_petition(self, petition_id: int):
        return self.filter(petition_id=petition_id)


class CountChange(models.Model):
    """The public record: every change to a petition's count that is not a signature or a
    confirmation, written in the transaction of the change itself (SignatureQuerySet's moves, and
    signatures.paper for batches of paper signatures). Never a signer's name, an address or a
    signature's id; a paper batch's line carries the moderator's public description."""

    class Kind(models.TextChoices):
        INVALIDATED = "invalidated", _("Removed after review")
        RESTORED = "restored", _("Restored after review")
        WITHDRAWN = "withdrawn", _("Withdrawn by signers")
        ERASED = "erased", _("Erased at the signer's request")
        DELETED = "deleted", _("Deleted by a moderator")
        PAPER_ADDED = "paper_added", _("Added on paper")
        PAPER_REMOVED = "paper_removed", _("Paper batches removed")

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("change"), max_length=16, choices=Kind.choices)
    reason = models.CharField(
        _("reason"), max_length=10, choices=Signature.Reason.choices, blank=True
    )
    signatures = models.PositiveIntegerField(_("signatures"))
    # 0 for a signature that was never counted (still awaiting its confirmation).
    delta = models.IntegerField(_("change to the count"))
    # Erased rows only: how many had ever been counted, since a deleted row no longer says so.
    ever_counted = models.PositiveIntegerField(_("ever counted"), default=0)
    # Paper batches only: the moderator's description ("collected at the book fair"), public.
    note = models.CharField(_("note"), max_length=300, blank=True, default="")

    objects = CountChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("change to the count")
        verbose_name_plural = _("changes to the count")
        ordering = ["-at", "-pk"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["petition", "-at"], name="count_change_recent")]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.kind} {self.delta:+d}"


class PaperBatchQuerySet(models.QuerySet):
    def standing(self):
        """Not removed: the batches whose number is in the count."""
        return self.filter(removed_at__isnull=True)

    def total_for(self, petition_id: int) -> int:
        return (
            self.standing().filter(petition_id=petition_id).aggregate(total=Sum("count"))["total"]
            or 0
        )


class PaperBatch(models.Model):
    """Signatures collected on paper and entered by a moderator: a number with a description, or
    rows read from a CSV (each a PaperSignature). Its number is added to the count shards in the
    transaction that enters it, so that every reader of the count stays on one path; removing it
    takes the number off again and keeps the batch, without its rows, for the record."""

    class Kind(models.TextChoices):
        COUNT = "count", _("A number of signatures")
        ROWS = "rows", _("Rows from a CSV file")

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="paper_batches", verbose_name=_("petition")
    )
    kind = models.CharField(_("entered as"), max_length=5, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300)
    count = models.PositiveIntegerField(_("signatures counted"))
    # What reading the CSV found: {"rows": n, "duplicates": [[row, why]], "invalid": [[row, why]]}.
    report = models.JSONField(_("report"), default=dict, blank=True, editable=False)
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True, editable=False)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("removed by"),
    )

    objects = PaperBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("paper batch")
        verbose_name_plural = _("paper batches")
        ordering = ["-entered_at", "-pk"]
        default_permissions = ("add", "view", "delete")
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1), name="paper_batch_counts_someone"),
        ]

    def __str__(self) -> str:
        return self.description


class PaperSignature(models.Model):
    """One row of a CSV batch: what the sheet asked for, normalised like online input. The email
    is optional on paper; with one, it is unique on the petition among paper rows (and checked
    against the online signatures when entered)."""

    batch = models.ForeignKey(
        PaperBatch, on_delete=models.CASCADE, related_name="rows", verbose_name=_("paper batch")
    )
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    row = models.PositiveIntegerField(_("row in the file"))
    name = models.CharField(_("name"), max_length=100)
    email = models.CharField(_("email"), max_length=254, blank=True)
    email_canonical = models.CharField(
        _("email as compared"), max_length=254, blank=True, editable=False
    )
    country = CountryField(_("country"))

    class Meta:
        verbose_name = _("paper signature")
        verbose_name_plural = _("paper signatures")
        ordering = ["batch", "row"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_canonical"],
                condition=~Q(email_canonical=""),
                name="paper_signature_one_per_email",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def country_name(self) -> str:
        return str(self.country.name or self.country.code)


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
    """One shard of a petition's count: one row per petition would queue every signer behind
    its lock. A signature adds to a random shard in its own transaction, so the sum is exact."""

    SHARDS = 32

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="count_shards")
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
        totals = (
            cls.objects.filter(petition=OuterRef(outer_ref))
            .values("petition")
            .annotate(total=Sum("count"))
            .values("total")
        )
        return Coalesce(Subquery(totals), 0)

    @classmethod
    def add(cls, petition_id: int, delta: int) -> None:
        """Call inside the transaction that changes the rows."""
        shard = random.randrange(cls.SHARDS)  # noqa: S311 - spreading load, not security
        if delta >= 0:
            # The ORM has no upsert that adds; PostgreSQL and SQLite both read this SQL.
            table = connection.ops.quote_name(cls._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (petition_id, shard, count) VALUES (%s, %s, %s) "  # noqa: S608
                    f"ON CONFLICT (petition_id, shard) DO UPDATE SET count = {table}.count + %s",
                    [petition_id, shard, delta, delta],
                )
            return
        shards = cls.objects.filter(petition_id=petition_id)
        if shards.filter(shard=shard, count__gte=-delta).update(count=F("count") + delta):
            return
        fuller = shards.filter(count__gte=-delta).order_by("-count").values_list("pk", flat=True)
        if not cls.objects.filter(pk__in=list(fuller[:1])).update(count=F("count") + delta):
            # Locked, so that no signer's increment slips in between the sum and the write.
            list(shards.select_for_update())
            total = shards.aggregate(total=Sum("count"))["total"] or 0
            cls.set_total(petition_id, max(total + delta, 0))

    @classmethod
    def set_total(cls, petition_id: int, total: int) -> None:
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


class BlockedAttempt(models.Model):
    """One row per source, reason and minute, so that a flood of refusals cannot flood the table."""

    class Reason(models.TextChoices):
        RATE_IP = "rate_ip", _("Too many from one address")
        RATE_PETITION = "rate_petition", _("Too many on one petition")
        HONEYPOT = "honeypot", _("Filled the hidden field")
        TOO_FAST = "too_fast", _("Sent faster than a person can type")

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="+", verbose_name=_("petition")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True)
    minute = models.DateTimeField(_("minute"), db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)

    class Meta:
        verbose_name = _("blocked attempt")
        verbose_name_plural = _("blocked attempts")
        ordering = ["-minute"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "reason", "ip_hash", "minute"], name="blocked_attempt_bucket"
            )
        ]

    def __str__(self) -> str:
        return str(self.get_reason_display())

    @classmethod
    def tally(cls, petition, reason: str, ip_hash: str) -> None:
        minute = timezone.now().replace(second=0, microsecond=0)
        bucket = cls.objects.filter(
            petition=petition, reason=reason, ip_hash=ip_hash, minute=minute
        )
        if bucket.update(attempts=F("attempts") + 1):
            return
        try:
            with transaction.atomic():
                cls.objects.create(petition=petition, reason=reason, ip_hash=ip_hash, minute=minute)
        except IntegrityError:  # another process opened the bucket first
            bucket.update(attempts=F("attempts") + 1)


class CountryRelease(models.Model):
    """In the database, so that a restart or a flushed cache cannot release early."""

    petition = models.OneToOneField(
        Petition, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    released_at = models.DateTimeField(_("released at"))
    signatures = models.PositiveIntegerField(_("signatures"))
    countries = models.JSONField(_("countries"))  # [[code, signers], ...], largest first
    other = models.PositiveIntegerField(_("other countries"))
    minimum = models.PositiveIntegerField(_("minimum"))

    class Meta:
        verbose_name = _("breakdown by country")
        verbose_name_plural = _("breakdowns by country")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.petition_id} {self.released_at:%Y-%m-%d %H:%M}"

    @property
    def counts(self) -> CountryCounts:
        return CountryCounts([tuple(pair) for pair in self.countries], self.other, self.minimum)


class HourlyCount(models.Model):
    """Counted signatures per hour (UTC), derived from the rows only, so it can always be rebuilt;
    signing never writes it."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    hour = models.DateTimeField(_("hour"))
    signatures = models.PositiveIntegerField(_("signatures"))

    class Meta:
        verbose_name = _("hourly count")
        verbose_name_plural = _("hourly counts")
        constraints = [
            models.UniqueConstraint(fields=["petition", "hour"], name="hourly_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.hour:%Y-%m-%d %H}:00 +{self.signatures}"
