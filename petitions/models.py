import datetime
import hashlib
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.validators import MinValueValidator
from django.db import connection, models, transaction
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Now
from django.db.models.lookups import Contains
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from lib import audit, cache, persian
from lib.markdown import kept_letters, render_letter
from lib.persian import ZWNJ, clean_text

from .goals import next_goal

LANGUAGE_CODES = ("en", "fa")
RTL_LANGUAGES = frozenset({"fa"})
LIGHT_MARKDOWN = _("Plain text or light Markdown. A blank line starts a new paragraph.")
TRANSLATED_FIELDS = ("title", "summary", "letter")


def version_of(instance: models.Model, fields: tuple[str, ...]) -> str:
    """A digest of these fields: a decision carries the version its moderator read."""
    values = [getattr(instance, name) for name in fields]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


# An origin as CSP's frame-ancestors takes it: ASCII host, optional port or "*.", no path.
# A petition's address, in any script: a Persian-only petition's is in Persian letters. The pages'
# and the API's URLs take nothing longer, so no cache or query is spent on what no petition has.
SLUG_MAX_LENGTH = 80
SLUG_PATTERN = rf"[-\w]{{1,{SLUG_MAX_LENGTH}}}"
EMBED_ORIGIN = re.compile(r"https?://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?")


def embed_origins(value: str) -> list[str]:
    return [line.strip().rstrip("/").lower() for line in (value or "").splitlines() if line.strip()]


def validate_embed_sites(value: str) -> None:
    wrong = [origin for origin in embed_origins(value) if not EMBED_ORIGIN.fullmatch(origin)]
    if wrong:
        raise ValidationError(
            _("Write one site a line, as https://news.example.org, with no path: %(sites)s"),
            params={"sites": ", ".join(wrong)},
            code="invalid",
        )


def text_direction(language: str) -> str:
    return "rtl" if language in RTL_LANGUAGES else "ltr"


def other_language(language: str) -> str:
    return "fa" if language == "en" else "en"


@dataclass(frozen=True)
class LocalisedText:
    """Organiser text with the language it is really in, for the `lang` and `dir` of a fallback."""

    value: str
    lang: str
    requested: str

    @property
    def dir(self) -> str:
        return text_direction(self.lang)

    @property
    def is_fallback(self) -> bool:
        return self.lang != self.requested

    def __str__(self) -> str:
        return self.value

    def __bool__(self) -> bool:
        return bool(self.value)


def localised(obj, name: str, language: str) -> LocalisedText:
    """`obj.<name>_<language>`, or the other language's when that one was left empty."""
    value = getattr(obj, f"{name}_{language}", "")
    if value.strip():
        return LocalisedText(value, language, language)
    other = other_language(language)
    return LocalisedText(getattr(obj, f"{name}_{other}", ""), other, language)


