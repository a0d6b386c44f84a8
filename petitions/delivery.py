"""The delivery pack: the petition as handed to the decision maker, as a PDF and a CSV.

Signers are named as the public list may name them (SignatureQuerySet.listed), never with a city;
signers in a PLACE_NEVER_SHOWN country are counted but never named, so no heading places them.
"""

import csv
import datetime
import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import nh3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, Max, Min, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries
from django_tasks import task
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from lib import audit
from lib.markdown import render_letter
from lib.persian import format_date, format_number, format_percent
from signatures.export import defused
from signatures.models import PLACE_NEVER_SHOWN, PaperBatch, PaperSignature, Signature
from signatures.supporter import short_name

from .inclusion import give_missing_receipts, write_tree
from .models import DeliveryPack, Petition, text_direction

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
OTHER = "other"
CHUNK = 5000
# Progress is written to the row this often (names), each time in its own short transaction.
PROGRESS_EVERY = 20000
NAME_SEPARATOR = "  ·  "
# Arabic script, including the Persian letters and presentation forms.
RTL_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
BLOCK_END = re.compile(r"</(?:p|li|h2|h3|h4|blockquote)>|<br\s*/?>|<hr\s*/?>")


# Drawn with the character before them, never alone: variation selectors, the zero-width joiner,
# skin tones and flag tags.
CLUSTER_PARTS = re.compile("[\ufe00-\ufe0f\u200d\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")
# A flag is two regional indicators; two flags side by side come out as one mark, which is fine.
REGIONAL_INDICATOR = re.compile("[\U0001f1e6-\U0001f1ff]")
MISSING = "\ufffd"


@lru_cache(maxsize=1)
def font_characters() -> frozenset[int]:
    return frozenset(TTFont(FONT_DIR / "Vazirmatn-Regular.ttf").getBestCmap())


def drawable(text: str) -> str:
    """`text` with every character Vazirmatn lacks (an emoji, mostly) shown as one replacement
    mark per cluster: a reader sees that something was there, where the font alone leaves a gap."""
    if text.isascii():
        return text
    known = font_characters()
    out: list[str] = []
    after_joiner = False
    for char in text:
        marked = bool(out) and out[-1] == MISSING
        if marked and (CLUSTER_PARTS.match(char) or REGIONAL_INDICATOR.match(char)):
            after_joiner = char == "\u200d"
        elif ord(char) in known:
            out.append(char)
            after_joiner = False
        else:
            if not (marked and after_joiner):
                out.append(MISSING)
            after_joiner = False
    return "".join(out)


def shown_name(name: str) -> str:
    return short_name(" ".join(name.split()))


def is_rtl(text: str) -> bool:
    return bool(RTL_LETTER.search(text))


def letter_paragraphs(text: str) -> list[str]:
    """The organiser's letter as plain paragraphs: its light Markdown rendered (as on the page)
    and then reduced to text, one entry per paragraph, list item or heading."""
    blocks = BLOCK_END.split(render_letter(text))
    paragraphs = (html.unescape(nh3.clean(block, tags=set())).strip() for block in blocks)
    return [" ".join(paragraph.split()) for paragraph in paragraphs if paragraph.strip()]


def languages_of(petition: Petition) -> list[str]:
    """The languages the petition is published in, the one it was written in first: a
    petition written in one language only gets no copy of it under the other's headings."""
    first = petition.original_language
    return [first, *(code for code in petition.languages if code != first)]


@dataclass(frozen=True)
class Facts:
    """What the pack says about the petition, counted once from the signature rows."""

    total: int
    named: int
    # (country code or OTHER, counted signatures), largest first, "other" last.
    countries: list[tuple[str, int]]
    first_signed: datetime.datetime | None
    last_signed: datetime.datetime | None
    made_at: datetime.datetime
    # The Merkle root over the counted signatures' receipts (petitions/merkle.py): `total` leaves.
    root: bytes = b""
    # Collected on paper and entered by moderators: not in `total` (online) nor in the tree,
    # since a paper signature has no receipt. (description, entered at, kind, number), oldest
    # first.
    paper: int = 0
    paper_batches: tuple = ()
    paper_named: int = 0

    @property
    def everyone(self) -> int:
        return self.total + self.paper

    @property
    def listed_countries(self) -> list[str]:
        return [code for code, _count in self.countries if code != OTHER]


