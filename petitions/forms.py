"""The form a member of the public starts a petition with, in one language or both."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from lib.forms import BotCheckMixin
from lib.persian import ascii_digits, clean_text, format_number
from signatures.forms import SignForm, clean_person_name

from .models import LANGUAGE_CODES, Petition, other_language, text_direction

# The start form's token names "form 0", which is no petition: a sign form's token cannot be
# carried over to it, nor its token to a sign form.
START_FORM_ID = 0
MIN_GOAL, MAX_GOAL = 10, 10_000_000
TEXT_FIELDS = ("title", "addressed_to", "summary", "letter")
LABELS = {
    "title": _("Title"),
    "addressed_to": _("To whom"),
    "summary": _("Why is this important?"),
    "letter": _("The letter"),
}
HELP = {
    "title": _("What should change, in one sentence."),
    "addressed_to": _(
        "The person or body that can make the decision, as “The Minister of Education”."
    ),
    "summary": _("A short paragraph shown under the title."),
    "letter": _(
        "What every signer says to the decision maker. A blank line starts a new paragraph."
    ),
}
EMAIL_HELP = _(
    "Never shown. We send you a link to confirm it, which also opens your petition's page."
)
LANGUAGE_NAMES = {"en": _("In English"), "fa": _("In Persian")}


def max_length(name: str) -> int:
    return Petition._meta.get_field(name).max_length


class LanguageTextField(forms.CharField):
    """Shown as needed, but an empty one passes: StartForm.clean decides per language."""

    def __init__(self, **kwargs):
        super().__init__(required=True, **kwargs)

    def validate(self, value):
        if value not in self.empty_values:
            super().validate(value)


class StartForm(BotCheckMixin, forms.Form):
    """Each language empty or written whole, at least one written. `editing`: no email, token or
    honeypot (the starter's page is behind Django's CSRF check)."""

    starter_name = forms.CharField(
        label=_("Your name"),
        help_text=_("Shown on the petition as the person who started it."),
        max_length=max_length("starter_name"),
        widget=forms.TextInput(attrs={"autocomplete": "name", "dir": "auto"}),
    )
    # The sign form's address field: LTR, with the email keyboard.
    email = SignForm.base_fields["email"]
    goal = forms.CharField(
        label=_("How many signatures are you aiming for?"),
        initial="1000",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "dir": "ltr", "size": 10}),
    )
    form_id = START_FORM_ID
    too_fast_message = _("Please check your petition and press the button again.")
    # Which fields are needed depends on the languages written: the browser cannot tell.
    use_required_attribute = False

    def __init__(self, *args, language: str = "en", editing: bool = False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.language = language
        self.editing = editing
        self.checks_for_bots = not editing
        # The page's own language first: most starters write only in it.
        self.languages = (language, other_language(language))
        for code in self.languages:
            for name in TEXT_FIELDS:
                model_field = f"{name}_{code}"
                multiline = name in ("summary", "letter")
                widget = (
                    forms.Textarea(attrs={"rows": 12 if name == "letter" else 4})
                    if multiline
                    else forms.TextInput()
                )
                widget.attrs.update({"lang": code, "dir": text_direction(code)})
                self.fields[model_field] = LanguageTextField(
                    label=LABELS[name],
                    help_text=HELP[name],
                    max_length=max_length(model_field),
                    widget=widget,
                )
        if editing:
            del self.fields["email"]
            return
        self.fields["email"].help_text = EMAIL_HELP

    def language_groups(self) -> list[dict]:
        return [
            {
                "code": code,
                "name": LANGUAGE_NAMES[code],
                "dir": text_direction(code),
                "fields": [self[f"{name}_{code}"] for name in TEXT_FIELDS],
            }
            for code in self.languages
        ]

    @property
    def min_fill_seconds(self) -> float:
        return settings.START_MIN_FILL_SECONDS

    def clean_starter_name(self) -> str:
        return clean_person_name(self.cleaned_data["starter_name"])

    clean_email = SignForm.clean_email

    def clean_goal(self) -> int:
        raw = ascii_digits(self.cleaned_data["goal"]).replace(",", "").replace("٬", "").strip()
        if not raw.isdigit() or not MIN_GOAL <= int(raw) <= MAX_GOAL:
            raise forms.ValidationError(
                _("Write a number from %(low)s to %(high)s.")
                % {
                    "low": format_number(MIN_GOAL, self.language),
                    "high": format_number(MAX_GOAL, self.language),
                },
                code="invalid",
            )
        return int(raw)

    def clean(self):
        cleaned = super().clean()
        for code in LANGUAGE_CODES:
            for name in TEXT_FIELDS:
                field = f"{name}_{code}"
                multiline = name in ("summary", "letter")
                if field in cleaned:
                    cleaned[field] = clean_text(cleaned[field], multiline=multiline)
                    # NFKC can lengthen text, so the limit is checked on what will be stored.
                    if len(cleaned[field]) > self.fields[field].max_length:
                        self.add_error(field, _("This is too long."))
        written = [
            code
            for code in self.languages
            if any(cleaned.get(f"{name}_{code}") for name in TEXT_FIELDS)
        ]
        if not written:
            raise forms.ValidationError(
                _("Write your petition in English, in Persian, or in both."), code="empty"
            )
        for code in written:
            for name in TEXT_FIELDS:
                field = f"{name}_{code}"
                if not cleaned.get(field) and field not in self.errors:
                    self.add_error(
                        field,
                        forms.ValidationError(
                            _(
                                "Fill this in too, or leave all of this language’s fields "
                                "empty to publish only in the other language."
                            ),
                            code="incomplete",
                        ),
                    )
        return cleaned

    def written_languages(self) -> list[str]:
        return [code for code in self.languages if self.cleaned_data.get(f"title_{code}")]

    def fill(self, petition: Petition) -> Petition:
        data = self.cleaned_data
        petition.starter_name = data["starter_name"]
        petition.goal = data["goal"]
        for code in LANGUAGE_CODES:
            for name in TEXT_FIELDS:
                setattr(petition, f"{name}_{code}", data.get(f"{name}_{code}", ""))
        written = self.written_languages()
        petition.original_language = self.language if self.language in written else written[0]
        petition.single_language = False
        return petition

    @classmethod
    def initial_from(cls, petition: Petition) -> dict:
        initial = {"starter_name": petition.starter_name, "goal": str(petition.goal)}
        for code in LANGUAGE_CODES:
            for name in TEXT_FIELDS:
                initial[f"{name}_{code}"] = getattr(petition, f"{name}_{code}")
        return initial


class LinksForm(BotCheckMixin, forms.Form):
    """No minimum fill time: there is only an address to type."""

    email = StartForm.base_fields["email"]
    form_id = START_FORM_ID

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = ""

    clean_email = StartForm.clean_email


class CosponsorForm(SignForm):
    """The sign form, with its bot check, cut to what backing a petition before review needs:
    nothing is shown or shared until it is published, so no list, comment or contact choice."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lists_signers", False)
        super().__init__(*args, **kwargs)
        for name in ("locality", "comment", "consent_contact"):
            del self.fields[name]