class PetitionQuerySet(models.QuerySet):
    def public(self):
        return self.filter(status__in=Petition.Status.PUBLIC)

    def signable(self):
        return self.filter(signable_now())

    def with_signable(self):
        """`is_signable` read in the same query."""
        return self.annotate(is_signable=ExpressionWrapper(signable_now(), BooleanField()))

    def closed(self):
        """Public and not taking signatures: closed by a moderator, or past its closing date even
        before `tend_petitions` has changed its status."""
        return self.public().exclude(signable_now())

    def due_to_close(self):
        return self.filter(status=Petition.Status.OPEN, closes_at__lte=Now())

    def without_response(self):
        # The admin's form strips what it stores, so an empty field is an empty string.
        return self.filter(response_en="", response_fa="")

    def responded(self):
        return self.public().filter(
            ~Q(response_en="") | ~Q(response_fa="") | Q(outcome=Petition.Outcome.RESPONDED)
        )

    def won(self):
        return self.public().filter(outcome=Petition.Outcome.WON)

    def awaiting_response(self):
        """Public petitions past a threshold that calls for a response, with none yet; each with
        `waiting_since` (the first such threshold) and `respond_by` (its earliest deadline),
        longest wait first."""
        owing = ThresholdReached.objects.filter(petition=OuterRef("pk"), owes_response=True)
        first = owing.order_by("reached_at").values("reached_at")[:1]
        deadline = owing.exclude(respond_by=None).order_by("respond_by").values("respond_by")[:1]
        return (
            self.public()
            .without_response()
            .exclude(outcome=Petition.Outcome.RESPONDED)
            .filter(Exists(owing))
            .annotate(waiting_since=Subquery(first), respond_by=Subquery(deadline))
            .order_by("waiting_since", "pk")
        )

    def titled(self, text: str):
        """Whose title in either language contains `text` or reads like it, folded as
        `search_key` folds it (Arabic Yeh and Kaf, ZWNJ, case)."""
        query = search_key(text)
        if not query:
            return self
        titles = [f"title_{code}" for code in LANGUAGE_CODES]
        if connection.vendor == "postgresql":
            from django.contrib.postgres.lookups import TrigramWordSimilar

            found = Q()
            for title in titles:
                folded = folded_in_database(title)
                found |= Q(Contains(folded, Value(query))) | Q(TrigramWordSimilar(folded, query))
            return self.filter(found)
        found = [
            pk
            for pk, *values in self.values_list("pk", *titles)
            if any(
                query in search_key(value)
                or title_likeness(query, search_key(value)) >= SIMILAR_TITLE_THRESHOLD
                for value in values
            )
        ]
        return self.filter(pk__in=found)

    def waiting_for_review(self):
        return self.filter(status=Petition.Status.PENDING)

    def with_supporters(self):
        """`supporter_total`: its supporters before review who count (`Cosponsor.counting`)."""
        counting = (
            Cosponsor.objects.counting()
            .filter(petition=models.OuterRef("pk"))
            .order_by()
            .values("petition")
            .annotate(total=models.Count("pk"))
            .values("total")
        )
        return self.annotate(
            supporter_total=Coalesce(
                models.Subquery(counting), 0, output_field=models.IntegerField()
            )
        )

    def started_by(self, email_canonical: str):
        return self.filter(starter_email_canonical=email_canonical).exclude(
            starter_email_canonical=""
        )

    def forget_starter(self, *, by) -> tuple[int, int]:
        """Erase a starter: unpublished petitions are deleted; public ones keep what people signed
        but lose the address (which also voids the starter's links). The audit never says whose
        address it was. Returns (deleted, kept)."""
        with transaction.atomic():
            rows = list(self.select_for_update().values_list("pk", "status"))
            private = [pk for pk, status in rows if status not in Petition.Status.PUBLIC]
            public = [pk for pk, status in rows if status in Petition.Status.PUBLIC]
            Petition.objects.filter(pk__in=public).update(
                starter_email="", starter_email_canonical="", starter_language=""
            )
            for petition in Petition.objects.filter(pk__in=public).order_by("pk"):
                audit.record(by, audit.Action.PETITION_STARTER_ERASED, petition)
            if private:
                audit.forget_labels(Petition, private)
                Petition.objects.filter(pk__in=private).delete()
                audit.record(by, audit.Action.PETITION_ERASED, deleted=len(private))
        return len(private), len(public)

    def due_for_anonymising(self):
        """Closed (by date or by a moderator) at least SIGNATURE_RETENTION_DAYS ago, not held, and
        with signers not yet anonymised since it closed."""
        cutoff = timezone.now() - datetime.timedelta(days=settings.SIGNATURE_RETENTION_DAYS)
        closed_long_ago = Q(closes_at__lte=cutoff) | Q(closed_at__lte=cutoff)
        not_done = (
            Q(signers_anonymised_at__isnull=True)
            | Q(signers_anonymised_at__lt=F("closes_at"))
            | Q(signers_anonymised_at__lt=F("closed_at"))
        )
        return self.filter(closed_long_ago & not_done, hold_at__isnull=True)

    def unfinished(self):
        """A starter's petitions that still count against their limit."""
        return self.without_expired_drafts().filter(
            status__in=(
                Petition.Status.DRAFT,
                Petition.Status.GATHERING,
                Petition.Status.PENDING,
                *Petition.Status.SIGNABLE,
            )
        )

    def without_expired_drafts(self):
        """Without site drafts left unconfirmed past the link's life: whoever typed that address
        may not own it, so they neither count against it nor are mailed to it again."""
        cutoff = timezone.now() - datetime.timedelta(seconds=settings.START_LINK_MAX_AGE)
        return self.exclude(
            Q(status=Petition.Status.DRAFT, email_confirmed_at__isnull=True, created_at__lt=cutoff)
            & ~Q(starter_email_canonical="")
        )

    def published_in(self, language: str):
        """The database's side of `Petition.languages`: complete in `language`, and not a
        single-language petition written in the other one."""
        complete = Q()
        for name in TRANSLATED_FIELDS:
            complete &= ~Q(**{f"{name}_{language}": ""})
        return self.filter(complete & (Q(single_language=False) | Q(original_language=language)))

    def similar_to(self, *texts: str, limit: int = 5) -> list["Petition"]:
        """Open petitions whose title reads like one of `texts`, best first: pg_trgm word
        similarity on PostgreSQL, `title_likeness` elsewhere."""
        queries = [query for query in map(search_key, texts) if len(query) >= 3]
        if not queries:
            return []
        candidates = self.signable()
        titles = [f"title_{code}" for code in LANGUAGE_CODES]
        if connection.vendor == "postgresql":
            from django.contrib.postgres.lookups import TrigramWordSimilar
            from django.contrib.postgres.search import TrigramWordSimilarity

            # `%>` uses the trigram indexes on the folded titles; the score orders and thresholds.
            found = Q()
            for query in queries:
                for title in titles:
                    found |= Q(TrigramWordSimilar(folded_in_database(title), query))
            scores = [
                TrigramWordSimilarity(Value(query), folded_in_database(title))
                for query in queries
                for title in titles
            ]
            return list(
                candidates.filter(found)
                .annotate(similarity=Greatest(*scores))
                .filter(similarity__gte=SIMILAR_TITLE_THRESHOLD)
                .order_by("-similarity", "-opened_at")[:limit]
            )
        scored = []
        for petition in candidates.only("pk", "slug", *titles):
            petition.similarity = max(
                title_likeness(query, search_key(getattr(petition, title)))
                for query in queries
                for title in titles
            )
            if petition.similarity >= SIMILAR_TITLE_THRESHOLD:
                scored.append(petition)
        scored.sort(key=lambda petition: -petition.similarity)
        return scored[:limit]


# pg_trgm's own default for `%>`.
SIMILAR_TITLE_THRESHOLD = 0.6
# Defined in a migration so that an index can hold the folded titles.
FOLD_FUNCTION = "petition_search_fold"


def search_key(text: str) -> str:
    """Text folded for finding similar titles; ZWNJ goes, as people type it, omit it or space it."""
    return " ".join(clean_text(text or "").lower().replace(ZWNJ, "").split())


def folded_in_database(field: str):
    """`search_key` done by PostgreSQL, since titles written in the admin are stored unfolded."""
    return models.Func(F(field), function=FOLD_FUNCTION, output_field=models.CharField())


def title_likeness(query: str, title: str) -> float:
    """pg_trgm's word similarity, near enough, for databases without it."""
    wanted = letter_triples(query)
    if not wanted:
        return 0.0
    return len(wanted & letter_triples(title)) / len(wanted)


def letter_triples(text: str) -> set[str]:
    return {
        padded[i : i + 3]
        for word in text.split()
        for padded in (f"  {word} ",)
        for i in range(len(padded) - 2)
    }


def signable_now() -> Q:
    """The one definition of taking signatures, on the database's clock, which all servers share."""
    return Q(status__in=Petition.Status.SIGNABLE) & (
        Q(closes_at__isnull=True) | Q(closes_at__gt=Now())
    )


