import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from .goals import next_goal
from .text import render_letter

LANGUAGE_CODES = ("en", "fa")
RTL_LANGUAGES = frozenset({"fa"})
# Fields an organiser writes once per language; `<name>_en` and `<name>_fa` on the model.
TRANSLATED_FIELDS = ("title", "summary", "letter")


# A site that may frame the widget, as CSP's frame-ancestors takes it: a scheme and a host (ASCII,
# punycode for other scripts), optionally a port or a leading "*." for every subdomain; no path.
EMBED_ORIGIN = re.compile(r"https?://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?")


def embed_origins(value: str) -> list[str]:
    """The origins of an `embed_sites` text, one a line, lower case, without a trailing slash."""
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
    """A piece of organiser text together with the language it is really written in.

    Templates put `lang` and `dir` on the element that holds it, so a Persian page that falls back
    to the English title still reads that title left-to-right and a screen reader pronounces it in
    English.
    """

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


class PetitionQuerySet(models.QuerySet):
    def public(self):
        """Petitions anyone may read: drafts stay with their organisers."""
        return self.filter(status__in=Petition.Status.PUBLIC)

    def signable(self):
        """Petitions taking signatures right now."""
        return self.filter(signable_now())

    def with_signable(self):
        """Each petition with `is_signable` read in the same query, as the database sees it now."""
        return self.annotate(is_signable=ExpressionWrapper(signable_now(), BooleanField()))


def signable_now() -> Q:
    """The one definition of a petition that takes signatures: open, and not past its closing
    time. Evaluated by the database, whose clock is the one every app server shares."""
    return Q(status__in=Petition.Status.SIGNABLE) & (
        Q(closes_at__isnull=True) | Q(closes_at__gt=Now())
    )


class Petition(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    Status.PUBLIC = (Status.OPEN, Status.CLOSED)
    Status.SIGNABLE = (Status.OPEN,)

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        PERSIAN = "fa", _("Persian")

    slug = models.SlugField(_("address"), max_length=80, unique=True, allow_unicode=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    starter_name = models.CharField(
        _("started by"), max_length=120, help_text=_("The name shown as the petition's starter.")
    )
    # The starter's name as Persian readers write it (issue 21); empty shows starter_name.
    starter_name_fa = models.CharField(
        _("started by (Persian)"),
        max_length=120,
        blank=True,
        db_default="",
        help_text=_("The starter's name in Persian script, shown on the Persian pages."),
    )
    addressed_to_en = models.CharField(_("addressed to (English)"), max_length=200)
    addressed_to_fa = models.CharField(_("addressed to (Persian)"), max_length=200, blank=True)

    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    title_fa = models.CharField(_("title (Persian)"), max_length=200, blank=True)
    summary_en = models.TextField(_("summary (English)"), max_length=1500, blank=True)
    summary_fa = models.TextField(_("summary (Persian)"), max_length=1500, blank=True)
    letter_en = models.TextField(
        _("letter (English)"),
        max_length=30000,
        blank=True,
        help_text=_("Plain text or light Markdown. A blank line starts a new paragraph."),
    )
    letter_fa = models.TextField(
        _("letter (Persian)"),
        max_length=30000,
        blank=True,
        help_text=_("Plain text or light Markdown. A blank line starts a new paragraph."),
    )

    original_language = models.CharField(
        _("written in"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    single_language = models.BooleanField(
        _("single language"),
        default=False,
        help_text=_(
            "Publish in the language it was written in only; the other language's pages show "
            "that text."
        ),
    )
    goal = models.PositiveIntegerField(_("goal"), default=1000)
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

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    closes_at = models.DateTimeField(
        _("closes"), null=True, blank=True, help_text=_("Leave empty to keep it open.")
    )

    objects = PetitionQuerySet.as_manager()
    # What signing reads of a petition: not its letters, which are most of its row.
    SIGNING_FIELDS = ("slug", "status", "closes_at", "requires_confirmation")

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["-opened_at", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(goal__gt=0), name="petition_goal_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "closed"]), name="petition_status_valid"
            ),
            # Publishing half a petition is a database error, not just a form error: both
            # languages are filled unless the organiser chose to publish in one.
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(single_language=True)
                | (
                    ~Q(title_en="")
                    & ~Q(title_fa="")
                    & ~Q(summary_en="")
                    & ~Q(summary_fa="")
                    & ~Q(letter_en="")
                    & ~Q(letter_fa="")
                ),
                name="petition_published_in_both_languages",
            ),
        ]

    def __str__(self) -> str:
        # In the reader's language where it has one: the admin's filters, breadcrumbs and
        # headings name the petition the way a Persian moderator reads it (issue 21).
        if translation.get_language() == "fa":
            return self.title_fa or self.title_en or self.slug
        return self.title_en or self.title_fa or self.slug

    def save(self, *args, **kwargs):
        if self.status == self.Status.OPEN and self.opened_at is None:
            self.opened_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("petitions:detail", kwargs={"slug": self.slug})

    @property
    def starter(self) -> str:
        """The starter's name for the page being shown: in Persian script on Persian pages."""
        if translation.get_language() == "fa" and self.starter_name_fa:
            return self.starter_name_fa
        return self.starter_name

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

    # -- state -------------------------------------------------------------------------------

    @property
    def is_public(self) -> bool:
        return self.status in self.Status.PUBLIC

    @cached_property
    def is_signable(self) -> bool:
        """Whether it takes signatures now. Read with the row by `with_signable()`, or else asked of
        the database once per instance: the rule itself is `signable_now()`."""
        if self.pk is None:
            return False
        return Petition.objects.signable().filter(pk=self.pk).exists()

    def goal_for(self, count: int) -> int:
        """The goal shown beside `count` signatures: the organiser's, then the next rung."""
        return next_goal(count, self.goal)

    def missing_translations(self) -> list[str]:
        """Names of the fields left empty, as `title_fa`."""
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
        if self.status != self.Status.DRAFT and not self.single_language:
            for field in self.missing_translations():
                errors.setdefault(
                    field,
                    _(
                        "An open petition needs both languages. Fill this in, or tick "
                        "“single language”."
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
        """`name` in `language`, or in the other language when the organiser left it empty."""
        value = getattr(self, f"{name}_{language}", "")
        if value.strip():
            return LocalisedText(value, language, language)
        other = other_language(language)
        return LocalisedText(getattr(self, f"{name}_{other}", ""), other, language)

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
        """The summary cut to 40 words, for link previews (computed once, used three times)."""
        return Truncator(self.summary.value).words(40)

    @cached_property
    def addressed_to(self) -> LocalisedText:
        return self.petition.text("addressed_to", self.language)

    @cached_property
    def letter(self) -> LocalisedText:
        return self.petition.text("letter", self.language)

    @cached_property
    def letter_html(self) -> str:
        return render_letter(self.letter.value)

    @cached_property
    def other_letter(self) -> LocalisedText | None:
        """The letter in the other language, shown below the first, when it really exists."""
        other = other_language(self.language)
        text = self.petition.text("letter", other)
        if text.is_fallback or text.value == self.letter.value:
            return None
        return text

    @cached_property
    def other_letter_html(self) -> str:
        return render_letter(self.other_letter.value) if self.other_letter else ""
