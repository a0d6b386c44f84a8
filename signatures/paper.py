"""Signatures collected on paper: reading a moderator's CSV, entering a batch into the count and
the public record, and removing it again. See docs/paper.md.

A row is normalised as a form typed online would be (lib.persian.clean_text: letter forms,
digits, bidi controls) and its email compared in the one canonical form; a row whose email
already signed online, or came on paper before, is a duplicate and is not counted. A row
without an email is never a duplicate: nothing on it says who else it could be.
"""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from lib import audit
from lib.normalise import canonical_email, clean_code, name_problem
from lib.persian import clean_text
from petitions.models import Petition

from .models import (
    LABEL_FIELDS,
    CountChange,
    PaperBatch,
    PaperSignature,
    Signature,
    SignatureCount,
    forget_counts,
)

# More than any sheet pile a moderator types up at once, and a bound on what one upload costs.
MOST_ROWS = 20000
NAME_LENGTH = PaperSignature._meta.get_field("name").max_length
EMAIL_LENGTH = PaperSignature._meta.get_field("email").max_length
# NFKC can lengthen what the form let through: kept to what the batch and the record hold.
DESCRIPTION_LENGTH = PaperBatch._meta.get_field("description").max_length
HEADERS = {
    "name": {"name", "full name", "نام", "نام و نام خانوادگی"},
    "email": {"email", "e-mail", "email address", "ایمیل", "رایانامه", "نشانی ایمیل"},
    "country": {"country", "کشور"},
}

PROBLEMS = {
    "columns": _("Needs a name and a country."),
    "name": _("The name is missing or is not a name."),
    "long": _("Too long for a name or an email."),
    "email": _("Not an email address."),
    "country": _("Not a country we know (a code such as IR or a name)."),
}
DUPLICATES = {
    "online": _("Already signed online"),
    "paper": _("Already entered on paper"),
    "file": _("Same email as an earlier row in this file"),
}


class Unreadable(ValueError):
    """The file as a whole cannot be read as CSV text."""


@dataclass(frozen=True)
class Row:
    row: int
    name: str
    email: str
    email_canonical: str
    country: str

    @property
    def country_name(self) -> str:
        """In the language active when it is shown."""
        return str(countries.name(self.country) or self.country)


@dataclass
class Reading:
    accepted: list[Row] = field(default_factory=list)
    # (row, code of DUPLICATES, the earlier row in this file or None)
    duplicates: list[tuple[int, str, int | None]] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (row, code of PROBLEMS)
    rows: int = 0

    def report(self) -> dict:
        return {
            "rows": self.rows,
            "duplicates": [list(item) for item in self.duplicates],
            "invalid": [list(item) for item in self.invalid],
        }


def explain_duplicate(code: str, earlier: int | None) -> str:
    if code == "file" and earlier:
        return str(_("Same email as row %(row)s") % {"row": earlier})
    return str(DUPLICATES.get(code, code))


def explain_problem(code: str) -> str:
    return str(PROBLEMS.get(code, code))


def country_code(value: str) -> str:
    """An ISO code, or the country's name in English or Persian, as a sheet may carry either."""
    typed = clean_text(value)
    if not typed:
        return ""
    if len(typed) == 2 and typed.isascii() and typed.upper() in countries:
        return typed.upper()
    for language in ("en", "fa"):
        code = countries.by_name(typed, language=language)
        if code:
            return code
    return ""


