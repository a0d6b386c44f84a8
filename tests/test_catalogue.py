import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

PO_FILE = Path(settings.BASE_DIR) / "locale" / "fa" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if "msgid" in block]


def test_persian_catalogue_has_no_fuzzy_entries():
    fuzzy = [block for block in _entries(PO_FILE.read_text()) if "#, fuzzy" in block]
    assert fuzzy == []


def test_persian_catalogue_has_no_untranslated_entries():
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("msgfmt (gettext) is needed to check the catalogue; see the README")
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr, result.stderr


def test_persian_catalogue_is_compiled_and_loaded():
    with translation.override("fa"):
        assert translation.gettext("Sign this petition") == "این کارزار را امضا کنید"


def test_catalogue_covers_every_string_in_the_code(tmp_path):
    """makemessages on the current code finds nothing the committed catalogue lacks."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext (gettext) is needed; see the README")
    root = Path(settings.BASE_DIR)
    work = tmp_path / "src"
    shutil.copytree(
        root,
        work,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "staticfiles", "test-output", "node_modules", "*.mo", "db.sqlite3*"
        ),
    )
    subprocess.run(
        [
            str(root / ".venv" / "bin" / "python"),
            "manage.py",
            "makemessages",
            "-l",
            "fa",
            "--no-obsolete",
            "--ignore=tests",
            "--ignore=staticfiles",
            "-v0",
        ],
        cwd=work,
        env={"DEBUG": "true", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    # makemessages merged the committed translations; anything new in the code shows up here as
    # untranslated.
    regenerated = work / "locale" / "fa" / "LC_MESSAGES" / "django.po"
    stats = subprocess.run(
        [shutil.which("msgfmt"), "--statistics", "-o", "/dev/null", str(regenerated)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert "untranslated" not in stats, stats
    assert "fuzzy" not in stats, stats