class Petition(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        GATHERING = "gathering", _("Gathering supporters")
        PENDING = "pending", _("Waiting for review")
        REJECTED = "rejected", _("Sent back")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    Status.PUBLIC = (Status.OPEN, Status.CLOSED)
    Status.SIGNABLE = (Status.OPEN,)
    # Not while gathering supporters: they back the text they read, so it cannot change under them.
    Status.EDITABLE = (Status.DRAFT, Status.PENDING, Status.REJECTED)

    class RejectionReason(models.TextChoices):
        DUPLICATE = "duplicate", _("There is already a petition asking for this")
        NOT_A_PETITION = "not_a_petition", _("It does not ask a decision maker to do something")
        UNCLEAR = "unclear", _("It is not clear what it asks for or of whom")
        OFFENSIVE = "offensive", _("It is offensive, hateful or abusive")
        PERSONAL = "personal", _("It names or attacks private individuals")
        FALSE = "false", _("It contains claims that are false or misleading")
        ADVERTISING = "advertising", _("It advertises a product, service or business")
        INCOMPLETE = "incomplete", _("It needs more work: the letter or summary is incomplete")
        OTHER = "other", _("Another reason, explained in the note")

        @classmethod
        def label_of(cls, code: str) -> str:
            """In the reader's words; a reason since retired, as it was stored."""
            return cls(code).label if code in cls else code

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        PERSIAN = "fa", _("Persian")

    class SignerList(models.TextChoices):
        """How much of the signers who chose to be shown the page lists."""

        NAMES_AND_PLACES = "full", _("First name, initial and city")
        NAMES = "names", _("First name and initial only")
        NONE = "none", _("No public list of signers")

    class Outcome(models.TextChoices):
        NONE = "", _("None yet")
        WON = "won", _("Won")
        RESPONDED = "responded", _("Responded to")
        DELIVERED = "delivered", _("Delivered")
        CLOSED = "closed", _("Closed without a win")

    class ClosedReason(models.TextChoices):
        """Shown on the closed page; the moderator's note stays in the admin and the audit log."""

        DATE = "date", _("Its closing date came")
        DONE = "done", _("The campaign is over")
        ORGANISER = "organiser", _("Its organiser asked for it to close")
        DUPLICATE = "duplicate", _("Another petition asks for the same thing")
        STANDARDS = "standards", _("It no longer meets the site’s standards")
        OTHER = "other", _("Another reason")

    ClosedReason.BY_MODERATOR = (
        ClosedReason.DONE,
        ClosedReason.ORGANISER,
        ClosedReason.DUPLICATE,
        ClosedReason.STANDARDS,
        ClosedReason.OTHER,
    )

    slug = models.SlugField(
        _("address"), max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    starter_name = models.CharField(
        _("started by"), max_length=120, help_text=_("The name shown as the petition's starter.")
    )
    starter_name_fa = models.CharField(
        _("started by (Persian)"),
        max_length=120,
        blank=True,
        db_default="",
        help_text=_("The starter's name in Persian script, shown on the Persian pages."),
    )
    addressed_to_en = models.CharField(_("addressed to (English)"), max_length=200, blank=True)
    addressed_to_fa = models.CharField(_("addressed to (Persian)"), max_length=200, blank=True)

    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_fa = models.CharField(_("title (Persian)"), max_length=200, blank=True)
    summary_en = models.TextField(_("summary (English)"), max_length=1500, blank=True)
    summary_fa = models.TextField(_("summary (Persian)"), max_length=1500, blank=True)
    letter_en = models.TextField(
        _("letter (English)"),
        max_length=30000,
        blank=True,
        help_text=LIGHT_MARKDOWN,
    )
    letter_fa = models.TextField(
        _("letter (Persian)"),
        max_length=30000,
        blank=True,
        help_text=LIGHT_MARKDOWN,
    )

    original_language = models.CharField(
        _("original language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    single_language = models.BooleanField(
        _("single language"),
        default=False,
        help_text=_(
            "Publish in the language it was written in only, even if the other language is "
            "filled in; the other language's pages say so and link to it."
        ),
    )
    goal = models.PositiveIntegerField(_("goal"), default=1000)
    # The highest quarter of the goal (25, 50, 75, 100) its starter was told of, so that each is
    # told once (petitions/milestones.py).
    goal_percent_told = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    requires_confirmation = models.BooleanField(
        _("signatures need email confirmation"),
        default=False,
        help_text=_(
            "Each new signer gets an email and is counted only after confirming. Leave off for "
            "one-click signing."
        ),
    )

    embed_sites = models.TextField(
        _("sites that may embed it"),
        blank=True,
        max_length=4000,
        validators=[validate_embed_sites],
        help_text=_(
            "One site a line, as https://news.example.org. Only these sites may show the "
            "petition's widget; leave empty to let any site embed it."
        ),
    )

    signer_list = models.CharField(
        _("public list of signers"),
        max_length=5,
        choices=SignerList.choices,
        default=SignerList.NAMES_AND_PLACES,
        db_default=SignerList.NAMES_AND_PLACES,
        help_text=_(
            "What the page shows of signers who chose to be shown. A city is never shown for a "
            "signer in Iran. With no public list, the form does not offer to show a name."
        ),
    )

    # Empty for a petition made in the admin.
    starter_email = models.EmailField(
        _("starter's email"), max_length=254, blank=True, default="", db_default=""
    )
    starter_email_canonical = models.CharField(
        max_length=254, editable=False, default="", db_default=""
    )
    starter_language = models.CharField(
        _("starter's language"),
        max_length=2,
        choices=Language.choices,
        blank=True,
        default="",
        db_default="",
    )
    email_confirmed_at = models.DateTimeField(_("email confirmed"), null=True, blank=True)
    rejection_reason = models.CharField(
        _("reason sent back"),
        max_length=20,
        choices=RejectionReason.choices,
        blank=True,
        default="",
        db_default="",
    )
    moderator_note = models.TextField(
        _("note to the starter"), max_length=2000, blank=True, default="", db_default=""
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    closes_at = models.DateTimeField(
        _("closes"), null=True, blank=True, help_text=_("Leave empty to keep it open.")
    )

    # Signers' personal data is anonymised SIGNATURE_RETENTION_DAYS after closing, unless a
    # moderator holds it (a complaint, a court, an audit); placing and lifting are audited.
    hold_reason = models.TextField(
        _("keep signers’ data: reason"),
        max_length=1000,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "While this has a reason, signers’ names and emails are kept after the retention "
            "period. Empty it to lift the hold. Both are recorded in the audit log."
        ),
    )
    hold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("held by"),
    )
    hold_at = models.DateTimeField(_("held since"), null=True, blank=True, editable=False)
    signers_anonymised_at = models.DateTimeField(
        _("signers anonymised"), null=True, blank=True, editable=False
    )

    # db_default: the benchmark's seed inserts rows by plain SQL.
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=Outcome.choices,
        blank=True,
        default="",
        db_default="",
        help_text=_("Whether signing stays open is the status above: close it if you wish."),
    )
    outcome_date = models.DateField(_("outcome date"), null=True, blank=True)
    response_en = models.TextField(
        _("response (English)"), max_length=10000, blank=True, default="", db_default=""
    )
    response_fa = models.TextField(
        _("response (Persian)"), max_length=10000, blank=True, default="", db_default=""
    )
    response_date = models.DateField(_("response date"), null=True, blank=True)
    response_url = models.URLField(
        _("response source"),
        max_length=500,
        blank=True,
        default="",
        db_default="",
        help_text=_("Where the response was published: a letter, a statement, a record."),
    )
    # Thresholds (petitions/thresholds.py): the site's list unless this is ticked.
    own_thresholds = models.BooleanField(
        _("its own thresholds"),
        default=False,
        db_default=False,
        help_text=_(
            "Leave unticked to use the site’s thresholds. Tick to use only the thresholds listed "
            "below (none at all if the list is empty)."
        ),
    )
    # Why and when it stopped taking signatures, by a moderator or on its closing date; it may
    # come before `closes_at`, and the retention period runs from whichever came first.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_reason = models.CharField(
        _("reason for closing"),
        max_length=12,
        choices=ClosedReason.choices,
        blank=True,
        default="",
        db_default="",
    )
    closed_note = models.TextField(
        _("note on closing"), max_length=2000, blank=True, default="", db_default=""
    )

    objects = PetitionQuerySet.as_manager()
    # What signing reads of a petition: not its letters, which are most of its row.
    SIGNING_FIELDS = ("slug", "status", "closes_at", "requires_confirmation", "signer_list")
    # True for signing_stand_in's petitions, which nobody read.
    stand_in = False
    # What a starter's form writes, and so what a moderator must have read before publishing.
    STARTER_FIELDS = (
        "starter_name",
        "goal",
        "original_language",
        "single_language",
        *(
            f"{name}_{code}"
            for code in LANGUAGE_CODES
            for name in ("addressed_to", *TRANSLATED_FIELDS)
        ),
    )
    REVIEWED_FIELDS = (*STARTER_FIELDS, "starter_name_fa")

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["-opened_at", "-created_at"]
        permissions = [
            ("moderate_petition", gettext_noop("Can publish or send back submitted petitions"))
        ]
        indexes = [
            models.Index(
                fields=["starter_email_canonical"],
                condition=~Q(starter_email_canonical=""),
                name="petition_starter_email",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(goal__gt=0), name="petition_goal_positive"),
            models.CheckConstraint(
                condition=Q(
                    status__in=["draft", "gathering", "pending", "rejected", "open", "closed"]
                ),
                name="petition_status_valid",
            ),
            # A public petition is complete in at least one language.
            models.CheckConstraint(
                condition=~Q(status__in=["open", "closed"])
                | (~Q(title_en="") & ~Q(summary_en="") & ~Q(letter_en=""))
                | (~Q(title_fa="") & ~Q(summary_fa="") & ~Q(letter_fa="")),
                name="petition_public_in_a_language",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["", "won", "responded", "delivered", "closed"]),
                name="petition_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    closed_reason__in=[
                        "",
                        "date",
                        "done",
                        "organiser",
                        "duplicate",
                        "standards",
                        "other",
                    ]
                ),
                name="petition_closed_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        # The admin's filters, breadcrumbs and headings name it in the reader's language.
        if translation.get_language() == "fa":
            return self.title_fa or self.title_en or self.slug
        return self.title_en or self.title_fa or self.slug

    def save(self, *args, **kwargs):
        if self.status == self.Status.OPEN and self.opened_at is None:
            self.opened_at = timezone.now()
        if self.status == self.Status.CLOSED and self.closed_at is None:
            self.closed_at = timezone.now()
        elif self.status != self.Status.CLOSED and self.closed_at is not None:
            # Opened again: the last closing is history, kept in the audit log.
            self.closed_at, self.closed_reason, self.closed_note = None, "", ""
        if kwargs.get("update_fields"):
            closing = {"closed_at", "closed_reason", "closed_note"}
            kwargs["update_fields"] = {*kwargs["update_fields"], *closing}
        if self.outcome and self.outcome_date is None:
            self.outcome_date = timezone.localdate()
        super().save(*args, **kwargs)
        # count.json carries the outcome.
        counts = [cache.count_key(self.slug), cache.recent_key(self.pk)]
        keys = [cache.signing_facts_key(self.slug), cache.edition_key(self.slug)]
        # Now for readers inside this transaction, and again after it for everyone else.
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys + counts))

    def get_absolute_url(self) -> str:
        return reverse("petitions:detail", kwargs={"slug": self.slug})

    def card(self, count: int, language: str) -> dict:
        """What a list of petitions shows of this one to a reader of `language`: in the page's
        language it has, else in the other, said so."""
        page_language = self.page_language(language)
        return {
            "petition": self,
            "text": self.in_language(page_language),
            "url": self.url_in(page_language),
            "only_in": page_language if page_language != language else "",
            "count": count,
            "goal": self.goal_for(count),
        }

    def close(self, *, by, reason: str, note: str = "", at=None) -> None:
        """Stop taking signatures, for a reason shown on the page; the page stays. `at` is when
        it stopped, if before now (its closing date)."""
        if reason not in self.ClosedReason.values:
            raise ValueError(f"Not a reason for closing: {reason!r}")
        with transaction.atomic():
            self.status = self.Status.CLOSED
            self.closed_at = at or timezone.now()
            self.closed_reason = reason
            self.closed_note = note.strip()
            fields = ["status", "closed_at", "closed_reason", "closed_note", "updated_at"]
            self.save(update_fields=fields)
            audit.record(
                by, audit.Action.PETITION_CLOSED, self, closed_because=reason, note=self.closed_note
            )

    @property
    def starter(self) -> str:
        if translation.get_language() == "fa" and self.starter_name_fa:
            return self.starter_name_fa
        return self.starter_name

    @classmethod
    def signing_stand_in(cls, pk: int, slug: str) -> "Petition":
        """The petition a sign form's token names, as signing assumes it before its one statement
        checks it: open, with this id under this slug, asking no confirmation, with a public list
        the signer may choose to join. Nothing is read; where any of it is wrong the statement
        writes nothing and signing reads the petition (signatures/signing.py)."""
        known = {
            "id": pk,
            "slug": slug,
            "status": cls.Status.OPEN,
            "closes_at": None,
            "requires_confirmation": False,
            "signer_list": cls.SignerList.NAMES,
        }
        # from_db takes the values in the model's field order.
        names = [field.attname for field in cls._meta.concrete_fields if field.attname in known]
        petition = cls.from_db("default", names, [known[name] for name in names])
        petition.is_signable = True
        petition.stand_in = True
        return petition

    def get_thanks_url(self) -> str:
        return reverse("petitions:thanks", kwargs={"slug": self.slug})

    def get_embed_url(self) -> str:
        return reverse("petitions:embed", kwargs={"slug": self.slug})

    def get_embed_thanks_url(self) -> str:
        return reverse("petitions:embed_thanks", kwargs={"slug": self.slug})

    def frame_ancestors(self) -> list[str]:
        """Who may frame the widget, for CSP's frame-ancestors: the listed sites, or anyone."""
        return embed_origins(self.embed_sites) or ["*"]

    def url_in(self, language: str) -> str:
        with translation.override(language):
            return self.get_absolute_url()

    def sheet_url_in(self, language: str) -> str:
        """The printable signature sheet (petitions/sheet.py) in `language`."""
        with translation.override(language):
            return reverse("petitions:sheet", kwargs={"slug": self.slug})

    # -- state -------------------------------------------------------------------------------

    @property
    def lists_signers(self) -> bool:
        """Whether the page lists signers who chose to be shown (and the form offers the choice)."""
        return self.signer_list != self.SignerList.NONE

    @property
    def lists_places(self) -> bool:
        """Whether the list shows signers' cities (never for a signer in Iran)."""
        return self.signer_list == self.SignerList.NAMES_AND_PLACES

    @property
    def has_response(self) -> bool:
        return bool(self.response_en.strip() or self.response_fa.strip())

    @property
    def is_public(self) -> bool:
        return self.status in self.Status.PUBLIC

    @cached_property
    def is_signable(self) -> bool:
        """Annotated by `with_signable()`, or else asked of the database once per instance."""
        if self.pk is None:
            return False
        return Petition.objects.signable().filter(pk=self.pk).exists()

    def goal_for(self, count: int) -> int:
        return next_goal(count, self.goal)

    @property
    def is_started_by_public(self) -> bool:
        return bool(self.starter_email_canonical)

    @property
    def closed_since(self) -> datetime.datetime | None:
        """When it stopped taking signatures: its closing date once passed, or when a moderator
        closed it, whichever came first."""
        now = timezone.now()
        passed = self.closes_at if self.closes_at and self.closes_at <= now else None
        return min(filter(None, (passed, self.closed_at)), default=None)

    @property
    def signers_anonymised_on(self) -> datetime.datetime | None:
        """When its signers' data is due to be anonymised, held or not; None while it is open."""
        closed = self.closed_since
        if closed is None:
            return None
        return closed + datetime.timedelta(days=settings.SIGNATURE_RETENTION_DAYS)

    def set_hold(self, reason: str, *, by) -> None:
        """Place (or change) a hold on anonymising the signers, or lift it with an empty reason;
        saved and audited together. The reason is in the audit entry: it names no signer."""
        reason = reason.strip()
        with transaction.atomic():
            self.hold_reason = reason
            user = by if getattr(by, "pk", None) else None  # or an operator named by a string
            self.hold_by, self.hold_at = (user, timezone.now()) if reason else (None, None)
            self.save(update_fields=["hold_reason", "hold_by", "hold_at", "updated_at"])
            action = audit.Action.RETENTION_HELD if reason else audit.Action.RETENTION_RELEASED
            audit.record(by, action, self, reason=reason)

    @property
    def reviewed_version(self) -> str:
        return version_of(self, self.REVIEWED_FIELDS)

    @property
    def edit_version(self) -> str:
        """What an organiser's form must not overwrite unseen: the reviewed text and the state."""
        return version_of(self, (*self.REVIEWED_FIELDS, "status", "slug"))

    def is_complete_in(self, language: str) -> bool:
        return all(getattr(self, f"{name}_{language}").strip() for name in TRANSLATED_FIELDS)

    def is_partly_in(self, language: str) -> bool:
        return any(getattr(self, f"{name}_{language}").strip() for name in TRANSLATED_FIELDS)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages it is published in: each complete one, or only the original if chosen."""
        complete = tuple(code for code in LANGUAGE_CODES if self.is_complete_in(code))
        if self.single_language and self.original_language in complete:
            return (self.original_language,)
        return complete

    def page_language(self, language: str) -> str:
        """`language` if the petition is published in it, else the language it is in."""
        languages = self.languages
        if language in languages or not languages:
            return language
        return languages[0]

    def missing_translations(self) -> list[str]:
        return [
            f"{name}_{lang}"
            for name in TRANSLATED_FIELDS
            for lang in LANGUAGE_CODES
            if not getattr(self, f"{name}_{lang}").strip()
        ]

    def clean(self):
        errors = {}
        original = self.original_language
        for name in TRANSLATED_FIELDS:
            if not getattr(self, f"{name}_{original}").strip():
                errors[f"{name}_{original}"] = _(
                    "Write this in the language the petition was written in."
                )
        if self.status in self.Status.PUBLIC and not self.single_language:
            half_done = [
                code
                for code in LANGUAGE_CODES
                if self.is_partly_in(code) and not self.is_complete_in(code)
            ]
            for field in self.missing_translations():
                if field.rsplit("_", 1)[1] in half_done:
                    errors.setdefault(
                        field,
                        _(
                            "A language is published with its title, summary and letter. Fill "
                            "this in, empty that language's other fields, or tick “single "
                            "language”."
                        ),
                    )
        if self.embed_sites:
            self.embed_sites = "\n".join(embed_origins(self.embed_sites))
        if self.closes_at and self.opened_at and self.closes_at <= self.opened_at:
            errors["closes_at"] = _("The closing date must come after the opening date.")
        if errors:
            raise ValidationError(errors)

    # -- text in a language ---------------------------------------------------------------------

    def text(self, name: str, language: str) -> LocalisedText:
        return localised(self, name, language)

    def in_language(self, language: str) -> "LocalisedPetition":
        return LocalisedPetition(self, language)


class LocalisedPetition:
    """The petition as one language's page shows it, with fallbacks resolved."""

    def __init__(self, petition: Petition, language: str):
        self.petition = petition
        self.language = language

    @cached_property
    def title(self) -> LocalisedText:
        return self.petition.text("title", self.language)

    @cached_property
    def summary(self) -> LocalisedText:
        return self.petition.text("summary", self.language)

    @cached_property
    def summary_excerpt(self) -> str:
        """The summary cut to 40 words, for link previews."""
        return Truncator(self.summary.value).words(40)

    @cached_property
    def addressed_to(self) -> LocalisedText:
        return self.petition.text("addressed_to", self.language)

    @cached_property
    def response(self) -> LocalisedText:
        return self.petition.text("response", self.language)

    @cached_property
    def kept_html(self) -> tuple[str, ...]:
        """Letter, other letter and response as HTML in one cache read; a petition not yet public
        renders them uncached, lest each preview of a new text fill the cache."""
        texts = (
            self.letter.value,
            self.other_letter.value if self.other_letter else "",
            self.response.value,
        )
        if self.petition.is_public:
            return tuple(kept_letters(*texts))
        return tuple(render_letter(text) for text in texts)

    @cached_property
    def response_html(self) -> str:
        return self.kept_html[2]

    @cached_property
    def letter(self) -> LocalisedText:
        return self.petition.text("letter", self.language)

    @cached_property
    def letter_html(self) -> str:
        return self.kept_html[0]

    @cached_property
    def other_letter(self) -> LocalisedText | None:
        """The letter in the other language, when it really exists."""
        other = other_language(self.language)
        text = self.petition.text("letter", other)
        if text.is_fallback or text.value == self.letter.value:
            return None
        return text

    @cached_property
    def other_letter_html(self) -> str:
        return self.kept_html[1]


