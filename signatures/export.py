"""Signatures as CSV or JSON Lines, streamed in flat memory through a server-side cursor."""

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
    """ISO 8601 in UTC, by the database: parsing datetimes to print them was most of the time."""

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
        # A parameter: written into the SQL, "%Y" breaks Django's debug logging, which %-formats it.
        strftime = self.copy()
        strftime.set_source_expressions(
            [Value("%Y-%m-%dT%H:%M:%SZ"), *self.get_source_expressions()]
        )
        return strftime.as_sql(compiler, connection, function="strftime", **extra)


def defused(text: str) -> str:
    """Defused, for text made in Python."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


class Defused(Func):
    """In the database, so that a million rows cost no Python work."""

    output_field = CharField()
    template = (
        "CASE WHEN substr(%(expressions)s, 1, 1) IN ('=', '+', '-', '@', '\t', '\r') "
        "THEN '''' || %(expressions)s ELSE %(expressions)s END"
    )


# What a signer typed; only these can carry a formula.
TYPED_FIELDS = ("name", "email", "locality", "comment")


def batches(queryset, *, defuse: bool) -> Iterator[list[tuple]]:
    """Tuples in COLUMNS order, in batches, so that Python's per-batch work is rare."""
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
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for batch in batches_:
        yield "".join(encode(dict(zip(COLUMNS, record, strict=True))) + "\n" for record in batch)


# format: (writer, content type, file extension, neutralise formulas)
FORMATS = {
    "csv": (csv_chunks, "text/csv; charset=utf-8", "csv", True),
    "jsonl": (jsonl_chunks, "application/x-ndjson; charset=utf-8", "jsonl", False),
}


class Export:
    """Writes its audit record when the stream runs out or is closed; a WSGI server closes a
    streamed response when the download ends or breaks off."""

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
