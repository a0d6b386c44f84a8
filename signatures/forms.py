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

from .abuse import form_started_token, seconds_since
from .models import Signature
from .normalise import canonical_email, clean_code, clean_text, name_problem

# Where the page's language makes a fair guess at the signer's country. English is spoken in too
# many places to guess.
COUNTRY_GUESS = {"fa": "IR"}

NAME_PROBLEMS = {
    "formula": _("Please write your name without a leading = + - or @."),
    "url": _("Please write your name, not a web address."),
    "letters": _("Please write your name in letters."),
}


@lru_cache(maxsize=8)
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """Countries named and sorted in `language`, computed once per language, not per request."""
    with translation.override(language):
        return (("", "—"), *((code, str(name)) for code, name in countries))


@lru_cache(maxsize=8)
def _country_options_html(language: str) -> str:
    return format_html_join("", '<option value="{}">{}</option>', country_choices(language))


class CountrySelect(forms.Select):
    """The country list from a per-language cache of its HTML. Django renders each of a select's
    options through a template; for 250 countries that was most of the petition page's time."""

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
    """Checks a code against the known countries without building a choice list per request;
    CountrySelect renders the names."""

    codes = frozenset(code for code, _name in countries)

    def valid_value(self, value) -> bool:
        return value in self.codes


class SignForm(forms.Form):
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
        label=_("Show my first name and initial on this petition"), required=False, initial=True
    )
    consent_contact = forms.BooleanField(
        label=_("Email me about this campaign. The organiser will see my name and email."),
        required=False,
        initial=False,
    )

    # Two inputs that are not fields: the template writes them and clean() reads them. Bots fill
    # in every input they find, and people never see the "website" one; "started" says when the
    # form was shown. As fields they were two ninths of checking a signature.
    honeypot_label = _("Leave this empty")

    def __init__(self, *args, language: str = "en", started: str | None = None, **kwargs):
        # The templates write the labels themselves, so Django's translated ":" is never used;
        # asking for it was a gettext lookup per signature.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["started"] = started or form_started_token()
            if language in COUNTRY_GUESS:
                self.initial.setdefault("country", COUNTRY_GUESS[language])

    def _clean_fields(self):
        """Django's loop, reading each value straight from the data: Django goes through a
        BoundField per field, which for these one-input widgets adds nothing but was a quarter of
        checking the form."""
        for name, field in self.fields.items():
            if field.disabled:
                value = self.get_initial_for_field(field, name)
            else:
                html_name = self.add_prefix(name)
                value = field.widget.value_from_datadict(self.data, self.files, html_name)
            try:
                self.cleaned_data[name] = field.clean(value)
                clean = getattr(self, f"clean_{name}", None)
                if clean is not None:
                    self.cleaned_data[name] = clean()
            except ValidationError as exc:
                self.add_error(name, exc)

    @property
    def started_token(self) -> str:
        return self.data.get("started", "") if self.is_bound else self.initial["started"]

    def clean_name(self) -> str:
        name = clean_text(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("Please write your name."), code="required")
        problem = name_problem(name)
        if problem:
            raise forms.ValidationError(NAME_PROBLEMS[problem], code=problem)
        return name

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
        if self.data.get("website", "").strip():
            raise forms.ValidationError(
                _("Something went wrong. Please press Sign again."), code="honeypot"
            )
        elapsed = seconds_since(self.data.get("started", ""))
        if elapsed is None or elapsed < settings.SIGN_MIN_FILL_SECONDS:
            if elapsed is None:
                # A missing or forged start time: start the clock now, so a person can go on.
                self.data = self.data.copy()
                self.data["started"] = form_started_token()
            raise forms.ValidationError(
                _("Please check your details and press Sign again."), code="too_fast"
            )
        # NFKC can lengthen text (one ligature becomes several letters), so the limits are checked
        # again on what will be stored.
        for name in ("name", "email", "locality", "comment"):
            limit = self.fields[name].max_length
            if limit and len(cleaned.get(name) or "") > limit:
                self.add_error(name, _("This is too long."))
        return cleaned

    @property
    def email_canonical(self) -> str:
        return canonical_email(self.cleaned_data["email"])


class _SharedFields(dict):
    """Django copies every field of a form for each instance, so that one instance may change its
    fields without touching the others. SignForm never changes its fields, and the copy of its
    fields was a tenth of a signature's time, so its instances share them."""

    def __deepcopy__(self, memo):
        return dict(self)


SignForm.base_fields = _SharedFields(SignForm.base_fields)
