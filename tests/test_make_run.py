"""`make run` on any host and port: the links the site builds lead back to the server running."""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def runserver_environment(*make_args: str) -> dict[str, str]:
    """The VAR=value words that `make run` puts before runserver, read from `make -n`."""
    plan = subprocess.run(
        ["make", "-n", "run", *make_args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    ).stdout
    line = next(line for line in plan.splitlines() if "manage.py runserver" in line)
    assignments = {}
    for word in shlex.split(line):
        name, equals, value = word.partition("=")
        if not equals or not name.isidentifier():
            break
        assignments[name] = value
    return assignments


def site_url(environment: dict[str, str], base_dir: Path = ROOT) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.SITE_URL)"],
        cwd=base_dir,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(base_dir), **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.system
def test_make_run_builds_every_link_on_the_host_and_port_it_serves():
    environment = runserver_environment("PORT=8101", "HOST=localhost")
    assert site_url(environment) == "http://localhost:8101"


@pytest.mark.system
def test_make_run_on_every_interface_builds_links_on_the_loopback_address():
    environment = runserver_environment("PORT=8101", "HOST=0.0.0.0")
    assert site_url(environment) == "http://127.0.0.1:8101"


@pytest.mark.system
def test_a_site_url_in_the_environment_wins_over_where_make_run_serves():
    environment = runserver_environment("PORT=8101")
    environment["SITE_URL"] = "https://petitions.example.org/"
    assert site_url(environment) == "https://petitions.example.org"


@pytest.mark.system
def test_a_site_url_in_the_env_file_wins_over_where_make_run_serves(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / ".env").write_text("SITE_URL=https://petitions.example.org\n")
    environment = runserver_environment("PORT=8101")
    assert site_url(environment, base_dir=tmp_path) == "https://petitions.example.org"


CONSOLE = "django.core.mail.backends.console.EmailBackend"


def check_email_pages(client, language: str) -> list[str]:
    from tests.factories import make_petition

    petition = make_petition(requires_confirmation=True)
    return [
        client.get(url).content.decode()
        for url in (
            f"/{language}/p/{petition.slug}/thanks/?check=email",
            f"/{language}/p/{petition.slug}/embed/thanks/?check=email",
            f"/{language}/start/sent/",
        )
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "note"),
    [("en", "printed in the terminal"), ("fa", "در پایانه‌ای")],
)
def test_check_your_email_pages_say_where_emails_go_on_a_development_server(
    client, settings, language, note
):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = CONSOLE
    for page in check_email_pages(client, language):
        assert note in page


@pytest.mark.django_db
def test_check_your_email_pages_say_nothing_of_a_terminal_in_production(client, settings):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = CONSOLE
    for page in check_email_pages(client, "en"):
        assert "terminal" not in page
