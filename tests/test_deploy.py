"""Production settings and serving: what an operator relies on before going live."""

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db.utils import OperationalError

ROOT = Path(settings.BASE_DIR)
PRODUCTION_ENV = {
    "PATH": os.environ["PATH"],
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "production-like-secret-with-enough-entropy-" * 2,
    "ALLOWED_HOSTS": "petitions.example.org",
    "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.system
def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.system
def test_production_refuses_to_serve_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "security.W009" in manage("check", "--deploy", env=env).stderr


@pytest.mark.system
def test_migrations_can_be_checked_without_a_secret_key():
    """Commands that sign nothing run on production settings before a key is set."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("makemigrations", "--check", "--dry-run", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.system
def test_debug_runs_with_the_development_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"} | {"DEBUG": "true"}
    assert manage("check", env=env).returncode == 0


@pytest.mark.system
def test_collectstatic_writes_hashed_and_compressed_files(tmp_path):
    env = PRODUCTION_ENV | {"STATIC_MANIFEST": "true"}
    env["STATIC_ROOT"] = str(tmp_path)
    result = manage("collectstatic", "--noinput", "-v0", env=env)
    assert result.returncode == 0, result.stderr
    css = sorted(p.name for p in (tmp_path / "css").iterdir())
    assert any(
        name.startswith("site.") and name.endswith(".css") and name != "site.css" for name in css
    )
    assert any(name.endswith(".css.br") for name in css)
    assert any(name.endswith(".css.gz") for name in css)
    assert (tmp_path / "staticfiles.json").exists()


@pytest.mark.django_db
def test_healthz_reports_a_reachable_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.system
def test_gunicorn_config_loads():
    result = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--check-config",
            "-c",
            "config/gunicorn.conf.py",
            "config.wsgi",
        ],
        cwd=ROOT,
        env=PRODUCTION_ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_cron_file_runs_every_periodic_job_with_the_apps_environment():
    """Each command whose help says how often to run it is in the one cron file, every line of
    which reads the app's environment first (cron's own has none of it)."""
    from django.core.management import get_commands, load_command_class

    periodic = {
        name
        for name, app in get_commands().items()
        if app in ("petitions", "signatures", "integrations")
        and "Run " in load_command_class(app, name).help
        and any(word in load_command_class(app, name).help for word in ("daily", "every"))
    }
    lines = [
        line
        for line in (ROOT / "deploy" / "cron" / "petitions").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert periodic == {"tend_petitions", "build_bulk_data", "anonymise_signers"}
    for name in periodic:
        (line,) = [line for line in lines if f"manage.py {name}" in line]
        assert ". /etc/petitions/env" in line, line
