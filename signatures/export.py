"""Exporting signatures as CSV or JSON Lines, streamed row by row.

One generator reads the rows from a server-side cursor (on PostgreSQL, `.iterator()` keeps only a
chunk in memory) and both formats are written from it, so memory stays flat whether a petition has
a hundred signatures or millions.
"""

import csv
import datetime
import io
import json
from collections.abc import Iterable, Iterator

from .models import Signature

COLUMNS = (
    "petition",
    "signed_at_utc",
    "name",
    "email",
    "country",
    "city_or_postcode",
    "comment",
    "show_name",
    "consent_contact",
    "language",
    "status",
)
FIELDS = (
    "petition__slug",
    "created_at",
    "name",
    "email",
    "country",
    "locality",
    "comment",
    "show_name",
    "consent_contact",
    "language",
    "status",
)
# A spreadsheet runs a cell that starts with one of these as a formula ("CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"  # lets Excel open UTF-8 (Persian names) correctly
CHUNK_ROWS = 2000


def signatures_for_export(petitions, status: str | None = None, since=None):
    queryset = Signature.objects.filter(petition__in=petitions)
    if status:
        queryset = queryset.filter(status=status)
    if since:
        queryset = queryset.filter(created_at__gte=since)
    return queryset.order_by("petition_id", "pk")


def rows(queryset) -> Iterator[tuple]:
    """Each signature as a tuple of plain values in COLUMNS order, times in ISO 8601 UTC."""
    for row in queryset.values_list(*FIELDS).iterator(chunk_size=CHUNK_ROWS):
        signed_at = row[1].astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        yield (row[0], signed_at, *row[2:])


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(records: Iterable[tuple]) -> Iterator[str]:
    """CSV text in chunks of CHUNK_ROWS rows: header first, with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BYTE_ORDER_MARK)
    writer.writerow(COLUMNS)
    for n, record in enumerate(records, 1):
        writer.writerow([neutralise(value) for value in record])
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(records: Iterable[tuple]) -> Iterator[str]:
    """One JSON object a line, for tools: the values as stored, nothing neutralised."""
    lines = []
    for record in records:
        lines.append(json.dumps(dict(zip(COLUMNS, record, strict=True)), ensure_ascii=False))
        if len(lines) == CHUNK_ROWS:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"


FORMATS = {
    "csv": (csv_chunks, "text/csv; charset=utf-8", "csv"),
    "jsonl": (jsonl_chunks, "application/x-ndjson; charset=utf-8", "jsonl"),
}


class Export:
    """An export in progress: iterate it for text chunks; `rows` tells how many were written."""

    def __init__(self, queryset, fmt: str = "csv"):
        self.format = fmt
        self.rows = 0
        self.finished = False
        self._chunks = FORMATS[fmt][0](self._counted(rows(queryset)))

    def _counted(self, records):
        for record in records:
            self.rows += 1
            yield record
        self.finished = True

    def __iter__(self) -> Iterator[str]:
        return self._chunks

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][2]
