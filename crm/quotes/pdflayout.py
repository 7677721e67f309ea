"""The quote PDF laid out with ReportLab (platypus): letterhead, customer and quote facts, the lines
table (its header repeated on every page), totals, terms, and a footer with "Page N of M".

Why ReportLab and not an HTML template (docs/architecture.md, Dependencies): WeasyPrint laid a 50-line
quote out in 450-650 ms of CPU, most of it line breaking and drawing each of ~350 text boxes; fpdf2's
``write_html`` was no faster (its table measures every cell twice in pure Python). ReportLab draws
the same page in ~35 ms, from wheels alone. The values and their formatting come from
crm/quotes/pdf.py ``_context``, the same as the HTML template used.

**User text is escaped.** A ``Paragraph`` parses a small markup in which ``<img src=...>`` reads a file
or a URL, so every user string goes through ``escape`` before it is put in one; cells that hold plain
strings are drawn as they are (no markup). The logo is read from the stored path only, after the
same checks as before (``pdf._asset``: a PNG or JPEG by its first bytes); nothing else is loaded.
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, Image, PageTemplate, Paragraph, Spacer, Table, TableStyle

log = logging.getLogger("crm.quotes")

# DejaVu Sans (Debian's fonts-dejavu-core, in every image we run on) covers Latin, Greek, Cyrillic and the
# currency signs; ReportLab's own Bitstream Vera (its ancestor, in the wheel) is the fallback: Latin-1 and €.
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
FONT, BOLD = "QuoteSans", "QuoteSans-Bold"
GREY, RULE, ALT, CREDIT = (colors.HexColor(c) for c in ("#666666", "#dddddd", "#f3f5f8", "#8a1f11"))
MARGIN = 16 * mm


@functools.cache
def fonts() -> str:
    """Register the font family once per process (parsing a TTF costs more than a quote's layout)."""
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            break
    else:
        log.warning("quote PDF: DejaVu Sans not found (apt-get install fonts-dejavu-core); using Vera")
        regular, bold = "Vera.ttf", "VeraBd.ttf"  # found on ReportLab's own font path
    pdfmetrics.registerFont(TTFont(FONT, regular))
    pdfmetrics.registerFont(TTFont(BOLD, bold))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    return FONT


@functools.lru_cache(maxsize=32)
def styles(colour: str) -> dict[str, ParagraphStyle]:
    """Paragraph styles for one brand colour (already checked to be #rrggbb)."""
    fonts()
    brand = colors.HexColor(colour)
    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=11, textColor=colors.HexColor("#222222"))

    def style(name, **kw):
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "base": base,
        "right": style("right", alignment=2),
        "org": style("org", alignment=2, fontName=BOLD, fontSize=10, leading=13),
        "muted-right": style("muted-right", alignment=2, textColor=colors.HexColor("#555555")),
        "wordmark": style("wordmark", fontName=BOLD, fontSize=18, leading=22, textColor=brand),
        "label": style("label", fontSize=7.5, textColor=colors.HexColor("#777777")),
        "company": style("company", fontName=BOLD, fontSize=11, leading=14),
        "doc-title": style("doc-title", alignment=2, fontName=BOLD, fontSize=20, leading=26, textColor=brand),
        "title": style("title", fontName=BOLD, fontSize=12, leading=15),
        "credit": style("credit", textColor=CREDIT),
        "terms-head": style("terms-head", fontName=BOLD, fontSize=9, textColor=brand),
        "terms": style("terms", fontSize=8, leading=10.5, textColor=colors.HexColor("#444444")),
    }


def text(value: str) -> str:
    """User text for a Paragraph: escaped (no markup of the user's), line breaks kept."""
    return escape(value or "").replace("\n", "<br/>")


def render(ctx: dict, colour: str, logo: Path | None) -> bytes:
    """``ctx``: crm/quotes/pdf.py ``_context``; ``logo``: a checked PNG/JPEG path, or None."""
    st = styles(colour)
    brand = colors.HexColor(colour)
    doc = ctx["doc"]
    out = io.BytesIO()
    note = doc.branding.footer_note or doc.branding.name
    page = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=22 * mm,
        title=f"Quote {doc.number}",
        author=doc.branding.name,
        creator="CRM",
    )
    # No frame padding: the tables span the margins exactly, as the letterhead rule does.
    frame = Frame(page.leftMargin, page.bottomMargin, page.width, page.height, 0, 0, 0, 0, id="body")
    page.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    story = [
        *_letterhead(ctx, st, brand, logo, page.width),
        *_heading(ctx, st, page.width),
        _lines(ctx, st, brand, page.width),
        Spacer(1, 5 * mm),
        _totals(ctx, st, brand),
        *_terms(doc, st),
    ]
    page.build(story, canvasmaker=functools.partial(NumberedCanvas, note=note))
    return out.getvalue()


def _letterhead(ctx, st, brand, logo, width) -> list:
    b = ctx["brand"]
    mark = _logo(logo) if logo else None
    org = [Paragraph(text(b.name), st["org"])]
    if b.address:
        org.append(Paragraph(text(b.address), st["right"]))
    if b.tax_ids:
        org.append(Paragraph(text(b.tax_ids), st["muted-right"]))
    table = Table([[mark or Paragraph(text(b.name), st["wordmark"]), org]], colWidths=[width / 2] * 2, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5 * mm),
                ("LINEBELOW", (0, 0), (-1, -1), 2, brand),
            ]
        )
    )
    return [table, Spacer(1, 7 * mm)]