def gather_facts(petition: Petition) -> Facts:
    counted = Signature.objects.counted().filter(petition_id=petition.pk)
    span = counted.aggregate(first=Min("created_at"), last=Max("created_at"), total=Count("pk"))
    # The same folding as the page's public breakdown, at the pack's own threshold.
    by_country = counted.counts_by_country(settings.DELIVERY_SMALL_COUNTRY)
    countries_ = [(str(code), n) for code, n in by_country.countries]
    if by_country.other:
        countries_.append((OTHER, by_country.other))
    batches = tuple(
        PaperBatch.objects.standing()
        .filter(petition_id=petition.pk)
        .order_by("entered_at", "pk")
        .values_list("description", "entered_at", "kind", "count")
    )
    return Facts(
        total=span["total"],
        named=Signature.objects.listed().filter(petition_id=petition.pk).count(),
        countries=countries_,
        first_signed=span["first"],
        last_signed=span["last"],
        made_at=timezone.now(),
        paper=sum(batch[3] for batch in batches),
        paper_batches=batches,
        paper_named=named_on_paper(petition).count(),
    )


def named_on_paper(petition: Petition):
    """The rows typed up from paper sheets, named as the online signers are: first name and
    initial, and nobody who gave a country where being seen to sign is dangerous."""
    return (
        PaperSignature.objects.filter(petition_id=petition.pk, batch__removed_at__isnull=True)
        .exclude(country__in=PLACE_NEVER_SHOWN)
        .order_by("batch__entered_at", "batch_id", "row")
    )


def named_signers(petition: Petition, facts: Facts) -> Iterator[tuple[str, list[str]]]:
    """(country, a batch of shown names) in the pack's order: country by country, largest first,
    then every small country together; within each, in the order they signed. One query, sorted
    by the database: a query per country would read the petition's rows once per country."""
    listed = facts.listed_countries
    group = Case(
        *(When(country=code, then=Value(rank)) for rank, code in enumerate(listed)),
        default=Value(len(listed)),
        output_field=IntegerField(),
    )
    names = (
        Signature.objects.listed()
        .filter(petition_id=petition.pk)
        .annotate(group=group)
        .order_by("group", "created_at", "pk")
        .values_list("group", "name")
    )
    # Outside a transaction, so that progress written meanwhile is seen at once; Django then
    # holds the server-side cursor WITH HOLD and PostgreSQL keeps the rows, not us.
    iterator = names.iterator(chunk_size=CHUNK)
    codes = [*listed, OTHER]
    current, batch = None, []
    for rank, name in iterator:
        if rank != current or len(batch) >= CHUNK:
            if batch:
                yield codes[current], batch
            current, batch = rank, []
        batch.append(shown_name(name))
    if batch:
        yield codes[current], batch


def country_name(code: str, language: str) -> str:
    with translation.override(language):
        if code == OTHER:
            return _("Other countries")
        return str(countries.name(code) or code)