def decoded(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1256"):  # a Persian Excel on Windows saves in cp1256
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unreadable(_("The file is not text in UTF-8."))


def read_rows(text: str) -> tuple[list[tuple[int, list[str]]], dict[str, int]]:
    """(spreadsheet row number, cells) and the column of each field. A first row of headers
    (in English or Persian) names the columns; without one they are name, email, country."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = [
        (number, cells)
        for number, cells in enumerate(csv.reader(io.StringIO(text), dialect), start=1)
        if any(cell.strip() for cell in cells)
    ]
    columns = {"name": 0, "email": 1, "country": 2}
    if lines:
        header = [clean_text(cell).lower() for cell in lines[0][1]]
        found = {
            key: header.index(name)
            for key, names in HEADERS.items()
            for name in names
            if name in header
        }
        if "name" in found:
            columns = found
            lines = lines[1:]
    return lines, columns


def read_csv(petition, data: bytes) -> Reading:
    """Read and check every row; nothing is written. Duplicates are judged against the database
    as it is now and again when the batch is entered."""
    lines, columns = read_rows(decoded(data))
    if len(lines) > MOST_ROWS:
        raise Unreadable(
            _("At most %(most)s rows in one file; split it into several batches.")
            % {"most": MOST_ROWS}
        )
    reading = Reading(rows=len(lines))
    candidates = []
    for number, cells in lines:
        row, problem = checked_row(number, cells, columns)
        if problem:
            reading.invalid.append((number, problem))
        else:
            candidates.append(row)
    sort_duplicates(petition, candidates, reading)
    return reading


def checked_row(number: int, cells: list[str], columns: dict[str, int]):
    def cell(key: str) -> str:
        index = columns.get(key)
        return cells[index] if index is not None and index < len(cells) else ""

    name = clean_text(cell("name"))
    email = clean_code(cell("email")).replace(" ", "")
    typed_country = cell("country")
    if not name or not typed_country.strip():
        return None, "columns"
    if name_problem(name):
        return None, "name"
    if len(name) > NAME_LENGTH or len(email) > EMAIL_LENGTH:
        return None, "long"
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return None, "email"
    code = country_code(typed_country)
    if not code:
        return None, "country"
    canonical = canonical_email(email) if email else ""
    return Row(number, name, email, canonical, code), None


def sort_duplicates(petition, candidates: list[Row], reading: Reading) -> None:
    emails = {row.email_canonical for row in candidates if row.email_canonical}
    online = set(
        Signature.objects.filter(petition_id=petition.pk, email_canonical__in=emails).values_list(
            "email_canonical", flat=True
        )
    )
    on_paper = set(
        PaperSignature.objects.filter(
            petition_id=petition.pk, email_canonical__in=emails
        ).values_list("email_canonical", flat=True)
    )
    first_row: dict[str, int] = {}
    reading.accepted = []
    for row in candidates:
        email = row.email_canonical
        if not email:
            reading.accepted.append(row)
        elif email in online:
            reading.duplicates.append((row.row, "online", None))
        elif email in on_paper:
            reading.duplicates.append((row.row, "paper", None))
        elif email in first_row:
            reading.duplicates.append((row.row, "file", first_row[email]))
        else:
            first_row[email] = row.row
            reading.accepted.append(row)
    reading.duplicates.sort()


def user_or_none(actor):
    """`by` may be a user or, as for the audit log, a string naming an operator or the system."""
    return actor if getattr(actor, "pk", None) else None


def enter_count(petition, *, count: int, description: str, by) -> PaperBatch:
    """A batch given only as a number ("312 signatures collected at the book fair")."""
    with transaction.atomic():
        batch = PaperBatch.objects.create(
            petition=petition,
            kind=PaperBatch.Kind.COUNT,
            description=clean_text(description)[:DESCRIPTION_LENGTH],
            count=count,
            entered_by=user_or_none(by),
        )
        _counted(batch, by)
    return batch


def enter_rows(petition, *, data: bytes, description: str, by) -> tuple[PaperBatch | None, Reading]:
    """Rows from a CSV file: read again inside the transaction, so that the duplicates are judged
    against what is in the database when the rows go in. None when no row could be counted."""
    with transaction.atomic():
        # One batch at a time per petition: two moderators entering the same pile at once would
        # otherwise each find the other's rows new.
        list(Petition.objects.select_for_update().filter(pk=petition.pk).values_list("pk"))
        reading = read_csv(petition, data)
        if not reading.accepted:
            return None, reading
        batch = PaperBatch.objects.create(
            petition=petition,
            kind=PaperBatch.Kind.ROWS,
            description=clean_text(description)[:DESCRIPTION_LENGTH],
            count=len(reading.accepted),
            report=reading.report(),
            entered_by=user_or_none(by),
        )
        PaperSignature.objects.bulk_create(
            PaperSignature(
                batch=batch,
                petition_id=petition.pk,
                row=row.row,
                name=row.name,
                email=row.email,
                email_canonical=row.email_canonical,
                country=row.country,
            )
            for row in reading.accepted
        )
        _counted(batch, by)
    return batch, reading


def _counted(batch: PaperBatch, by) -> None:
    SignatureCount.add(batch.petition_id, batch.count)
    CountChange.objects.create(
        petition_id=batch.petition_id,
        kind=CountChange.Kind.PAPER_ADDED,
        signatures=batch.count,
        delta=batch.count,
        note=batch.description,
    )
    audit.record(
        by,
        audit.Action.PAPER_ENTERED,
        _petition_label(batch),
        paper_batch=batch.pk,
        entered_as=batch.kind,
        signatures=batch.count,
        note=batch.description,
        duplicates=len(batch.report.get("duplicates", [])),
        invalid=len(batch.report.get("invalid", [])),
    )
    forget_counts([batch.petition_id])


def remove(batch: PaperBatch, *, by) -> bool:
    """Take the batch's number off the count; its rows go (their emails no longer stand in the
    way of a later batch), the batch stays as the record's line. False if already removed."""
    with transaction.atomic():
        locked = PaperBatch.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None or locked.removed_at is not None:
            return False
        locked.removed_at, locked.removed_by = timezone.now(), user_or_none(by)
        locked.save(update_fields=["removed_at", "removed_by"])
        locked.rows.all().delete()
        SignatureCount.add(locked.petition_id, -locked.count)
        CountChange.objects.create(
            petition_id=locked.petition_id,
            kind=CountChange.Kind.PAPER_REMOVED,
            signatures=locked.count,
            delta=-locked.count,
            note=locked.description,
        )
        audit.record(
            by,
            audit.Action.PAPER_REMOVED,
            _petition_label(locked),
            paper_batch=locked.pk,
            signatures=locked.count,
            note=locked.description,
        )
        forget_counts([locked.petition_id])
    batch.removed_at, batch.removed_by = locked.removed_at, locked.removed_by
    return True


def _petition_label(batch: PaperBatch):
    return Petition.objects.only(*LABEL_FIELDS).get(pk=batch.petition_id)


def paper_total(petition_id: int) -> int:
    return PaperBatch.objects.total_for(petition_id)
