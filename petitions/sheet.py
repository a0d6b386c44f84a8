"""The printable signature sheet: one A4 page in one language, to collect signatures on paper
that a moderator later enters (docs/paper.md). Set in the delivery pack's font and shaping, so
that Persian reads right to left and a character the font lacks shows as a mark."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from lib.http import strong_etag
from lib.persian import format_number
from lib.urls import site_url

from .delivery import PackPDF, is_rtl
from .models import Petition, text_direction

# Tall enough to write a name by hand.
ROW_HEIGHT = 9.5
FEWEST_ROWS = 8
# Number, name, email, country, signature: shares of the page's width.
COLUMNS = (0.06, 0.3, 0.3, 0.14, 0.2)
# The foot of the page (the return address) needs this much room under the table, in mm.
FOOT = 24
# After an address inside Persian text: a left-to-right mark keeps its trailing "/" at its end.
LRM = "\u200e"
# Raised whenever the sheet's layout or wording changes, so that caches let go of the old one.
LAYOUT = "1"


class SheetPDF(PackPDF):
    def footer(self):
        """One page: no page number."""

    def grid_row(self, cells: list[str], *, bold: bool = False) -> None:
        """A row of boxes, mirrored on a right-to-left page, each cell shaped in its own text's
        direction."""
        widths = [self.epw * share for share in COLUMNS]
        self.set_font("vazir", "B" if bold else "", 9 if bold else 10)
        row = list(zip(cells, widths, strict=True))
        if self.direction == "rtl":
            row.reverse()
        for text, width in row:
            self.set_text_shaping(True, direction="rtl" if is_rtl(text) else "ltr")
            self.cell(width, ROW_HEIGHT if not bold else 8, text, border=1, align="C")
        self.ln(ROW_HEIGHT if not bold else 8)
        self.use_direction(self.direction)


def etag(petition: Petition, language: str) -> str:
    """Changes with the petition's text (its edit marker), the language and the return address."""
    edited = petition.updated_at.isoformat() if petition.updated_at else ""
    return strong_etag(
        f"{LAYOUT}:{petition.pk}:{language}:{edited}:{settings.PAPER_RETURN_ADDRESS}"
    )


def return_line() -> str:
    address = " ".join(settings.PAPER_RETURN_ADDRESS.split())
    if address:
        return _("Please return this sheet to: %(address)s") % {"address": address}
    return _(
        "Please return this sheet to the person who gave it to you, or send a photo or scan of "
        "it to %(contact)s (%(site)s)."
    ) % {"contact": settings.PRIVACY_CONTACT + LRM, "site": site_url("/") + LRM}


def render(petition: Petition, language: str) -> bytes:
    text = petition.in_language(language)
    with translation.override(language):
        pdf = SheetPDF(text.title.value)
        pdf.set_auto_page_break(True, margin=12)
        pdf.set_margins(14, 12, 14)
        pdf.add_page()
        pdf.use_direction(text_direction(language))
        pdf.paragraph(_("Petition: signature sheet"), size=9, gap=1)
        pdf.paragraph(text.title.value, size=16, style="B", gap=1)
        pdf.paragraph(_("To: %(to)s") % {"to": text.addressed_to.value}, size=10, style="B", gap=1)
        if text.summary.value:
            pdf.paragraph(text.summary.value, size=9.5, gap=2)
        page = site_url(petition.get_absolute_url())
        pdf.paragraph(
            _(
                "Signing on this sheet counts the same as signing online at %(page)s: a "
                "moderator types up the sheet and adds each signature to the petition's count. "
                "Please sign only once, on paper or online."
            )
            % {"page": page + LRM},
            size=8.5,
            gap=1,
        )
        privacy = site_url(reverse("petitions:privacy"))
        pdf.paragraph(
            _(
                "Your name, email and country are used only to count your signature and to "
                "check that nobody is counted twice; the email is optional and is never shown "
                "or shared. Your name may be handed to the petition's recipient with the count. "
                "More: %(privacy)s"
            )
            % {"privacy": privacy + LRM},
            size=8.5,
            gap=3,
        )
        pdf.grid_row(
            [
                _("No."),
                _("Full name"),
                _("Email (optional)"),
                _("Country"),
                _("Signature"),
            ],
            bold=True,
        )
        room = pdf.page_break_trigger - pdf.y - FOOT
        rows = max(FEWEST_ROWS, int(room // ROW_HEIGHT))
        for number in range(1, rows + 1):
            pdf.grid_row([format_number(number, language), "", "", "", ""])
        pdf.ln(3)
        pdf.paragraph(return_line(), size=9, style="B", gap=0)
        return bytes(pdf.output())