class PackPDF(FPDF):
    """An A4 PDF in Vazirmatn, whose Persian is shaped by HarfBuzz (fpdf2's text shaping)."""

    MARGIN = 18

    def __init__(self, title: str):
        super().__init__(format="A4")
        self.set_margins(self.MARGIN, self.MARGIN, self.MARGIN)
        self.set_auto_page_break(True, margin=self.MARGIN)
        self.add_font("vazir", "", str(FONT_DIR / "Vazirmatn-Regular.ttf"))
        self.add_font("vazir", "B", str(FONT_DIR / "Vazirmatn-Bold.ttf"))
        self.set_title(title)
        self.set_creator("Petitions")
        self.direction = "ltr"
        self.direction_shaped = False
        # name -> its width: first names and initials repeat a lot.
        self.widths: dict[str, float] = {}

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(drawable(text))

    def footer(self):
        self.set_text_shaping(False)
        self.set_font("vazir", "", 8)
        self.set_y(-12)
        self.cell(0, 5, str(self.page_no()), align="C")
        if self.direction_shaped:
            self.set_text_shaping(True, direction=self.direction)

    def use_direction(self, direction: str) -> None:
        self.direction = direction
        self.direction_shaped = True
        self.set_text_shaping(True, direction=direction)

    def paragraph(self, text: str, size: float = 11, style: str = "", gap: float = 2) -> None:
        self.set_font("vazir", style, size)
        align = "R" if self.direction == "rtl" else "L"
        self.multi_cell(0, size * 0.55, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(gap)

    def table(
        self,
        rows: list[tuple[str, str, str]],
        header: tuple[str, str, str],
        widths: tuple[float, float, float] = (0.6, 0.22, 0.18),
        numbers: bool = True,
    ) -> None:
        """Three columns, mirrored on a right-to-left page. Each cell is laid out in its own
        text's direction, so that a Solar Hijri date on an English page reads as in Persian."""
        columns = tuple(self.epw * share for share in widths)
        start, end = ("L", "R") if self.direction == "ltr" else ("R", "L")
        aligns = (start, end, end) if numbers else (start, start, start)
        for index, row in enumerate([header, *rows]):
            self.set_font("vazir", "B" if index == 0 else "", 10)
            cells = list(zip(row, columns, aligns, strict=True))
            if self.direction == "rtl":
                cells.reverse()
            for text, column, align in cells:
                self.set_text_shaping(True, direction="rtl" if is_rtl(text) else "ltr")
                self.cell(column, 7, text, border="B", align=align)
            self.ln(7)
        self.use_direction(self.direction)

    def code_line(self, text: str, size: float = 9) -> None:
        """A hash in hex, left to right on every page, set at the start of the line."""
        self.set_text_shaping(False)
        self.set_font("vazir", "", size)
        align = "R" if self.direction == "rtl" else "L"
        self.cell(0, size * 0.6, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.use_direction(self.direction)

    def name_lines(self, names: list[str], size: float = 9) -> None:
        """Names set as full lines whatever their script, each line shaped and ordered by the
        bidi algorithm in the pack's direction: one HarfBuzz call a line, not one a name."""
        self.use_direction(self.direction)
        self.set_font("vazir", "", size)
        # Widths are measured a name at a time; the joined line may shape a hair wider.
        limit = self.epw * 0.98
        gap = self.get_string_width(NAME_SEPARATOR)
        line: list[str] = []
        used = 0.0
        for name in names:
            width = self._width(name)
            if line and used + gap + width > limit:
                self._name_line(line, size)
                line, used = [], 0.0
            used += width + (gap if line else 0.0)
            line.append(name)
        if line:
            self._name_line(line, size)

    def _width(self, name: str) -> float:
        width = self.widths.get(name)
        if width is None:
            width = self.widths[name] = self.get_string_width(name)
        return width

    def _name_line(self, line: list[str], size: float) -> None:
        text = NAME_SEPARATOR.join(line)
        height = size * 0.5
        if len(line) == 1 and self._width(text) > self.epw:
            # A one-word name wider than the page: multi_cell breaks it.
            align = "R" if self.direction == "rtl" else "L"
            self.multi_cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        if is_rtl(text):
            align = "R" if self.direction == "rtl" else "L"
            self.cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        # Latin alone needs no shaping, and text() is many times faster than a shaped cell():
        # most of a million names are set here.
        if self.y + height > self.page_break_trigger:
            self.add_page()
        width = sum(map(self._width, line)) + self.get_string_width(NAME_SEPARATOR) * (
            len(line) - 1
        )
        x = self.w - self.r_margin - width if self.direction == "rtl" else self.l_margin
        self.text(x, self.y + height * 0.8, text)
        self.set_y(self.y + height)


def front_pages(pdf: PackPDF, petition: Petition, facts: Facts, language: str) -> None:
    """The letter, the total, the dates and the counts by country, in one language."""
    text = petition.in_language(language)
    with translation.override(language):
        pdf.add_page()
        pdf.use_direction(text_direction(language))
        pdf.paragraph(text.title.value, size=20, style="B", gap=4)
        pdf.paragraph(
            _("A petition to %(to)s, started by %(starter)s")
            % {"to": text.addressed_to.value, "starter": petition.starter},
            size=11,
        )
        pdf.paragraph(
            ngettext(
                "%(count)s person signed this petition.",
                "%(count)s people signed this petition.",
                facts.everyone,
            )
            % {"count": format_number(facts.everyone, language)},
            size=16,
            style="B",
            gap=1 if facts.paper else 4,
        )
        if facts.paper:
            pdf.paragraph(
                _("%(online)s online and %(paper)s on paper")
                % {
                    "online": format_number(facts.total, language),
                    "paper": format_number(facts.paper, language),
                },
                size=12,
                gap=4,
            )
        dates_table(pdf, petition, facts)
        pdf.ln(4)
        root_section(pdf, facts, language)
        pdf.ln(4)
        pdf.paragraph(_("The letter"), size=14, style="B")
        for paragraph in letter_paragraphs(text.letter.value):
            pdf.paragraph(paragraph, size=11)
        pdf.ln(4)
        pdf.paragraph(_("Signatures by country"), size=14, style="B")
        countries_table(pdf, facts, language)
        if facts.paper_batches:
            pdf.ln(4)
            paper_section(pdf, facts, language)


def paper_section(pdf: PackPDF, facts: Facts, language: str) -> None:
    """Each batch entered from paper: where it came from, when, and how many it counted."""
    pdf.paragraph(_("Signatures on paper"), size=14, style="B")
    rows = [
        (
            description,
            format_date(entered_at, language),
            format_number(count, language)
            if kind == PaperBatch.Kind.COUNT
            else ngettext("%(n)s named row", "%(n)s named rows", count)
            % {"n": format_number(count, language)},
        )
        for description, entered_at, kind, count in facts.paper_batches
    ]
    rows.append((_("Total on paper"), "", format_number(facts.paper, language)))
    pdf.table(rows, (_("Batch"), _("Entered"), _("Signatures")), widths=(0.55, 0.2, 0.25))


def dates_table(pdf: PackPDF, petition: Petition, facts: Facts) -> None:
    """Each date in both calendars, whatever the pack's language."""
    dates = [
        (_("Opened"), petition.opened_at),
        (_("First signature"), facts.first_signed),
        (_("Latest signature"), facts.last_signed),
        (_("Delivered"), facts.made_at),
    ]
    pdf.table(
        [
            (label, format_date(value, "en"), format_date(value, "fa"))
            if value
            else (label, "—", "—")
            for label, value in dates
        ],
        ("", _("Gregorian calendar"), _("Solar Hijri calendar")),
        widths=(0.3, 0.35, 0.35),
        numbers=False,
    )


def root_section(pdf: PackPDF, facts: Facts, language: str) -> None:
    """The root that fixes which signatures were counted: each signer can check their own against
    it with their receipt (docs/proofs.md), and nobody can add or drop one without changing it."""
    pdf.paragraph(_("Checking the count"), size=14, style="B")
    pdf.paragraph(
        ngettext(
            "The %(count)s counted signature on %(date)s is fixed by this fingerprint (the root "
            "of a Merkle tree of the signers' receipts). Each signer can check with their receipt "
            "that they were counted; adding or removing a signature would change it.",
            "The %(count)s counted signatures on %(date)s are fixed by this fingerprint (the root "
            "of a Merkle tree of the signers' receipts). Each signer can check with their receipt "
            "that they were counted; adding or removing a signature would change it.",
            facts.total,
        )
        % {
            "count": format_number(facts.total, language),
            "date": format_date(facts.made_at, language),
        },
        size=10,
    )
    pdf.code_line(facts.root.hex())
    if facts.paper:
        pdf.paragraph(
            _(
                "Signatures collected on paper are not in this fingerprint: they have no "
                "receipts. They are listed below as moderators entered them."
            ),
            size=10,
        )


def countries_table(pdf: PackPDF, facts: Facts, language: str) -> None:
    rows = [
        (
            country_name(code, language),
            format_number(n, language),
            format_percent(round(100 * n / facts.total), language),
        )
        for code, n in facts.countries
    ]
    rows.append((_("Total"), format_number(facts.total, language), ""))
    pdf.table(rows, (_("Country"), _("Signatures"), _("Share")))


def names_heading(pdf: PackPDF, petition: Petition, facts: Facts) -> None:
    language = petition.original_language
    with translation.override(language):
        pdf.add_page()
        section_heading(
            pdf,
            language,
            ngettext(
                "The %(count)s signer who agreed to be named",
                "The %(count)s signers who agreed to be named",
                facts.named,
            )
            % {"count": format_number(facts.named, language)},
            _(
                "Signers are named by first name and initial only. Signers in Iran are counted "
                "but not named, for their safety."
            ),
        )


def paper_names_heading(pdf: PackPDF, petition: Petition, facts: Facts) -> None:
    language = petition.original_language
    with translation.override(language):
        pdf.ln(4)
        section_heading(
            pdf,
            language,
            ngettext(
                "%(count)s signer named on paper",
                "%(count)s signers named on paper",
                facts.paper_named,
            )
            % {"count": format_number(facts.paper_named, language)},
            _(
                "Typed up from paper sheets by moderators, in the order they were entered: "
                "first name and initial only, and none in Iran."
            ),
        )


def section_heading(pdf: PackPDF, language: str, title: str, note: str) -> None:
    pdf.use_direction(text_direction(language))
    pdf.paragraph(title, size=14, style="B")
    pdf.paragraph(note, size=9)


def paper_names(petition: Petition) -> Iterator[tuple[list[str], list[tuple[str, str]]]]:
    """(shown names, [(shown name, country)]) in batches, in the order they were entered."""
    rows = named_on_paper(petition).values_list("name", "country")
    batch: list[tuple[str, str]] = []
    for name, code in rows.iterator(chunk_size=CHUNK):
        batch.append((shown_name(name), str(code)))
        if len(batch) >= CHUNK:
            yield [name for name, _code in batch], batch
            batch = []
    if batch:
        yield [name for name, _code in batch], batch


def country_heading(pdf: PackPDF, code: str) -> None:
    pdf.ln(2)
    pdf.use_direction(pdf.direction)
    pdf.set_font("vazir", "B", 11)
    label = f"{country_name(code, 'en')} · {country_name(code, 'fa')}"
    align = "R" if pdf.direction == "rtl" else "L"
    pdf.cell(0, 7, label, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


CSV_COLUMNS = ("section", "country_code", "country", "value")


def csv_front_rows(petition: Petition, facts: Facts) -> Iterator[tuple]:
    yield ("petition", "", "", petition.slug)
    for language in languages_of(petition):
        text = petition.in_language(language)
        yield (f"title_{language}", "", "", text.title.value)
        yield (f"letter_{language}", "", "", text.letter.value)
    yield ("total", "", "", facts.total)
    yield ("paper", "", "", facts.paper)
    yield ("total_with_paper", "", "", facts.everyone)
    yield ("merkle_root", "", "", facts.root.hex())
    yield ("named", "", "", facts.named)
    for label, value in (
        ("opened", petition.opened_at),
        ("first_signature", facts.first_signed),
        ("latest_signature", facts.last_signed),
        ("delivered", facts.made_at),
    ):
        yield (label, "", "", value.isoformat() if value else "")
        yield (f"{label}_solar_hijri", "", "", format_date(value, "fa") if value else "")
    for code, n in facts.countries:
        yield ("country", code, country_name(code, "en"), n)
    for description, _entered_at, _kind, count in facts.paper_batches:
        yield ("paper_batch", "", description, count)


def defused_row(row: tuple) -> tuple:
    return tuple(defused(cell) if isinstance(cell, str) else cell for cell in row)


def facts_and_tree(pack: DeliveryPack, attempts: int = 3) -> Facts:
    """The facts and the Merkle tree of the same counted signatures: on PostgreSQL one
    REPEATABLE READ snapshot, so that a signature counted or struck off meanwhile is in both or
    in neither and the tree's leaves are the pack's total."""
    counted = Signature.objects.counted().filter(petition_id=pack.petition_id)
    # SET TRANSACTION must come first in its transaction: not possible inside a caller's.
    own_transaction = transaction.get_autocommit()
    for _attempt in range(attempts):
        give_missing_receipts(counted)
        with transaction.atomic():
            if connection.vendor == "postgresql" and own_transaction:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            facts = gather_facts(pack.petition)
            receipts = (
                counted.filter(receipt__isnull=False)
                .order_by("receipt")
                .values_list("receipt", flat=True)
            )
            root, leaves = write_tree(pack, receipts.iterator(chunk_size=CHUNK))
        if leaves == facts.total:
            return replace(facts, root=root)
        # A row without a receipt came in between (signed by code older than receipts): again.
    raise RuntimeError(f"the tree has {leaves} leaves for {facts.total} signatures")


def build(pack: DeliveryPack, *, pdf_path: Path | None = None, csv_path: Path | None = None):
    """Make the pack's PDF and CSV, writing progress on `pack` as the names are set."""
    petition = pack.petition
    facts = facts_and_tree(pack)
    DeliveryPack.objects.filter(pk=pack.pk).update(
        status=DeliveryPack.Status.RUNNING,
        signatures=facts.total,
        names_total=facts.named,
        names_done=0,
    )
    storage = pack.pdf.storage
    stem = f"{petition.slug}-{facts.made_at:%Y%m%d-%H%M%S}-{pack.pk}"
    pdf_name, csv_name = f"{stem}.pdf", f"{stem}.csv"
    pdf_path = pdf_path or Path(storage.path(pdf_name))
    csv_path = csv_path or Path(storage.path(csv_name))
    pdf_path.parent.mkdir(parents=True, exist_ok=True)

    pdf = PackPDF(petition.in_language(petition.original_language).title.value)
    for language in languages_of(petition):
        front_pages(pdf, petition, facts, language)
    names_heading(pdf, petition, facts)
    done, reported, current = 0, 0, None
    with csv_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        out.write("\ufeff")  # a byte-order mark, so that a spreadsheet reads the Persian as UTF-8
        writer.writerow(CSV_COLUMNS)
        writer.writerows(map(defused_row, csv_front_rows(petition, facts)))
        for code, names in named_signers(petition, facts):
            if code != current:
                country_heading(pdf, code)
                current = code
            pdf.name_lines(names)
            label = country_name(code, "en")
            writer.writerows(("name", code, label, defused(name)) for name in names)
            done += len(names)
            if done - reported >= PROGRESS_EVERY:
                DeliveryPack.objects.filter(pk=pack.pk).update(names_done=done)
                reported = done
        if facts.paper_named:
            paper_names_heading(pdf, petition, facts)
            for names, rows in paper_names(petition):
                pdf.name_lines(names)
                writer.writerows(
                    ("paper_name", code, country_name(code, "en"), defused(name))
                    for name, code in rows
                )
    pdf.output(str(pdf_path))
    with transaction.atomic():
        pack.status = DeliveryPack.Status.DONE
        pack.signatures, pack.names_total, pack.names_done = facts.total, facts.named, done
        pack.pdf.name, pack.csv.name = pdf_name, csv_name
        pack.merkle_root, pack.made_at = facts.root, facts.made_at
        pack.finished_at = timezone.now()
        pack.save()
        audit.record(
            pack.requested_by or "system",
            audit.Action.PACK_MADE,
            petition,
            pack=pack.pk,
            signatures=facts.total,
            names=done,
            root=facts.root.hex(),
        )
    return pack


def request_pack(petition: Petition, *, by) -> DeliveryPack:
    """Queue a new pack for the petition; the task makes it once this transaction commits."""
    pack = DeliveryPack.objects.create(petition=petition, requested_by=by)
    transaction.on_commit(lambda: make_delivery_pack.enqueue(pack.pk))
    return pack


@task()
def make_delivery_pack(pack_id: int) -> str:
    pack = (
        DeliveryPack.objects.select_related("petition", "requested_by").filter(pk=pack_id).first()
    )
    if pack is None or pack.status != DeliveryPack.Status.QUEUED:
        return "nothing to do"
    try:
        build(pack)
    except Exception as exc:
        log.exception("Delivery pack %s failed", pack_id)
        DeliveryPack.objects.filter(pk=pack_id).update(
            status=DeliveryPack.Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:500]
        )
        return "failed"
    return "done"
