import random
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_countries.fields import CountryField

from . import caching
from .normalise import DOTS_IGNORED


def count_cache_key(slug: str) -> str:
    return f"petition-count:v1:{slug}"


def recent_cache_key(petition_id: int) -> str:
    # v2: lists cached before issue 20 could hold the city of a signer in Iran.
    return f"petition-recent:v2:{petition_id}"


# Countries where being seen to sign can be dangerous: the public list never shows the place of a
# signer from one of these, since a city beside a first name and initial can be enough to find
# someone (issue 20).
PLACE_NEVER_SHOWN = frozenset({"IR"})

# Once the public breakdown has folded a country into "other", naming it takes this many times the
# minimum: named at the minimum, the drop in "other" would say who was in it all along.
UNFOLD_FACTOR = 2


@dataclass(frozen=True)
class CountryCounts:
    """Counted signatures by country, largest first, and `other`: the signers of every country
    with fewer than the minimum, added together so that no small group can be singled out."""

    countries: list[tuple[str, int]]
    other: int
    minimum: int


def forget_counts(petition_ids) -> None:
    """Drop the cached counts and recent signers of these petitions once the change commits, so the
    very next reader sees it."""
    ids = list(petition_ids)
    if not ids:
        return
    petitions = petition_model().objects.filter(pk__in=ids)
    keys = [recent_cache_key(pk) for pk in ids] + [
        count_cache_key(slug) for slug in petitions.values_list("slug", flat=True)
    ]
    transaction.on_commit(lambda: caching.delete_many(keys))


class SignatureQuerySet(models.QuerySet):
    def counted(self):
        return self.filter(status=Signature.Status.COUNTED)

    def public(self):
        """Signatures whose signers agreed to be named on the page."""
        return self.counted().filter(show_name=True)

    def listed(self):
        """Signatures the public list and the delivery pack may name: shown by choice, under a
        listing that names signers, and never from a country of PLACE_NEVER_SHOWN."""
        return (
            self.public()
            .exclude(listing=Signature.Listing.NONE)
            .exclude(country__in=PLACE_NEVER_SHOWN)
        )

    def counts_by_country(self, minimum: int, named=None) -> CountryCounts:
        """The counted signatures among these, by country (see CountryCounts). With `named`, the
        countries a previous breakdown named, any other country needs UNFOLD_FACTOR times the
        minimum to be named."""
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
        # Googlemail addresses are stored under gmail.com (normalise.canonical_email).
        return self.filter(email_canonical__endswith="@" + DOTS_IGNORED.get(domain, domain))

    # Each change below writes its audit record, one per petition, inside the transaction that
    # makes the change: if the record cannot be written, nothing changes. `by` is a user, or a
    # string naming a command-line operator.

    def invalidate(self, *, by, detail: str = "", bulk: bool = False) -> Counter:
        """Spam or fraud: stop counting these. The public count drops at once. `bulk` records it
        as a bulk invalidation (a burst found by email domain or IP hash, described in `detail`).
        Returns how many rows each petition had changed."""
        action = AuditRecord.Action.BULK_INVALIDATE if bulk else AuditRecord.Action.INVALIDATE
        return self.exclude(status=Signature.Status.INVALIDATED)._move_to(
            Signature.Status.INVALIDATED, by=by, action=action, detail=detail
        )

    def restore(self, *, by, detail: str = "") -> Counter:
        """Undo an invalidation. Pending signatures stay pending: only the signer confirms them."""
        return self.filter(status=Signature.Status.INVALIDATED)._move_to(
            Signature.Status.COUNTED, by=by, action=AuditRecord.Action.RESTORE, detail=detail
        )

    def erase(self, *, by, signer_request: bool = False) -> Counter:
        """Delete these signatures for good, taking the counted ones off their petitions' counts.
        `signer_request` records it as a signer's request to erase their data; the record never
        says whose. Returns how many rows each petition lost."""
        action = AuditRecord.Action.ERASE_SIGNER if signer_request else AuditRecord.Action.DELETE
        with transaction.atomic():
            rows = list(self.select_for_update().values_list("pk", "petition_id", "status"))
            lost, uncounted = Counter(), Counter()
            for _pk, petition_id, status in rows:
                lost[petition_id] += 1
                if status == Signature.Status.COUNTED:
                    uncounted[petition_id] -= 1
            for chunk in _chunks([pk for pk, _, _ in rows]):
                Signature.objects.filter(pk__in=chunk).delete()
            for petition_id, delta in uncounted.items():
                SignatureCount.add(petition_id, delta)
            AuditRecord.record_per_petition(by, action, lost)
            forget_counts(lost)
        return lost

    def _move_to(self, status: str, *, by, action: str, detail: str) -> Counter:
        """Change the status of these rows and move each petition's count to match, all in one
        transaction with its audit record, with the rows locked so two moderators cannot count
        one change twice."""
        with transaction.atomic():
            rows = list(self.select_for_update().values_list("pk", "petition_id", "status"))
            changed, deltas = Counter(), Counter()
            for _pk, petition_id, old in rows:
                changed[petition_id] += 1
                deltas[petition_id] += (status == Signature.Status.COUNTED) - (
                    old == Signature.Status.COUNTED
                )
            for chunk in _chunks([pk for pk, _, _ in rows]):
                Signature.objects.filter(pk__in=chunk).update(status=status)
            for petition_id, delta in deltas.items():
                if delta:
                    SignatureCount.add(petition_id, delta)
            AuditRecord.record_per_petition(by, action, changed, detail=detail)
            forget_counts(changed)
        return changed


