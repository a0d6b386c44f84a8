"""The fast tier (`make test-fast`) stays fast: a test that starts a server must be marked."""

import contextlib
import shutil
import subprocess
import sys

import pytest
from django.contrib.auth.hashers import get_hasher

from tests.conftest import FastTier, server_program


@pytest.mark.parametrize(
    ("argv", "program"),
    [
        (["/work/.venv/bin/gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"], "gunicorn"),
        (["/usr/sbin/nginx", "-p", "run", "-c", "run/nginx.conf"], "nginx"),
        (["redis-server", "--port", "6390"], "redis-server"),
        (["/usr/bin/java", "-Xss2m", "-jar", "vnu.jar"], "java"),
        (["make", "-n", "run"], "make"),
        ([sys.executable, "manage.py", "db_worker", "--no-reload"], "db_worker"),
        ([sys.executable, "-m", "gunicorn", "config.wsgi"], "gunicorn"),
        (["/bin/sh", "-c", "make -n run PORT=8300"], "make"),
        ([sys.executable, "-c", "import config.settings"], None),
        ([sys.executable, "manage.py", "makemessages", "-l", "fa"], None),
        (["/usr/bin/msgfmt", "--check", "django.po"], None),
        (["pdftotext", "-enc", "UTF-8", "pack.pdf", "-"], None),
    ],
)
def test_the_servers_a_fast_test_may_not_start_are_recognised(argv, program):
    assert server_program(argv) == program


def test_a_fast_test_that_starts_a_server_is_refused_before_it_runs():
    # Refused before anything is executed: this passes whether or not nginx is installed.
    with pytest.raises(RuntimeError, match=r"starts nginx: mark it @pytest\.mark\.system"):
        subprocess.Popen(["nginx", "-g", "daemon off;"])
    assert FastTier.refused == ["nginx"]
    FastTier.refused.clear()  # seen here; left, it fails this test at teardown


def test_a_fast_test_that_catches_the_refusal_still_fails():
    with contextlib.suppress(RuntimeError):
        subprocess.Popen([sys.executable, "manage.py", "runserver"])
    with pytest.raises(pytest.fail.Exception, match="started runserver: mark it `system`"):
        FastTier.check()
    FastTier.refused.clear()


def test_a_fast_test_may_run_a_tool_that_is_not_a_server():
    assert subprocess.run([sys.executable, "-c", "pass"], check=True).returncode == 0


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.system
def test_a_system_test_may_start_what_a_fast_test_may_not():
    assert subprocess.run(["make", "--version"], capture_output=True, check=True).returncode == 0


def test_fast_tests_hash_passwords_quickly():
    assert get_hasher().algorithm == "md5"


@pytest.mark.system
def test_system_tests_keep_the_real_password_hasher_their_servers_use():
    assert get_hasher().algorithm == "pbkdf2_sha256"
