"""Rotating SECRET_KEY (docs/operations.md): with the old key in SECRET_KEY_FALLBACKS, what was
signed with it (emailed links, the supporter cookie, staff sessions) keeps working."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from lib import tokens

ROOT = Path(settings.BASE_DIR)
OLD, NEW = "old-" + "k" * 50, "new-" + "n" * 50
EMAIL = "sara@example.com"


def test_settings_read_secret_key_fallbacks_from_the_environment():
    env = os.environ | {"SECRET_KEY": NEW, "SECRET_KEY_FALLBACKS": f"{OLD},older-key"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    shown = subprocess.run(
        [sys.executable, "-c", "from config import settings; print(settings.SECRET_KEY_FALLBACKS)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown == repr([OLD, "older-key"])


def test_emailed_link_signed_with_the_old_key_works_while_it_is_a_fallback():
    with override_settings(SECRET_KEY=OLD):
        token = tokens.make_token(7, EMAIL, salt="signatures.unsubscribe-test")

    def read():
        return tokens.read_token(
            token, salt="signatures.unsubscribe-test", email_of=lambda pk: EMAIL
        )

    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        assert read() == (7, EMAIL)
    with (
        override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]),
        pytest.raises(tokens.InvalidToken),
    ):
        read()
