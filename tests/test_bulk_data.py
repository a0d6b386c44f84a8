"""The daily open-data files: every public petition and its counts per day, gzip'd CSV and JSON,
built into the database (so every app server serves them) and served with Last-Modified/ETag."""

import csv
import datetime
import gzip
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations import bulk
from petitions.models import Petition
from signatures.models import Signature
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db

CSV_URL = "/api/v1/bulk/petitions.csv.gz"
JSON_URL = "/api/v1/bulk/petitions.json.gz"


@pytest.fixture
def petitions():
    signed = make_petition(title_en='=HYPERLINK("x") "quoted"', title_fa="دریاچهٔ ارومیه")
    yesterday = timezone.now() - datetime.timedelta(days=1)
    for n, moment in enumerate([yesterday, yesterday, timezone.now()]):
        signature = make_signature(signed, name="Secret Person", email=f"secret{n}@example.com")
        Signature.objects.filter(pk=signature.pk).update(created_at=moment)
    unsigned = make_petition(status=Petition.Status.CLOSED)
    hidden = make_petition(status=Petition.Status.PENDING)
    return signed, unsigned, hidden


def test_the_json_file_holds_every_public_petition_with_its_days(client, petitions):
    signed, unsigned, _hidden = petitions
    call_command("build_bulk_data", stdout=io.StringIO())
    response = client.get(JSON_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    data = json.loads(gzip.decompress(response.content))
    found = {p["slug"]: p for p in data["petitions"]}
    assert set(found) == {signed.slug, unsigned.slug}
    assert found[signed.slug]["count"] == 3
    assert found[signed.slug]["title_fa"] == "دریاچهٔ ارومیه"
    daily = found[signed.slug]["daily"]
    assert [d["signatures"] for d in daily] == [2, 1] or [d["signatures"] for d in daily] == [3]
    assert daily[-1]["total"] == 3
    assert found[unsigned.slug]["daily"] == []
    assert found[unsigned.slug]["state"] == "closed"
    assert data["built_at"].endswith("Z")


def test_the_csv_file_has_a_line_per_petition_per_day(client, petitions):
    signed, unsigned, _hidden = petitions
    bulk.build()
    text = gzip.decompress(client.get(CSV_URL).content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert set(rows[0]) == set(bulk.PETITION_COLUMNS + bulk.DAY_COLUMNS)
    mine = [r for r in rows if r["slug"] == signed.slug]
    assert sum(int(r["signatures"]) for r in mine) == 3
    assert mine[-1]["total"] == "3"
    # A title that a spreadsheet would run as a formula is kept as text.
    assert mine[0]["title_en"] == '\'=HYPERLINK("x") "quoted"'
    empty = [r for r in rows if r["slug"] == unsigned.slug]
    assert len(empty) == 1 and empty[0]["date"] == "" and empty[0]["count"] == "0"


def test_no_personal_data_is_in_either_file(client, petitions):
    bulk.build()
    for url in [CSV_URL, JSON_URL]:
        text = gzip.decompress(client.get(url).content).decode()
        assert "Secret Person" not in text
        assert "secret0@example.com" not in text
        assert "Sara Karimi" not in text  # the starter's name
        assert "@" not in text


def test_served_with_last_modified_and_etag_and_304(client, petitions):
    bulk.build()
    first = client.get(CSV_URL)
    assert first["ETag"].startswith('"')
    assert first["Last-Modified"].endswith("GMT")
    assert "public" in first["Cache-Control"]
    assert "attachment" in first["Content-Disposition"]
    assert client.get(CSV_URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    since = client.get(CSV_URL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_the_same_petitions_build_the_same_bytes(petitions):
    bulk.build()
    before = bulk.latest(bulk.CSV).etag
    bulk.build()
    assert bulk.latest(bulk.CSV).etag == before


def test_before_the_first_build_the_files_are_a_json_404(client):
    response = client.get(JSON_URL)
    assert response.status_code == 404
    assert "built" in response.json()["detail"]


def test_the_command_can_queue_the_build_for_the_worker(petitions):
    out = io.StringIO()
    call_command("build_bulk_data", "--enqueue", stdout=out)
    assert "Queued" in out.getvalue()
    # The default backend runs a task at once, as `make run` does.
    assert bulk.latest(bulk.JSON) is not None
