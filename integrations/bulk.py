"""The daily open-data dump: every public petition and its counts per day, as gzip'd CSV and
JSON, built here and kept as BulkFile rows for the API to serve (integrations/api/endpoints.py).

No personal data: the petition's public text and figures only, never a signer, nor the starter's
name or contact. Built by `manage.py build_bulk_data` (cron: deploy/cron/petitions)
or by the task below."""

import csv
import datetime
import gzip
import io
import json
import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from lib.http import strong_etag
from lib.urls import site_url
from petitions.models import Petition
from signatures import history
from signatures.models import SignatureCount

from .bulk_models import BulkFile

log = logging.getLogger(__name__)

CSV = "petitions.csv.gz"
JSON = "petitions.json.gz"

PETITION_COLUMNS = (
    "slug",
    "state",
    "languages",
    "original_language",
    "title_en",
    "title_fa",
    "addressed_to_en",
    "addressed_to_fa",
    "goal",
    "count",
    "outcome",
    "outcome_date",
    "created_at",
    "opened_at",
    "closes_at",
    "page_en",
    "page_fa",
)
DAY_COLUMNS = ("date", "signatures", "total")


def utc(value) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def petition_rows() -> list[dict]:
    """Every public petition, oldest first, with its days; the series brought up to date."""
    petitions = list(
        Petition.objects.public()
        .with_signable()
        .defer("letter_en", "letter_fa", "response_en", "response_fa")
        .order_by("created_at", "pk")
    )
    totals = SignatureCount.objects.totals_for(p.pk for p in petitions)
    rows = []
    for petition in petitions:
        count = totals.get(petition.pk, 0)
        history.refresh(petition.pk)
        days = history.by_day(history.stored_series(petition.pk))
        rows.append(
            {
                "slug": petition.slug,
                "state": "open" if petition.is_signable else "closed",
                "languages": list(petition.languages),
                "original_language": petition.original_language,
                "title_en": petition.title_en,
                "title_fa": petition.title_fa,
                "addressed_to_en": petition.addressed_to_en,
                "addressed_to_fa": petition.addressed_to_fa,
                "goal": petition.goal_for(count),
                "count": count,
                "outcome": petition.outcome or None,
                "outcome_date": petition.outcome_date.isoformat()
                if petition.outcome and petition.outcome_date
                else None,
                "created_at": utc(petition.created_at),
                "opened_at": utc(petition.opened_at),
                "closes_at": utc(petition.closes_at),
                "page_en": site_url(petition.url_in("en")),
                "page_fa": site_url(petition.url_in("fa")),
                "daily": [
                    {"date": d.hour.date().isoformat()}
                    | {"signatures": d.signatures, "total": d.total}
                    for d in days
                ],
            }
        )
    return rows


def as_csv(rows: list[dict]) -> bytes:
    """One line per petition per day; a petition with no signed day has one with the day empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PETITION_COLUMNS + DAY_COLUMNS)
    for row in rows:
        petition = [cell(row[name]) for name in PETITION_COLUMNS]
        for day in row["daily"] or [dict.fromkeys(DAY_COLUMNS)]:
            writer.writerow(petition + [cell(day[name]) for name in DAY_COLUMNS])
    return out.getvalue().encode()


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    text = str(value)
    # A spreadsheet runs a cell that starts like a formula; organisers write the titles.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_json(rows: list[dict], built_at) -> bytes:
    body = {"built_at": utc(built_at), "petitions": rows}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def compressed(data: bytes) -> bytes:
    # mtime 0: the same rows give the same bytes, and so the same ETag.
    return gzip.compress(data, compresslevel=9, mtime=0)


def build() -> int:
    """Build both files and replace the old ones together; returns how many petitions."""
    built_at = timezone.now()
    rows = petition_rows()
    files = {CSV: compressed(as_csv(rows)), JSON: compressed(as_json(rows, built_at))}
    with transaction.atomic():
        for name, content in files.items():
            BulkFile.objects.update_or_create(
                name=name,
                defaults={
                    "content": content,
                    "etag": strong_etag(content),
                    "built_at": built_at,
                    "petitions": len(rows),
                },
            )
    log.info("Built the bulk data: %s petitions", len(rows))
    return len(rows)


def latest(name: str) -> BulkFile | None:
    return BulkFile.objects.filter(name=name).first()


@task()
def build_bulk_data() -> int:
    """For a worker (TASKS_BACKEND=database): `manage.py build_bulk_data --enqueue` queues it."""
    return build()
