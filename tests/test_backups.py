"""Backups (deploy/pgbackrest/, docs/operations.md): the shipped configuration says what the docs
promise, pgBackRest reads it without complaint, and a fresh cluster archived with it comes back
whole from the repository after its host is gone. `make restore-drill` is the same under load."""

import configparser
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings

from bench.faults import PG_BIN
from bench.restore_drill import (
    PGBACKREST_CONF,
    Host,
    Repository,
    pgbackrest_settings,
    postgresql_settings,
    seconds_setting,
    stanza,
)
from tests.conftest import running_in_ci

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy" / "pgbackrest"
OPERATIONS = ROOT / "docs" / "operations.md"


def needs_pgbackrest(server: bool = False) -> None:
    missing = [] if shutil.which("pgbackrest") else ["pgbackrest (Debian: pgbackrest)"]
    if server and not (PG_BIN / "initdb").exists():
        missing.append(f"initdb in {PG_BIN} (Debian: postgresql-15)")
    if server and os.geteuid() == 0 and not shutil.which("runuser"):
        missing.append("runuser (util-linux)")
    if missing:
        if running_in_ci():
            pytest.fail(f"CI must provide {', '.join(missing)} (.ci/run installs pgbackrest)")
        pytest.skip(f"needs {', '.join(missing)}")


def test_shipped_postgresql_settings_archive_every_segment_through_pgbackrest():
    shipped = postgresql_settings()
    assert shipped["wal_level"] in ("replica", "logical")
    assert shipped["archive_mode"] == "on"
    assert shipped["archive_command"] == f"pgbackrest --stanza={stanza()} archive-push %p"
    # The most signatures a dead host takes with it: the RPO target is 60 s.
    assert 0 < seconds_setting(shipped["archive_timeout"]) <= 60


def test_shipped_pgbackrest_config_keeps_backups_encrypted_with_retention():
    shipped = pgbackrest_settings()
    repo = shipped["global"]
    assert repo["repo1-cipher-type"] == "aes-256-cbc"
    assert int(repo["repo1-retention-full"]) >= 2
    assert repo["repo1-type"] == "s3", "the repository must outlive the database host"
    # Secrets live in conf.d, never in the shipped file.
    assert not {"repo1-cipher-pass", "repo1-s3-key", "repo1-s3-key-secret"} & set(repo)
    assert set(shipped[stanza()]) >= {"pg1-path"}
    cron = (DEPLOY / "cron").read_text()
    assert f"pgbackrest --stanza={stanza()} --type=full backup" in cron
    assert f"pgbackrest --stanza={stanza()} --type=diff backup" in cron
    example = configparser.ConfigParser(interpolation=None)
    example.read_string((DEPLOY / "secrets.conf.example").read_text())
    assert "repo1-cipher-pass" in example["global"]


def test_operations_doc_states_the_shipped_backup_settings():
    doc = OPERATIONS.read_text()
    repo = pgbackrest_settings()["global"]
    archive_timeout = postgresql_settings()["archive_timeout"]
    assert f"archive_timeout = {archive_timeout}" in doc
    assert f"repo1-retention-full={repo['repo1-retention-full']}" in doc
    assert f"repo1-retention-diff={repo['repo1-retention-diff']}" in doc
    assert repo["repo1-cipher-type"] in doc
    assert f"pgbackrest --stanza={stanza()}" in doc and " restore" in doc
    assert "make restore-drill" in doc
    for linked_from in ("README.md", "docs/scaling.md"):
        assert "operations.md" in (ROOT / linked_from).read_text(), linked_from


def test_pgbackrest_reads_the_shipped_config_without_complaint(tmp_path):
    needs_pgbackrest()
    env = os.environ | {
        "PGBACKREST_CONFIG": str(PGBACKREST_CONF),
        "PGBACKREST_CONFIG_INCLUDE_PATH": str(tmp_path),
        "PGBACKREST_REPO1_TYPE": "posix",
        "PGBACKREST_REPO1_PATH": str(tmp_path / "repo"),
        "PGBACKREST_LOG_PATH": str(tmp_path),
        "PGBACKREST_LOCK_PATH": str(tmp_path),
        "PGBACKREST_LOG_LEVEL_CONSOLE": "warn",
        "PGBACKREST_LOG_LEVEL_FILE": "off",
    }
    (tmp_path / "secrets.conf").write_text("[global]\nrepo1-cipher-pass=test-only\n")
    done = subprocess.run(
        ["pgbackrest", f"--stanza={stanza()}", "info"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    said = done.stdout + done.stderr
    assert not re.search(r"WARN|ERROR|invalid|unknown", said), said
    assert "missing stanza path" in said  # it read the file and looked in the empty repository


@pytest.fixture
def work():
    """A directory the postgres user can reach (pytest's own is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="petitions-backup-test-"))
    path.chmod(0o711)
    hosts: list[Host] = []
    yield path, hosts
    for host in hosts:
        if host.data.exists():
            host.stop("immediate")
        for pid in host.archivers():
            os.kill(pid, 9)
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.system
def test_archived_cluster_comes_back_whole_after_its_host_is_gone(work):
    """Rows from the base backup and rows committed after it (only in the archived WAL) are all
    there on a new host restored from the repository."""
    needs_pgbackrest(server=True)
    path, hosts = work
    repository = Repository(path)
    repository.prepare()
    first = Host(path, "host1", repository)
    hosts.append(first)
    first.init()
    first.start()
    first.create_database()
    repository.run(first, "stanza-create")
    first.query("CREATE TABLE signed (email text PRIMARY KEY)")
    first.query(
        "INSERT INTO signed SELECT 'base' || n || '@example.com' FROM generate_series(1, 3) n"
    )
    repository.run(first, "--type=full", "backup")
    first.query(
        "INSERT INTO signed SELECT 'wal' || n || '@example.com' FROM generate_series(1, 3) n"
    )
    # A separate statement, so the insert has committed before its segment is closed.
    segment = first.query("SELECT pg_walfile_name(pg_switch_wal())")[0][0]
    deadline = time.monotonic() + 30
    while (first.query("SELECT last_archived_wal FROM pg_stat_archiver")[0][0] or "") < segment:
        assert time.monotonic() < deadline, "the segment was not archived within 30 s"
        time.sleep(0.1)
    expected = sorted(row[0] for row in first.query("SELECT email FROM signed"))

    first.kill()
    shutil.rmtree(first.dir)
    second = Host(path, "host2", repository)
    hosts.append(second)
    second.restore(repository)
    second.start()
    deadline = time.monotonic() + 30
    while not second.promoted():
        assert time.monotonic() < deadline, second.log_path.read_text()[-2000:]
        time.sleep(0.1)

    assert sorted(row[0] for row in second.query("SELECT email FROM signed")) == expected
    assert len(expected) == 6
    # Encrypted in the repository: OpenSSL's salted format, not zstd's magic number.
    archived = next(p for p in (path / "objects" / "archive").rglob(f"{segment}-*"))
    assert archived.read_bytes().startswith(b"Salted__")
