"""The public forms' defences against bots, for forms posted without a CSRF cookie (so that their
page is the same bytes for everyone and any HTTP cache can serve it): a honeypot input people never
see, and a signed form token that says which form this is and when it was shown.

The templates write both inputs: `started` (the token, `form.started_token`) and `website` (the
honeypot, labelled `form.honeypot_label`). Neither is a field.
"""

import time

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

FORM_TOKEN_SALT = "signatures.form-token"  # noqa: S105 - a namespace, not a secret
# A page left open for up to a week still posts; an older token is treated as forged, and the
# form asks to press the button again, with everything typed kept.
FORM_TOKEN_MAX_AGE = 7 * 24 * 3600
# The page's tokens are made for the start of its ten seconds: as long as an HTTP cache keeps it.
FORM_TOKEN_STEP_SECONDS = 10


def form_token(form_id: int, issued_at: float | None = None) -> str:
    """Which form this is (a petition's id for its sign form) and when it was shown (now, or
    `issued_at`), signed so that a bot can neither claim it waited nor carry a token from one
    form to another."""
    issued_ms = round(1000 * (time.time() if issued_at is None else issued_at))
    return signing.Signer(salt=FORM_TOKEN_SALT).sign_object([form_id, issued_ms])


def form_token_age(token: str, form_id: int) -> float | None:
    """Seconds since the form with this token was shown; None if the token is not ours, is for
    another form, or is older than FORM_TOKEN_MAX_AGE."""
    read = _read_form_token(token)
    if read is None or read[0] != form_id:
        return None
    return read[1]


def form_token_id(token: str) -> int | None:
    """Which form a token of ours not older than FORM_TOKEN_MAX_AGE was made for."""
    read = _read_form_token(token)
    return None if read is None else read[0]


def _read_form_token(token: str) -> tuple[int, float] | None:
    try:
        token_form, issued_ms = signing.Signer(salt=FORM_TOKEN_SALT).unsign_object(token)
        age = time.time() - issued_ms / 1000
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(token_form, int) or age > FORM_TOKEN_MAX_AGE:
        return None
    return token_form, max(age, 0.0)


def page_form_token(form_id: int) -> str:
    """The token an empty form is shown with. Every visitor within the same few seconds gets the
    same one, so that the page stays the same bytes for everyone: the form's age is overstated
    by up to FORM_TOKEN_STEP_SECONDS, never understated, so a person is never held back."""
    now = time.time()
    return form_token(form_id, now - now % FORM_TOKEN_STEP_SECONDS)


class BotCheckMixin:
    """For a forms.Form: its clean() refuses a filled honeypot (code "honeypot") and a missing,
    forged or expired token, or one younger than `min_fill_seconds` (code "too_fast"). A token
    that is not valid is replaced by one made now, so that a person who presses again goes on."""

    honeypot_label = _("Leave this empty")
    honeypot_message = _("Something went wrong. Please try again.")
    too_fast_message = _("Please press the button again.")
    # Which form the token names; 0 is no petition.
    form_id = 0
    checks_for_bots = True

    @property
    def min_fill_seconds(self) -> float:
        return 0.0

    @property
    def started_token(self) -> str:
        if self.is_bound:
            return self.data.get("started", "")
        if "started" not in self.initial:
            self.initial["started"] = page_form_token(self.form_id)
        return self.initial["started"]

    def clean(self):
        cleaned = super().clean()
        if self.checks_for_bots:
            self.check_not_a_bot()
        return cleaned

    def check_not_a_bot(self) -> None:
        if self.data.get("website", "").strip():
            raise forms.ValidationError(self.honeypot_message, code="honeypot")
        elapsed = form_token_age(self.data.get("started", ""), self.form_id)
        if elapsed is None or elapsed < self.min_fill_seconds:
            if elapsed is None:
                self.data = self.data.copy()
                self.data["started"] = form_token(self.form_id)
            raise forms.ValidationError(self.too_fast_message, code="too_fast")
