"""The demo crowd is believable: a signer's city is in the signer's country, and
`make run PORT=…` prints the admin at the port it serves on."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from petitions.demo.loader import load_demo
from petitions.management.commands import demo_admin
from signatures.models import Signature

CITY_COUNTRY = {
    "Tehran": "IR", "تهران": "IR", "شیراز": "IR", "اصفهان": "IR", "تبریز": "IR",
    "London": "GB", "لندن": "GB", "Toronto": "CA", "تورنتو": "CA",
    "Los Angeles": "US", "لس‌آنجلس": "US", "Berlin": "DE", "برلین": "DE", "Paris": "FR",
    "Stockholm": "SE", "استکهلم": "SE", "Sydney": "AU", "Amsterdam": "NL", "Tel Aviv": "IL",
    "Istanbul": "TR", "استانبول": "TR", "Dubai": "AE", "دبی": "AE",
}  # fmt: skip


@pytest.mark.django_db
def test_demo_signers_cities_are_in_their_countries():
    load_demo(signatures=2000)
    pairs = set(Signature.objects.values_list("locality", "country"))
    with_city = {(city, country) for city, country in pairs if city}
    assert with_city, "some demo signers give a city"
    assert {
        (city, country) for city, country in with_city if CITY_COUNTRY[city] != country
    } == set()
    assert len({country for _city, country in pairs}) >= 8  # still a crowd from many places


@pytest.mark.django_db
def test_demo_admin_prints_the_address_it_is_served_on(settings, tmp_path, monkeypatch, capsys):
    settings.DEBUG = True
    monkeypatch.setattr(demo_admin, "PASSWORD_FILE", tmp_path / ".admin-password")
    call_command("demo_admin", host="127.0.0.1", port="8300")
    assert f"http://127.0.0.1:8300/{settings.ADMIN_URL}" in capsys.readouterr().out


@pytest.mark.system
def test_make_run_passes_its_port_to_the_admin_address():
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8300"],
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "demo_admin --host 127.0.0.1 --port 8300" in dry_run
    assert "runserver 127.0.0.1:8300" in dry_run