def delivery_storage():
    """A private directory, never served: staff download packs through the admin."""
    return FileSystemStorage(location=settings.DELIVERY_PACK_ROOT)


class DeliveryPack(models.Model):
    """The petition as handed to the decision maker, as PDF and CSV (petitions/delivery.py)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    petition = models.ForeignKey(
        Petition,
        on_delete=models.CASCADE,
        related_name="delivery_packs",
        verbose_name=_("petition"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    signatures = models.PositiveIntegerField(_("signatures"), default=0)
    names_total = models.PositiveIntegerField(_("names to list"), default=0)
    names_done = models.PositiveIntegerField(_("names listed"), default=0)
    pdf = models.FileField(_("PDF"), storage=delivery_storage, blank=True)
    csv = models.FileField(_("CSV"), storage=delivery_storage, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    # The Merkle tree over the counted signatures' receipts (petitions/merkle.py), printed in the
    # pack with `signatures` (its leaves) and `made_at`, the date the pack states.
    merkle_root = models.BinaryField(_("Merkle root"), max_length=32, null=True, editable=False)
    made_at = models.DateTimeField(_("dated"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery pack")
        verbose_name_plural = _("delivery packs")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        when = persian.format_datetime(self.requested_at, translation.get_language())
        return f"{self.petition} · {when}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.names_total:
            return 0
        return min(99, self.names_done * 100 // self.names_total)


class TreeChunk(models.Model):
    """A run of one level of a pack's Merkle tree, kept in the database so that any app server
    answers a proof from a few rows, without the whole tree or a file of its own. Level 0 holds
    the receipt hashes themselves, in order (a proof hashes the two it needs); each level above,
    its node hashes."""

    # Nodes a chunk holds: a proof reads one chunk a level, so this many bytes times 32 each.
    SIZE = 2048

    pack = models.ForeignKey(
        DeliveryPack, on_delete=models.CASCADE, related_name="tree_chunks", db_index=False
    )
    level = models.PositiveSmallIntegerField()
    index = models.PositiveIntegerField()
    # Level 0 only: the chunk's first receipt hash, by which a receipt finds its chunk.
    first = models.BinaryField(max_length=32, null=True)
    nodes = models.BinaryField()

    class Meta:
        verbose_name = _("Merkle tree chunk")
        verbose_name_plural = _("Merkle tree chunks")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["pack", "level", "index"], name="tree_chunk_unique")
        ]
        indexes = [
            models.Index(fields=["pack", "first"], condition=Q(level=0), name="tree_chunk_first")
        ]

    def __str__(self) -> str:
        return f"{self.pack_id}/{self.level}/{self.index}"


class ReviewQueue(Petition):
    """The admin's moderation queue, listed apart."""

    class Meta:
        proxy = True
        verbose_name = _("petition waiting for review")
        verbose_name_plural = _("petitions waiting for review")
        default_permissions = ()


class UpdateQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Update.Status.PUBLISHED)

    def ordinary(self):
        """Written by the campaign, not a milestone the site announced (petitions/milestones.py)."""
        return self.filter(milestone=Update.Milestone.NONE)

    def milestones(self):
        return self.exclude(milestone=Update.Milestone.NONE)

    def emailed_since(self, petition_id: int, since):
        # The pause between emails is the campaign's: a milestone does not hold its updates back.
        return self.ordinary().filter(petition_id=petition_id, email_started_at__gte=since)


class Update(models.Model):
    """News to supporters: approved by a moderator, shown on the page, optionally emailed."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting approval")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected")

    class Email(models.TextChoices):
        NONE = "none", _("Not emailed")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Sent")

    Email.STOPPABLE = (Email.SENDING, Email.PAUSED)

    class Milestone(models.TextChoices):
        """What the site itself announced (petitions/milestones.py); blank for the campaign's
        own updates."""

        NONE = "", _("Update")
        THRESHOLD = "threshold", _("Milestone: a threshold reached")
        RESPONSE = "response", _("Milestone: the response published")
        OUTCOME = "outcome", _("Milestone: the outcome published")
        CLOSED = "closed", _("Milestone: the petition closed")

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="updates", verbose_name=_("petition")
    )
    # Written by the system, already approved, never on the page's list of updates; its email's
    # words come from the milestone templates in each signer's language, not from these fields.
    milestone = models.CharField(
        _("kind"),
        max_length=10,
        choices=Milestone.choices,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    # What makes it once only per petition: the threshold's number, "response", the outcome
    # announced, "closed".
    milestone_key = models.CharField(
        _("milestone"), max_length=40, blank=True, default="", db_default="", editable=False
    )
    # The threshold's number, or the final count of a closed petition.
    milestone_number = models.PositiveIntegerField(
        _("milestone number"), null=True, blank=True, editable=False
    )
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_fa = models.CharField(_("title (Persian)"), max_length=200, blank=True)
    body_en = models.TextField(
        _("text (English)"),
        max_length=10000,
        blank=True,
        help_text=LIGHT_MARKDOWN,
    )
    body_fa = models.TextField(
        _("text (Persian)"),
        max_length=10000,
        blank=True,
        help_text=LIGHT_MARKDOWN,
    )
    email_signers = models.BooleanField(
        _("email it to the signers"),
        default=False,
        help_text=_(
            "Sent once approved, to the counted signers who agreed to hear about this campaign, "
            "each in the language they signed in."
        ),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )

    # The email's progress; a moderator's pause or cancel stops the workers at the next message.
    email_state = models.CharField(
        _("email"), max_length=10, choices=Email.choices, default=Email.NONE
    )
    email_started_at = models.DateTimeField(_("email started"), null=True, blank=True)
    email_finished_at = models.DateTimeField(_("email finished"), null=True, blank=True)
    cap_overridden = models.BooleanField(
        _("sent despite the pause between emails"), default=False, editable=False
    )

    objects = UpdateQuerySet.as_manager()

    class Meta:
        verbose_name = _("update")
        verbose_name_plural = _("updates")
        ordering = ["-published_at", "-created_at"]
        indexes = [
            models.Index(fields=["petition", "status", "-published_at"], name="update_timeline")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(~Q(title_en="") & ~Q(body_en="")) | (~Q(title_fa="") & ~Q(body_fa="")),
                name="update_written_in_a_language",
                # The only check: the form shows this message.
                violation_error_message=_("Write a title and a text in at least one language."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "published", "rejected"]),
                name="update_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(milestone__in=["", "threshold", "response", "outcome", "closed"]),
                name="update_milestone_valid",
            ),
            # However many passes and admin saves run at once, a milestone is announced once.
            models.UniqueConstraint(
                fields=["petition", "milestone_key"],
                condition=~Q(milestone=""),
                name="update_milestone_once",
            ),
        ]
        permissions = [
            ("moderate_update", gettext_noop("Can approve updates and control their emails"))
        ]

    def __str__(self) -> str:
        if self.milestone and translation.get_language() == "fa":
            return self.title_fa  # the site wrote both
        return self.title_en or self.title_fa

    REVIEWED_FIELDS = ("petition_id", "title_en", "title_fa", "body_en", "body_fa", "email_signers")

    @property
    def reviewed_version(self) -> str:
        return version_of(self, self.REVIEWED_FIELDS)

    def text(self, name: str, language: str) -> LocalisedText:
        return localised(self, name, language)

    def body_html(self, language: str) -> str:
        return kept_letters(self.text("body", language).value)[0]


class DeliveryQuerySet(models.QuerySet):
    def progress(self) -> dict[str, int]:
        rows = self.values_list("state").annotate(n=models.Count("pk")).order_by()
        counts = dict.fromkeys(Delivery.State.values, 0)
        counts.update(dict(rows))
        return counts


class Delivery(models.Model):
    """One update's email to one signer: the outbox row that makes the send exactly once
    (petitions/mailing.py). A worker claims a chunk, marks each row `sending` just before handing
    it to the mail server and `sent` once the server took it, so a worker killed at any moment
    leaves at most one row whose fate it never learnt. Such a row is `uncertain` and never sent
    again on its own: a signer must not get the update twice."""

    class State(models.TextChoices):
        QUEUED = "queued", _("To send")
        CLAIMED = "claimed", _("Being sent")
        SENDING = "sending", _("With the mail server")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (unsubscribed or invalidated)")
        UNCERTAIN = "uncertain", _("Uncertain (the worker stopped mid-message)")
        CANCELLED = "cancelled", _("Cancelled")
        # A milestone for a signer who had one in the last day: due once the day is over.
        HELD = "held", _("Held (one milestone a day)")

    State.WAITING = (State.QUEUED, State.CLAIMED, State.SENDING, State.HELD)

    update = models.ForeignKey(
        Update, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # An erased signature's deliveries go with it, so no send can reach it after.
    signature = models.ForeignKey(
        "signatures.Signature", on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A queued row is not claimed before this (a retry's pause); a claimed or sending one is its
    # worker's until this, and the exact value tells the worker's rows from any other's.
    due_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("update email")
        verbose_name_plural = _("update emails")
        constraints = [
            models.UniqueConstraint(fields=["update", "signature"], name="delivery_once"),
        ]
        indexes = [models.Index(fields=["update", "state", "id"], name="delivery_to_send")]

    def __str__(self) -> str:
        return f"{self.update_id} → {self.signature_id}: {self.state}"


class CosponsorQuerySet(models.QuerySet):
    def forget(self, email_canonical: str) -> int:
        """Erase someone's support on request, on every petition: not yet a signature, so
        nothing to count down. Returns how many."""
        deleted, _by_model = self.filter(email_canonical=email_canonical).delete()
        return deleted

    def counting(self):
        """The supporters who count towards sending a petition for review: confirmed, and not its
        starter under another spelling of their address."""
        return self.filter(confirmed_at__isnull=False).exclude(
            email_canonical=F("petition__starter_email_canonical")
        )


class Cosponsor(models.Model):
    """Someone the starter asked to back their petition before a moderator reads it
    (petitions/cosponsors.py). Once it is published each counting one becomes a signature."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="cosponsors", verbose_name=_("petition")
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=254)
    email_canonical = models.CharField(max_length=254, editable=False)
    country = models.CharField(_("country"), max_length=2)
    language = models.CharField(_("language"), max_length=2, choices=Petition.Language.choices)
    ip_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("signed at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CosponsorQuerySet.as_manager()

    class Meta:
        verbose_name = _("supporter before review")
        verbose_name_plural = _("supporters before review")
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "email_canonical"], name="cosponsor_one_per_email"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Threshold(models.Model):
    """A number of signatures that obliges someone to something: the site's list (no petition),
    or a petition's own when it has `own_thresholds`."""

    petition = models.ForeignKey(
        Petition,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="thresholds",
        verbose_name=_("petition"),
    )
    number = models.PositiveIntegerField(
        _("signatures"), validators=[MinValueValidator(1)], help_text=_("A whole number above 0.")
    )
    # One language may be left empty: the page then shows the other, marked with its own
    # language and direction, as for every organiser's text (`localised`).
    consequence_en = models.CharField(
        _("consequence (English)"),
        max_length=200,
        blank=True,
        help_text=_("What happens at this number, e.g. “a written response from the ministry”."),
    )
    consequence_fa = models.CharField(
        _("consequence (Persian)"),
        max_length=200,
        blank=True,
        help_text=_("The same in Persian, e.g. «پاسخ کتبی وزارت»."),
    )
    owes_response = models.BooleanField(
        _("calls for a response"),
        default=False,
        help_text=_(
            "Once reached, the petition is listed as awaiting a response until it has one."
        ),
    )
    deadline_days = models.PositiveSmallIntegerField(
        _("days to respond"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Listed as overdue after this many days. Leave empty for no deadline."),
    )

    class Meta:
        verbose_name = _("threshold")
        verbose_name_plural = _("thresholds")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gt=0), name="threshold_number_positive"),
            models.UniqueConstraint(
                fields=["petition", "number"],
                name="threshold_once_per_petition",
                violation_error_message=_("This list already has a threshold at this number."),
            ),
            models.UniqueConstraint(
                fields=["number"],
                condition=Q(petition__isnull=True),
                name="threshold_once_on_the_site",
                violation_error_message=_("The site already has a threshold at this number."),
            ),
            models.CheckConstraint(
                condition=~Q(consequence_en="") | ~Q(consequence_fa=""),
                name="threshold_consequence_written",
                violation_error_message=_("Write the consequence in at least one language."),
            ),
        ]

    def __str__(self) -> str:
        language = translation.get_language() or "en"
        return f"{persian.format_number(self.number, language)}: {self.consequence(language)}"

    def consequence(self, language: str) -> LocalisedText:
        return localised(self, "consequence", language)


