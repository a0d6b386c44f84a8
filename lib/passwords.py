"""Django's password rules, with their numbers in the reader's digits."""

from django.contrib.auth import password_validation
from django.utils import translation

from .persian import persian_digits


def _in_reader_digits(text: str) -> str:
    return persian_digits(text) if translation.get_language() == "fa" else text


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_help_text(self):
        return _in_reader_digits(super().get_help_text())

    def get_error_message(self):
        return _in_reader_digits(super().get_error_message())