def _logo(path: Path):
    """The logo within 60 × 20 mm, its proportions kept; None if Pillow cannot read it."""
    try:
        w, h = ImageReader(str(path)).getSize()
    except Exception:  # a file that passed the magic-bytes check but is not a readable image
        log.warning("quote PDF: the logo could not be read")
        return None
    scale = min(60 * mm / w, 20 * mm / h)
    image = Image(str(path), width=w * scale, height=h * scale)
    image.hAlign = "LEFT"
    return image


def _heading(ctx, st, width) -> list:
    doc, c = ctx["doc"], ctx["doc"].customer
    left = [Paragraph("QUOTE FOR", st["label"])]
    if c.company:
        left.append(Paragraph(text(c.company), st["company"]))
    for value in (c.contact, c.address):
        if value:
            left.append(Paragraph(text(value), st["base"]))
    facts = [("Number", doc.number), ("Version", str(doc.version)), ("Date", _date(doc.issued))]
    if doc.valid_until:
        facts.append(("Valid until", _date(doc.valid_until)))
    facts.append(("Currency", doc.currency))
    if doc.prepared_by:
        facts.append(("Prepared by", doc.prepared_by))
    meta = Table(facts, colWidths=[24 * mm, 32 * mm], hAlign="RIGHT")
    meta.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, -1), FONT, 8.5),
                ("TEXTCOLOR", (0, 0), (0, -1), GREY),
                ("FONT", (1, 0), (1, -1), BOLD, 8.5),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    table = Table(
        [[left, [Paragraph("Quote", st["doc-title"]), meta]]], colWidths=[width - 60 * mm, 60 * mm], splitInRow=1
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    out = [table, Spacer(1, 7 * mm)]
    if doc.title:
        out += [Paragraph(text(doc.title), st["title"]), Spacer(1, 4 * mm)]
    return out


def _date(value) -> str:
    return f"{value.day} {value:%b %Y}"  # as the template's "j M Y"


def _lines(ctx, st, brand, width) -> Table:
    amount = "Amount (incl. tax)" if ctx["inclusive"] else "Amount"
    rows = [["#", "Description", "Qty", "Unit price", "Discount", "Tax", amount]]
    credits = []
    for line in ctx["lines"]:
        description = text(line["description"]) + (' <font size="6.5">CREDIT</font>' if line["credit"] else "")
        style = st["credit"] if line["credit"] else st["base"]
        rows.append(
            [
                str(line["n"]),
                Paragraph(description, style),
                line["quantity"],
                line["unit_price"],
                line["discount"],
                line["tax_rate"],
                line["amount"],
            ]
        )
        if line["credit"]:
            credits.append(len(rows) - 1)
    widths = [8 * mm, None, 12 * mm, 23 * mm, 23 * mm, 14 * mm, 27 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1, splitInRow=1)
    commands = [
        ("FONT", (0, 0), (-1, -1), FONT, 8.5),
        ("FONT", (0, 0), (-1, 0), BOLD, 8),
        ("BACKGROUND", (0, 0), (-1, 0), brand),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("TEXTCOLOR", (0, 1), (0, -1), colors.HexColor("#777777")),
        ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ALT]),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("TEXTCOLOR", (1, r), (-1, r), CREDIT) for r in credits]
    table.setStyle(TableStyle(commands))
    return table


def _totals(ctx, st, brand) -> Table:
    """Added up the way the page reads (crm/quotes/pdf.py ``_context``): lines, order discount,
    shipping, then the taxes added, or, in inclusive mode, "included" under the total."""
    cur = ctx["doc"].currency
    rows, muted = [["Lines", ctx["lines_total"]]], []
    if ctx["order_discount"]:
        rows.append(["Order discount", ctx["order_discount"]])
    if ctx["shipping"]:
        rows.append(["Shipping", ctx["shipping"]])
    taxes = [(f"Tax {t['rate']} on {t['base']}", t["tax"]) for t in ctx["taxes"]]
    if not ctx["inclusive"]:
        muted += range(len(rows), len(rows) + len(taxes))
        rows += taxes
    grand = len(rows)
    rows.append([f"Total {cur}", ctx["total"]])
    if ctx["inclusive"]:
        rows += [(f"Includes tax {t['rate']} on {t['base']}", t["tax"]) for t in ctx["taxes"]]
        muted += range(grand + 1, len(rows))
    table = Table(rows, colWidths=[70 * mm, 30 * mm], hAlign="RIGHT")
    commands = [
        ("FONT", (0, 0), (-1, -1), FONT, 8.5),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("FONT", (0, grand), (-1, grand), BOLD, 11),
        ("LINEABOVE", (0, grand), (-1, grand), 1.2, brand),
        ("TOPPADDING", (0, grand), (-1, grand), 5),
    ]
    commands += [("TEXTCOLOR", (0, r), (-1, r), GREY) for r in muted]
    table.setStyle(TableStyle(commands))
    return table


def _terms(doc, st) -> list:
    if not doc.terms:
        return []
    return [
        Spacer(1, 9 * mm),
        Paragraph("TERMS", st["terms-head"]),
        Spacer(1, 1 * mm),
        Paragraph(text(doc.terms), st["terms"]),
    ]


class NumberedCanvas(Canvas):
    """Holds each page until the end, so the footer can say "Page N of M" (the count known only then)."""

    def __init__(self, *args, note: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self._note = " · ".join(part.strip() for part in note.splitlines() if part.strip())[:150]

    def showPage(self):  # noqa: N802 (ReportLab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._footer(total)
            super().showPage()
        super().save()

    def _footer(self, total: int) -> None:
        self.saveState()
        self.setFont(FONT, 7.5)
        self.setFillColor(GREY)
        self.drawString(MARGIN, 12 * mm, self._note)
        self.drawRightString(A4[0] - MARGIN, 12 * mm, f"Page {self._pageNumber} of {total}")
        self.restoreState()
