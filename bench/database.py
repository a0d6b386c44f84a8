"""A benchmark's own PostgreSQL database, made anew and migrated, then dropped; and the environment
the site runs with on it (production settings, a throwaway secret). Every bench in this folder
uses these, so none of them touches a database it did not make."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def run(cmd, env=None, **kwargs):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kwargs)


def fresh_database(database_url: str, **extra_env: str) -> dict:
    """The environment for manage.py on `database_url`, the database made anew and migrated."""
    env = os.environ | {
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "k" * 40,
        "STATIC_MANIFEST": "false",
        "ALLOWED_HOSTS": "localhost",
        **extra_env,
    }
    drop_database(database_url)
    admin_url, db_name = database_url.rsplit("/", 1)
    run(["psql", admin_url + "/postgres", "-qc", f"CREATE DATABASE {db_name}"])
    run([PYTHON, "manage.py", "migrate", "-v0"], env=env)
    return env


def drop_database(database_url: str) -> None:
    admin_url, db_name = database_url.rsplit("/", 1)
    run(
        ["psql", admin_url + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {db_name}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
