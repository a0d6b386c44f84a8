from functools import lru_cache

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.forms.utils import flatatt
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from lib.forms import BotCheckMixin
from lib.normalise import clean_code, name_problem
from lib.persian import clean_text, collation_key

from .models import Signature

# English is spoken in too many places to guess a country from.
COUNTRY_GUESS = {"fa": "IR"}

NAME_PROBLEMS = {
    "formula": _("Please write your name without a leading = + - or @."),
    "url": _("Please write your name, not a web address."),
    "letters": _("Please write your name in letters."),
}


def clean_person_name(value: str) -> str:
    name = clean_text(value)
    if not name:
        raise forms.ValidationError(_("Please write your name."), code="required")
    problem = name_problem(name)
    if problem:
        raise forms.ValidationError(NAME_PROBLEMS[problem], code=problem)
    return name


@lru_cache(maxsize=8)
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """Sorted in `language`'s own alphabet, the guessed country first."""
    with translation.override(language):
        named = sorted(((code, str(name)) for code, name in countries), key=_by_name)
    guess = COUNTRY_GUESS.get(language)
    first = [pair for pair in named if pair[0] == guess]
    rest = [pair for pair in named if pair[0] != guess]
    return (("", "—"), *first, *rest)


def _by_name(pair: tuple[str, str]) -> str:
    return collation_key(pair[1])


@lru_cache(maxsize=8)
def _country_options_html(language: str) -> str:
    return format_html_join("", '<option value="{}">{}</option>', country_choices(language))


class CountrySelect(forms.Select):
    """Cached HTML per language: Django's per-option templates were most of the page's time."""

    def render(self, name, value, attrs=None, renderer=None):
        options = _country_options_html(translation.get_language())
        chosen = format_html('<option value="{}">', value or "")
        options = options.replace(chosen, chosen[:-1] + " selected>", 1)
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final_attrs),
            mark_safe(options),  # noqa: S308 - built from escaped parts above
        )


class CountryChoiceField(forms.ChoiceField):
    """Validates codes without building a choice list per request."""

    codes = frozenset(code for code, _name in countries)

    def valid_value(self, value) -> bool:
        return value in self.codes


class SignForm(BotCheckMixin, forms.Form):
    name = forms.CharField(
        label=_("Your name"),
        max_length=Signature._meta.get_field("name").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "name", "dir": "auto"}),
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        help_text=_("Never shown. We use it only to count you once."),
        widget=forms.EmailInput(
            attrs={
                "autocomplete": "email",
                "dir": "ltr",
                "inputmode": "email",
                "spellcheck": "false",
            }
        ),
    )
    country = CountryChoiceField(label=_("Country"), widget=CountrySelect)
    locality = forms.CharField(
        label=_("City or postcode"),
        required=False,
        max_length=Signature._meta.get_field("locality").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2", "dir": "auto"}),
    )
    comment = forms.CharField(
        label=_("Why are you signing?"),
        required=False,
        max_length=Signature._meta.get_field("comment").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )
    show_name = forms.BooleanField(
        label=_("Show my first name and initial on this petition"),
        help_text=_(
            "Left unticked, you are counted but not named: a name on a public list can put "
            "someone in Iran, or their family, in danger."
        ),
        required=False,
        # Unticked for everyone, not only once Iran is chosen: that takes the page's script, which
        # Tor Browser's "Safest" mode does not run.
        initial=False,
    )
    consent_contact = forms.BooleanField(
        label=_("Email me about this campaign. The organiser will see my name and email."),
        required=False,
        initial=False,
    )

    honeypot_message = _("Something went wrong. Please press Sign again.")
    too_fast_message = _("Please check your details and press Sign again.")

    def __init__(
        self, *args, petition_id: int, language: str = "en", lists_signers: bool = True, **kwargs
    ):
        # The templates write the labels themselves, without Django's translated ":".
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.form_id = petition_id
        if not lists_signers:
            # A petition without a public list shows no one: nothing to choose.
            del self.fields["show_name"]
        if not self.is_bound and language in COUNTRY_GUESS:
            self.initial.setdefault("country", COUNTRY_GUESS[language])

    @property
    def min_fill_seconds(self) -> float:
        return settings.SIGN_MIN_FILL_SECONDS

    def clean_name(self) -> str:
        return clean_person_name(self.cleaned_data["name"])

    def clean_email(self) -> str:
        email = clean_code(self.cleaned_data["email"]).replace(" ", "")
        try:
            validate_email(email)
        except ValidationError as exc:
            raise forms.ValidationError(
                _("Please check your email address."), code="invalid"
            ) from exc
        return email

    def clean_locality(self) -> str:
        return clean_code(self.cleaned_data["locality"])

    def clean_comment(self) -> str:
        return clean_text(self.cleaned_data["comment"], multiline=True)

    def clean(self):
        cleaned = super().clean()
        # NFKC can lengthen text, so the limits are checked again on what will be stored.
        for name in ("name", "email", "locality", "comment"):
            if name not in self.fields:  # a shorter form built on this one
                continue
            limit = self.fields[name].max_length
            if limit and len(cleaned.get(name) or "") > limit:
                self.add_error(name, _("This is too long."))
        return cleaned
