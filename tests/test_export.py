import csv
import datetime
import io
import json
import tracemalloc

import pytest
from django.core.management import call_command
from django.db import connection

from lib.models import AuditEntry
from signatures.export import Export
from signatures.models import Signature
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


def export_text(petition, fmt="csv", **filters) -> str:
    return "".join(Export([petition], fmt, by="tester", **filters))


def parse_csv(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def test_csv_starts_with_a_byte_order_mark_and_keeps_persian_text():
    petition = make_petition()
    make_signature(petition, name="مهسا خامنه\u200cای", locality="تهران", language="fa")
    text = export_text(petition)
    row = parse_csv(text)[0]
    assert row["name"] == "مهسا خامنه\u200cای"
    assert row["city_or_postcode"] == "تهران"
    assert row["language"] == "fa"


def test_csv_quotes_commas_quotes_and_newlines():
    petition = make_petition()
    make_signature(petition, name='Sara "SK", Karimi', comment="line one\nline two, with comma")
    row = parse_csv(export_text(petition))[0]
    assert row["name"] == 'Sara "SK", Karimi'
    assert row["comment"] == "line one\nline two, with comma"


@pytest.mark.parametrize("danger", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_neutralises_formula_cells(danger):
    petition = make_petition()
    make_signature(petition, comment=danger, locality=danger)
    row = parse_csv(export_text(petition))[0]
    assert row["comment"] == "'" + danger
    assert row["city_or_postcode"] == "'" + danger


def test_csv_has_iso_utc_times_consent_and_language_columns():
    petition = make_petition()
    signed = datetime.datetime(2026, 3, 20, 23, 45, 1, tzinfo=datetime.UTC)
    make_signature(petition, created_at=signed, consent_contact=True, language="en")
    row = parse_csv(export_text(petition))[0]
    assert row["signed_at_utc"] == "2026-03-20T23:45:01Z"
    assert row["consent_contact"] == "True"
    assert row["show_name"] == "True"
    assert row["language"] == "en"


def test_jsonl_comes_from_the_same_rows_without_neutralising():
    petition = make_petition()
    make_signature(petition, name="Sara K", comment="=not a formula here")
    lines = export_text(petition, "jsonl").splitlines()
    record = json.loads(lines[0])
    assert record["name"] == "Sara K"
    assert record["comment"] == "=not a formula here"
    assert record["consent_contact"] is False
    assert set(record) == set(parse_csv(export_text(petition))[0])


def test_export_filters_by_status_and_since():
    petition = make_petition()
    make_signature(
        petition, name="Old", created_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    )
    make_signature(petition, name="New")
    make_signature(petition, name="Spam", status=Signature.Status.INVALIDATED)
    since = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    names = [r["name"] for r in parse_csv(export_text(petition, status="counted", since=since))]
    assert names == ["New"]


def test_export_command_writes_a_file_and_an_audit_record(tmp_path):
    petition = make_petition(slug="free-press")
    for n in range(3):
        make_signature(petition, comment=f"line\n{n}")
    out = tmp_path / "out.csv"
    call_command("export_signatures", "free-press", "--status", "counted", "--output", str(out))
    assert len(parse_csv(out.read_text(encoding="utf-8"))) == 3
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.detail["signatures"], entry.target) == (
        "signature.exported",
        3,
        petition,
    )
    assert entry.detail["status"] == "counted"


def test_export_command_streams_jsonl_to_stdout(capsys):
    petition = make_petition(slug="free-press")
    make_signature(petition)
    call_command("export_signatures", "free-press", "--format", "jsonl", "--since", "2020-01-01")
    assert json.loads(capsys.readouterr().out.splitlines()[0])["petition"] == "free-press"


def test_admin_export_streams_and_records_who_exported(admin_client):
    petition = make_petition()
    make_signature(petition)
    response = admin_client.get(f"/admin/petitions/petition/{petition.pk}/export/?format=csv")
    assert response.streaming
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode()
    assert len(parse_csv(body)) == 1
    entry = AuditEntry.objects.get()
    assert (entry.actor_label, entry.action, entry.detail["signatures"]) == (
        "admin",
        "signature.exported",
        1,
    )


def test_admin_export_action_on_the_petition_list(admin_client):
    petition = make_petition()
    make_signature(petition)
    response = admin_client.post(
        "/admin/petitions/petition/", {"action": "export_jsonl", "_selected_action": [petition.pk]}
    )
    assert len(b"".join(response.streaming_content).splitlines()) == 1


def test_admin_export_of_several_petitions_names_them_in_one_record(admin_client):
    first, second = make_petition(slug="first"), make_petition(slug="second")
    make_signature(first)
    make_signature(second)
    response = admin_client.post(
        "/admin/petitions/petition/",
        {"action": "export_csv", "_selected_action": [first.pk, second.pk]},
    )
    assert 'filename="signatures-' in response["Content-Disposition"]
    assert len(parse_csv(b"".join(response.streaming_content).decode())) == 2
    entry = AuditEntry.objects.get()
    assert entry.target is None
    assert entry.detail == {"signatures": 2, "format": "csv", "petitions": ["first", "second"]}


def test_admin_export_works_with_debug_sql_logging_on(admin_client, settings):
    """Under `make run` (DEBUG, SQLite) Django logs every statement by %-formatting it; a literal
    strftime format in the SQL made that raise, and every export answered 500."""
    settings.DEBUG = True
    petition = make_petition()
    signed = datetime.datetime(2026, 3, 20, 23, 45, 1, tzinfo=datetime.UTC)
    make_signature(petition, name="Sara K", created_at=signed)
    response = admin_client.get(f"/admin/petitions/petition/{petition.pk}/export/?format=csv")
    assert response.status_code == 200
    rows = parse_csv(b"".join(response.streaming_content).decode())
    assert [(r["name"], r["signed_at_utc"]) for r in rows] == [("Sara K", "2026-03-20T23:45:01Z")]
    assert any("signatures_signature" in query["sql"] for query in connection.queries)


def test_export_records_itself_when_its_stream_ends():
    petition = make_petition()
    make_signature(petition)
    stream = Export([petition], "jsonl", by="tester", status="counted")
    assert not AuditEntry.objects.exists()  # nothing exported yet
    assert len(list(stream)) >= 1
    entry = AuditEntry.objects.get()
    assert (entry.actor_label, entry.action, entry.target) == (
        "tester",
        "signature.exported",
        petition,
    )
    assert entry.detail == {"signatures": 1, "format": "jsonl", "status": "counted"}
    stream.close()  # a server closing the response as well records nothing more
    assert AuditEntry.objects.count() == 1


# Outside a test transaction, so that closing the response runs Django's end-of-request handling
# (which closes a connection left inside a transaction) just as under a real server.
@pytest.mark.django_db(transaction=True)
def test_an_interrupted_admin_download_is_recorded_as_interrupted(admin_client):
    petition = make_petition()
    make_signature(petition)
    response = admin_client.get(f"/admin/petitions/petition/{petition.pk}/export/?format=csv")
    next(iter(response.streaming_content))  # the first chunk arrives, then the browser goes
    assert not AuditEntry.objects.exists()
    response.close()  # what the server does when the connection drops
    entry = AuditEntry.objects.get()
    assert (entry.actor_label, entry.action) == ("admin", "signature.exported")
    assert entry.detail == {"signatures": 1, "format": "csv", "interrupted": True}


def test_an_interrupted_command_export_is_recorded_as_interrupted():
    petition = make_petition(slug="free-press")
    make_signature(petition, comment="x" * 20_000)  # more than the file buffer holds
    with pytest.raises(OSError):
        call_command("export_signatures", "free-press", "--output", "/dev/full")  # disk full
    entry = AuditEntry.objects.get()
    assert entry.actor_label.endswith("(command line)")
    assert entry.detail == {"signatures": 1, "format": "csv", "interrupted": True}


def test_export_must_be_told_who_exports():
    with pytest.raises(TypeError):
        Export([make_petition()], "csv")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_export_memory_stays_flat_for_200000_rows():
    """Streaming from a server-side cursor: the peak does not grow with the number of rows."""
    rows = 200_000
    petition = make_petition()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO signatures_signature
              (petition_id, name, email, email_canonical, country, locality, comment, show_name,
               consent_contact, language, status, created_at, ip_hash)
            SELECT %s, 'Signer ' || n, 'signer' || n || '@example.com',
                   'signer' || n || '@example.com', 'IR', 'Tehran', 'Because ' || n,
                   true, false, 'fa', 'counted', now(), ''
            FROM generate_series(1, %s) AS n
            """,
            [petition.pk, rows],
        )
    written = 0
    tracemalloc.start()
    try:
        stream = Export([petition], "csv", by="tester")
        for chunk in stream:
            written += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stream.rows == rows
    assert written > rows * 50  # the data really went through
    # 200,000 rows are about 20 MB of CSV; holding them would peak far above this.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