class SiteThreshold(Threshold):
    """The site's list, apart in the admin from the petitions' own."""

    class Meta:
        proxy = True
        verbose_name = _("site threshold")
        verbose_name_plural = _("site thresholds")


class ThresholdReached(models.Model):
    """A petition reached a threshold: dated, with the consequence as it was promised then, so a
    later edit of the list changes no promise already made. Later work (a milestone email) can
    hang off these rows."""

    petition = models.ForeignKey(
        Petition,
        on_delete=models.CASCADE,
        related_name="thresholds_reached",
        verbose_name=_("petition"),
    )
    number = models.PositiveIntegerField(_("signatures"))
    consequence_en = models.CharField(_("consequence (English)"), max_length=200, blank=True)
    consequence_fa = models.CharField(_("consequence (Persian)"), max_length=200, blank=True)
    owes_response = models.BooleanField(_("calls for a response"), default=False)
    count = models.PositiveIntegerField(_("count when seen"))
    reached_at = models.DateTimeField(_("reached"), default=timezone.now)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)

    class Meta:
        verbose_name = _("threshold reached")
        verbose_name_plural = _("thresholds reached")
        ordering = ["petition", "number"]
        constraints = [
            models.UniqueConstraint(fields=["petition", "number"], name="threshold_reached_once")
        ]

    def __str__(self) -> str:
        language = translation.get_language() or "en"
        return f"{self.petition} · {persian.format_number(self.number, language)}"

    def consequence(self, language: str) -> LocalisedText:
        return localised(self, "consequence", language)

    @property
    def is_overdue(self) -> bool:
        return self.respond_by is not None and self.respond_by < timezone.now()
