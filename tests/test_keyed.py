"""The start time a sign form carries, and the keyed hashes behind it and the IP hash."""

import time

import pytest
from django.core import signing
from django.utils.crypto import salted_hmac

from signatures import keyed
from signatures.abuse import STARTED_SALT, form_started_token, seconds_since
from signatures.services import hash_ip


def test_the_keyed_hash_is_djangos_salted_hmac(settings):
    expected = salted_hmac("a.salt", "value", secret=settings.SECRET_KEY, algorithm="sha256")
    assert keyed.salted_hmac_sha256("a.salt", "value", settings.SECRET_KEY) == expected.digest()


def test_an_ip_hashes_as_it_did_before_so_old_and_new_signatures_still_match(settings):
    settings.IP_HASH_SECRET = "ip secret"
    before = salted_hmac("signatures.ip", "203.0.113.9", secret="ip secret", algorithm="sha256")
    assert hash_ip("203.0.113.9") == before.hexdigest()[:32]


def test_a_start_time_reads_back_as_the_seconds_since_it_was_made():
    assert seconds_since(form_started_token(time.time() - 90)) == pytest.approx(90, abs=1)


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: str(int(token.split(":")[0]) - 3_600_000) + ":" + token.split(":")[1],
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.split(":")[0],
        lambda token: "",
        lambda token: "12:34:56",
    ],
)
def test_a_start_time_that_was_altered_or_made_up_is_not_believed(forge):
    assert seconds_since(forge(form_started_token(time.time() - 90))) is None


def test_a_start_time_made_under_another_key_is_not_believed(settings):
    token = form_started_token(time.time() - 90)
    settings.SECRET_KEY = "a different key, as on another site"
    assert seconds_since(token) is None


def test_a_start_time_made_under_a_key_being_rotated_out_is_still_believed(settings):
    old_key = settings.SECRET_KEY
    token = form_started_token(time.time() - 90)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the new key", [old_key]
    assert seconds_since(token) == pytest.approx(90, abs=1)


def test_a_start_time_more_than_a_week_old_is_not_believed():
    assert seconds_since(form_started_token(time.time() - 8 * 24 * 3600)) is None


def test_a_form_shown_before_the_token_changed_format_still_signs():
    """Pages served before this token format carry django.core.signing's."""
    old = signing.dumps(time.time() - 90, salt=STARTED_SALT)
    assert seconds_since(old) == pytest.approx(90, abs=1)
    assert seconds_since(signing.dumps(time.time(), salt="another purpose")) is None
