"""A quote as a PDF, laid out by ReportLab (crm/quotes/pdflayout.py), and ``html_to_pdf``, WeasyPrint
for other documents (the commission statement, crm/commissions/exports.py).

``render_quote_pdf(doc)`` takes plain values (``QuoteDocument``: branding, customer, the totals from
crm/quotes/totals.py), so it needs no model and renders the same for a preview, a download or an email.

**No fetch leaves the process.** The quote layout loads the logo from its stored path only, after the
check below (a PNG or JPEG by its first bytes), and escapes user text (pdflayout.py says why).
WeasyPrint fetches every URL a document names (images, stylesheets, fonts) with urllib by default:
http(s), ftp, file:. A document may hold user text, and a URL reaching the network would be server-side
request forgery; a file: URL would put local files in the PDF. ``AssetFetcher`` serves exactly two kinds
of URL from disk — the branding logo (``asset:logo``) and this app's own static files
(``asset:static/quotes/...``) — and refuses every other one, which WeasyPrint then leaves out of the
document. User text is escaped by the templates, so it cannot add elements; the fetcher is the second wall.
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from crm.quotes import pdfengine
from crm.quotes.formatting import money, number
from crm.quotes.totals import QuoteTotals

log = logging.getLogger("crm.quotes")

STATIC_DIR = Path(__file__).resolve().parent / "static"
LOGO_URL = "asset:logo"
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOUR = "#1f4e79"


@dataclass(frozen=True)
class BrandingValues:
    name: str
    address: str = ""
    tax_ids: str = ""
    primary_colour: str = DEFAULT_COLOUR
    footer_note: str = ""
    logo_path: Path | None = None  # a PNG or JPEG the branding service stored


@dataclass(frozen=True)
class CustomerBlock:
    company: str = ""
    contact: str = ""
    address: str = ""


@dataclass(frozen=True)
class QuoteDocument:
    branding: BrandingValues
    number: str
    version: int
    issued: dt.date
    currency: str
    totals: QuoteTotals
    customer: CustomerBlock = field(default_factory=CustomerBlock)
    valid_until: dt.date | None = None
    terms: str = ""
    title: str = ""
    prepared_by: str = ""


class RefusedFetch(ValueError):
    pass


def asset_fetcher(logo_path: Path | None):
    """A WeasyPrint URL fetcher that reads the logo and our static files from disk and nothing else."""
    urls = pdfengine.weasyprint().urls

    class AssetFetcher(urls.URLFetcher):
        def fetch(self, url, headers=None):
            path, kind = _asset(url, logo_path)
            return urls.URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})

    return AssetFetcher(allowed_protocols=())


def _asset(url: str, logo_path: Path | None) -> tuple[Path, str]:
    if url == LOGO_URL and logo_path is not None and logo_path.is_file():
        head = logo_path.read_bytes()[:8]
        kind = next((t for magic, t in LOGO_TYPES.items() if head.startswith(magic)), None)
        if kind:
            return logo_path, kind
    elif url.startswith("asset:static/quotes/"):
        wanted = (STATIC_DIR / url.removeprefix("asset:static/")).resolve()
        if wanted.is_relative_to(STATIC_DIR / "quotes") and wanted.is_file():
            return wanted, mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
    log.warning("quote PDF: refused to fetch %r", url[:200])
    raise RefusedFetch(f"Only the logo and the quote stylesheet are loaded, not {url[:80]!r}.")


def render_quote_pdf(doc: QuoteDocument) -> bytes:
    """The quote laid out by crm/quotes/pdflayout.py (ReportLab), with the checked logo if there is one."""
    from crm.quotes import pdflayout

    try:
        logo = _asset(LOGO_URL, doc.branding.logo_path)[0] if doc.branding.logo_path else None
    except RefusedFetch:
        logo = None
    return pdflayout.render(_context(doc), brand_colour(doc.branding), logo)


def html_to_pdf(html: str, branding: BrandingValues) -> bytes:
    """Lay any ``html`` out with the asset fetcher (every other URL refused) and the brand colour."""
    fetcher = asset_fetcher(branding.logo_path)
    document = pdfengine.weasyprint().HTML(string=html, base_url="asset:", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[_brand(branding)], font_config=pdfengine.font_config())


def brand_colour(branding: BrandingValues) -> str:
    """The branding's colour if it is #rrggbb, else the default (it reaches a stylesheet or a layout)."""
    return branding.primary_colour if HEX_COLOUR.match(branding.primary_colour or "") else DEFAULT_COLOUR


def _brand(branding: BrandingValues):
    return pdfengine.brand_sheet(brand_colour(branding))


def _context(doc: QuoteDocument) -> dict:
    t = doc.totals
    shipping = t.shipping + t.shipping_tax if t.tax_mode == "inclusive" else t.shipping

    def m(amount):
        return money(amount, doc.currency, t.minor_units)

    lines = [
        {
            "n": i,
            "description": a.description,
            "quantity": number(a.quantity),
            "unit_price": m(a.unit_price),
            "discount": m(a.line_discount) if a.line_discount else "",
            "tax_rate": f"{number(a.tax_rate)} %",
            "amount": m(a.gross - a.line_discount),
            "credit": a.is_credit,
        }
        for i, a in enumerate(t.lines, start=1)
    ]
    return {
        "doc": doc,
        "brand": doc.branding,
        "lines": lines,
        "inclusive": t.tax_mode == "inclusive",
        # The totals block adds up the way the page reads, in the mode prices were entered: the amount
        # column, the order discount, shipping, then the taxes (added, or "included" in inclusive mode).
        "lines_total": m(sum((a.gross - a.line_discount for a in t.lines), Decimal(0))),
        "order_discount": m(-t.order_discount_total) if t.order_discount_total else "",
        "shipping": m(shipping) if shipping else "",
        "taxes": [{"rate": f"{number(x.rate)} %", "base": m(x.base), "tax": m(x.tax)} for x in t.taxes],
        "tax_total": m(t.tax_total),
        "total": m(t.total),
    }
