"""Exporting signatures as CSV or JSON Lines, streamed row by row.

One generator reads the rows through the ORM's `.iterator()` (a server-side cursor on PostgreSQL,
so only a chunk is in memory) and both formats are written from it, so memory stays flat whether a
petition has a hundred signatures or millions. Every export writes its own audit record when its
stream ends, finished or interrupted.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import transaction
from django.db.models import CharField, Func, Value

from lib import audit

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
    "signed_at_utc",
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
FORMULA_STARTS = frozenset("=+-@\t\r")
BYTE_ORDER_MARK = "\ufeff"  # lets Excel open UTF-8 (Persian names) correctly
CHUNK_ROWS = 5000


def signatures_for_export(petitions, status: str | None = None, since=None):
    queryset = Signature.objects.filter(petition__in=petitions)
    if status:
        queryset = queryset.filter(status=status)
    if since:
        queryset = queryset.filter(created_at__gte=since)
    return queryset.order_by("petition_id", "pk")


class UTCTimestamp(Func):
    """A timestamp as ISO 8601 text in UTC, formatted by the database. Parsing a million
    timestamps into Python datetimes only to print them again was most of an export's time."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\')',
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # The format goes as a query parameter: written into the SQL, its "%Y" broke Django's
        # debug SQL logging, which %-formats the statement (a 500 on every export under DEBUG).
        strftime = self.copy()
        strftime.set_source_expressions(
            [Value("%Y-%m-%dT%H:%M:%SZ"), *self.get_source_expressions()]
        )
        return strftime.as_sql(compiler, connection, function="strftime", **extra)


def defused(text: str) -> str:
    """`text` as a spreadsheet shows it and never runs it: with a leading apostrophe where it
    starts like a formula. The same rule as Defused, for text made in Python."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


class Defused(Func):
    """The text with a leading apostrophe where it starts like a formula. Done by the database, in
    one cheap test per cell, so that a million rows cost no Python work."""

    output_field = CharField()
    template = (
        "CASE WHEN substr(%(expressions)s, 1, 1) IN ('=', '+', '-', '@', '\t', '\r') "
        "THEN '''' || %(expressions)s ELSE %(expressions)s END"
    )


# What a signer typed; only these can carry a formula.
TYPED_FIELDS = ("name", "email", "locality", "comment")


def batches(queryset, *, defuse: bool) -> Iterator[list[tuple]]:
    """The signatures as lists of up to CHUNK_ROWS tuples of plain values in COLUMNS order. With
    `defuse`, cells a spreadsheet would run as a formula are neutralised. Whole batches, not
    single rows, so that Python does per-batch work a million times less."""
    annotations = {"signed_at_utc": UTCTimestamp("created_at")}
    fields = list(FIELDS)
    if defuse:
        for field in TYPED_FIELDS:
            annotations[f"{field}_defused"] = Defused(field)
            fields[fields.index(field)] = f"{field}_defused"
    values = queryset.annotate(**annotations).values_list(*fields)
    # Inside a transaction PostgreSQL streams the server-side cursor as it goes; outside one,
    # Django declares it WITH HOLD and the server copies every row before sending the first.
    with transaction.atomic():
        yield from batched(values.iterator(chunk_size=CHUNK_ROWS), CHUNK_ROWS)


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def csv_chunks(batches_: Iterable[list[tuple]]) -> Iterator[str]:
    """CSV text in chunks of CHUNK_ROWS rows: header first, with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BYTE_ORDER_MARK)
    writer.writerow(COLUMNS)
    for batch in batches_:
        writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(batches_: Iterable[list[tuple]]) -> Iterator[str]:
    """One JSON object a line, for tools: the values as stored, nothing neutralised."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for batch in batches_:
        yield "".join(encode(dict(zip(COLUMNS, record, strict=True))) + "\n" for record in batch)


# format: (writer, content type, file extension, neutralise formulas)
FORMATS = {
    "csv": (csv_chunks, "text/csv; charset=utf-8", "csv", True),
    "jsonl": (jsonl_chunks, "application/x-ndjson; charset=utf-8", "jsonl", False),
}


class Export:
    """An export in progress: iterate it for text chunks; `rows` tells how many were written.

    It writes its own audit record (who, which petitions, how many rows, whether it finished) when
    the stream ends: when it runs out, or when `close()` is called early. A WSGI server closes a
    streamed response when the download ends or breaks off, so a response that streams an Export
    closes it either way.
    """

    def __init__(self, petitions, fmt: str = "csv", *, by, status: str | None = None, since=None):
        self.petitions = list(petitions)
        self.format = fmt
        self.by = by
        self.status = status
        self.since = since
        self.rows = 0
        self.finished = False
        self.recorded = False
        writer, _, _, defuse = FORMATS[fmt]
        queryset = signatures_for_export(self.petitions, status=status, since=since)
        self._chunks = writer(self._counted(batches(queryset, defuse=defuse)))

    def _counted(self, batches_):
        for batch in batches_:
            self.rows += len(batch)
            yield batch
        self.finished = True

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._chunks
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading rows, and write the audit record (once)."""
        if self.recorded:
            return
        self.recorded = True
        self._chunks.close()  # ends the read and its transaction before the record is written
        detail = {"signatures": self.rows, "format": self.format}
        if self.status:
            detail["status"] = self.status
        if self.since:
            detail["since"] = self.since.isoformat()
        if not self.finished:
            detail["interrupted"] = True
        target = self.petitions[0] if len(self.petitions) == 1 else None
        if target is None:
            detail["petitions"] = [petition.slug for petition in self.petitions]
        audit.record(self.by, audit.Action.SIGNATURE_EXPORTED, target, **detail)

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][1]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][2]