def _chunks(items: list, size: int = 5000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Signature(models.Model):
    class Language(models.TextChoices):
        # Named, so that the admin's filter and detail page say "Persian", not "fa".
        ENGLISH = "en", _("English")
        PERSIAN = "fa", _("Persian")

    class Listing(models.TextChoices):
        """The petition's public list when the signature was made (Petition.SignerList): what the
        signer was promised, so a later, looser setting never shows them more."""

        NAMES_AND_PLACES = "full", _("First name, initial and city")
        NAMES = "names", _("First name and initial only")
        NONE = "none", _("No public list of signers")

    class Status(models.TextChoices):
        COUNTED = "counted", _("Counted")
        PENDING = "pending", _("Awaiting confirmation")
        INVALIDATED = "invalidated", _("Invalidated")

    # No index of its own: signature_recent starts with the petition, and every index is written
    # on every signature.
    petition = models.ForeignKey(
        "petitions.Petition",
        on_delete=models.PROTECT,
        related_name="signatures",
        db_index=False,
        verbose_name=_("petition"),
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    # What duplicates are judged by: lower-cased, digits folded to ASCII, NFKC. See normalise.py.
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
    # When a confirmation email was last queued: signing again while pending resends, but only
    # after a pause.
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True, editable=False)
    # HMAC of the address with a secret salt: enough to spot a burst from one source, never
    # enough to recover who signed.
    ip_hash = models.CharField(_("IP hash"), max_length=64, blank=True, editable=False)
    # False when the shared cache was down and the rate limits could not be counted: the signature
    # went through rather than be refused for our outage, and a moderator can find such a burst
    # (with its IP hash) and invalidate it afterwards.
    rate_checked = models.BooleanField(_("rate limit checked"), db_default=True, editable=False)
    # Where the signer signed (issue 17): "page", "widget:<host of the site that framed it>" or
    # "link:<tag>" from a shared link's ?source=; see normalise.clean_source. A database default,
    # so rows inserted by plain SQL (the benchmark's seed) count as the page's.
    source = models.CharField(_("source"), max_length=80, db_default="page", editable=False)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["-created_at"]
        constraints = [
            # Email first, so that this one index also finds a signer across petitions (erasure,
            # bulk invalidation): a second index on the email alone cost PostgreSQL a tenth of
            # its signing throughput, each being written at a random place on every signature.
            models.UniqueConstraint(
                fields=["email_canonical", "petition"], name="signature_one_per_email"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["counted", "pending", "invalidated"]),
                name="signature_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "status", "-created_at"], name="signature_recent"),
            # Looked up only by equality (bulk invalidation), so without db_index's second,
            # pattern-matching index.
            models.Index(fields=["ip_hash"], name="signature_ip_hash"),
        ]
        permissions = [
            ("moderate_signature", gettext_noop("Can invalidate and restore signatures")),
            ("export_signature", gettext_noop("Can export signatures")),
        ]

    def __str__(self) -> str:
        # The admin's heading: the petition is shown beside it, by name (issue 21).
        return self.name

    @staticmethod
    def listed_place(petition_lists_places: bool, listing: str, country: str, locality: str):
        """The place beside a listed name: only where both the petition now and the listing the
        signer signed under show places."""
        if not petition_lists_places or listing != Signature.Listing.NAMES_AND_PLACES:
            return ""
        return Signature.shown_place(country, locality)

    @staticmethod
    def shown_place(country: str, locality: str) -> str:
        """The place the public list may show beside a signer's name: none for a signer in a
        country of PLACE_NEVER_SHOWN, and no postcode (a locality without letters), which says
        too much; otherwise the city as typed."""
        if str(country) in PLACE_NEVER_SHOWN or not any(ch.isalpha() for ch in locality):
            return ""
        return locality


def petition_model():
    """The petition model, reached through the signature's foreign key with the documented Model
    _meta API rather than imported: signatures never import petitions (issue 15)."""
    return Signature._meta.get_field("petition").related_model


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
        if delta >= 0:
            # One statement on every signature, which also makes the shard the first time: the
            # ORM's update costs four times the statement itself (docs/performance.md), and it
            # has no upsert that adds. PostgreSQL and SQLite both read this SQL as it is.
            table = connection.ops.quote_name(cls._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (petition_id, shard, count) VALUES (%s, %s, %s) "  # noqa: S608
                    f"ON CONFLICT (petition_id, shard) DO UPDATE SET count = {table}.count + %s",
                    [petition_id, shard, delta, delta],
                )
            return
        shards = cls.objects.filter(petition_id=petition_id)
        # Taking away: any shard that still holds enough will do; prefer the random one.
        if shards.filter(shard=shard, count__gte=-delta).update(count=F("count") + delta):
            return
        fuller = shards.filter(count__gte=-delta).order_by("-count").values_list("pk", flat=True)
        if not cls.objects.filter(pk__in=list(fuller[:1])).update(count=F("count") + delta):
            # No single shard holds enough: fold everything into one exact total, with the
            # shards locked so no signer's increment slips in between the sum and the write.
            list(shards.select_for_update())
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


DETAIL_LENGTH = 500


class ActorRecord(models.Model):
    """Who did something and when: the part every record of a staff action shares (the audit
    trail here, a moderator's decision on a started petition in petitions)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # Kept as text too, so the record still names someone after their account is deleted.
    actor_name = models.CharField(_("who (name)"), max_length=150)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        default_permissions = ("view",)

    @staticmethod
    def who(actor) -> dict:
        """The actor fields for `actor`: a user, or a string naming a command-line operator."""
        user = actor if getattr(actor, "pk", None) else None
        name = actor.get_username() if user else str(actor or "system")
        return {"actor": user, "actor_name": name}


class AuditRecord(ActorRecord):
    """Who did what to which signatures, and when. Written by every moderation action and export;
    read-only for everyone, in the admin and in the database's permissions alike."""

    class Action(models.TextChoices):
        INVALIDATE = "invalidate", _("Invalidated signatures")
        RESTORE = "restore", _("Restored signatures")
        DELETE = "delete", _("Deleted signatures")
        BULK_INVALIDATE = "bulk_invalidate", _("Bulk-invalidated signatures")
        EXPORT = "export", _("Exported signatures")
        ERASE_SIGNER = "erase_signer", _("Erased a signer's data on request")
        APPROVE_UPDATE = "approve_update", _("Approved an update")
        REJECT_UPDATE = "reject_update", _("Rejected an update")
        SEND_UPDATE = "send_update", _("Paused, resumed or cancelled an update's email")

    action = models.CharField(_("what"), max_length=20, choices=Action.choices)
    petition = models.ForeignKey(
        "petitions.Petition",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("petition"),
    )
    rows = models.PositiveIntegerField(_("rows"))
    detail = models.CharField(_("detail"), max_length=DETAIL_LENGTH, blank=True)

    class Meta(ActorRecord.Meta):
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")

    def __str__(self) -> str:
        # The admin's heading, in words only: its page shows the time and rows in the reader's
        # calendar and digits, which this app cannot format (petitions owns them).
        return f"{self.actor_name} · {self.get_action_display()}"

    @classmethod
    def record(cls, actor, action: str, rows: int, *, petition_id=None, detail: str = ""):
        """Write one record; `actor` is a user, or a string naming a command-line operator."""
        return cls.objects.create(
            **cls.who(actor),
            action=action,
            petition_id=petition_id,
            rows=rows,
            detail=detail[:DETAIL_LENGTH],
        )

    @classmethod
    def record_per_petition(cls, actor, action: str, changed: Counter, detail: str = ""):
        """One record for each petition in `changed` (petition id: rows), in one statement."""
        who = cls.who(actor)
        cls.objects.bulk_create(
            cls(
                **who,
                action=action,
                petition_id=petition_id,
                rows=rows,
                detail=detail[:DETAIL_LENGTH],
            )
            for petition_id, rows in sorted(changed.items())
        )


class BlockedAttempt(models.Model):
    """Signing attempts the site refused as abuse, for moderators. One row per source, reason and
    minute with a running tally, so a flood of refusals cannot itself flood the database."""

    class Reason(models.TextChoices):
        RATE_IP = "rate_ip", _("Too many from one address")
        RATE_PETITION = "rate_petition", _("Too many on one petition")
        HONEYPOT = "honeypot", _("Filled the hidden field")
        TOO_FAST = "too_fast", _("Sent faster than a person can type")

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="+", verbose_name=_("petition")
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
        # Words only, like an audit record's heading.
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
    """The breakdown by country the public sees, released anew only in coarse steps (see
    counting.country_counts), so that no change in it follows one signature. Kept in the database
    so that a restart or a flushed cache cannot release early."""

    petition = models.OneToOneField(
        "petitions.Petition", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    released_at = models.DateTimeField(_("released at"))
    # The counted signatures the breakdown adds up.
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
    """How many of a petition's signatures, counted now, were signed in one hour (UTC): the count
    over time (issue 22). Derived from the signature rows and only from them, so it can always be
    rebuilt (signatures/history.py); signing never writes it."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="+", db_index=False
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
