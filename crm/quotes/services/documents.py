"""A quote version as a PDF: the plain ``QuoteDocument`` pdf.py renders, built from the stored rows,
and the sent version's file, stored under ``var/quotes/`` with a random name (the row keeps the name)."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from crm.money.currencies import minor_units
from crm.quotes.branding import branding_values
from crm.quotes.models import Quote, QuoteVersion
from crm.quotes.pdf import CustomerBlock, QuoteDocument, render_quote_pdf
from crm.quotes.services.values import totals_of


def folder() -> Path:
    path = Path(settings.VAR_DIR) / "quotes"
    path.mkdir(parents=True, exist_ok=True)
    return path


def document(quote: Quote, version: QuoteVersion) -> QuoteDocument:
    totals = totals_of(version, list(version.lines.order_by("position", "id")), minor_units(quote.currency))
    owner = quote.owner
    return QuoteDocument(
        branding=branding_values(),
        number=quote.number,
        version=version.number,
        issued=timezone.localdate(version.sent_at) if version.sent_at else timezone.localdate(),
        currency=quote.currency,
        totals=totals,
        customer=CustomerBlock(
            company=quote.company.name if quote.company else "",
            contact=quote.contact.name if quote.contact else "",
        ),
        valid_until=version.valid_until,
        terms=version.terms,
        title=quote.title,
        prepared_by=(owner.get_full_name() or owner.username) if owner else "",
    )


def render(quote: Quote, version: QuoteVersion) -> bytes:
    return render_quote_pdf(document(quote, version))


def store(quote: Quote, version: QuoteVersion) -> str:
    """Render and write the version's PDF; returns the file name to keep on the version."""
    name = f"{secrets.token_hex(16)}.pdf"
    (folder() / name).write_bytes(render(quote, version))
    return name


def stored_path(version: QuoteVersion) -> Path | None:
    name = version.pdf
    if not name or Path(name).name != name or name.startswith("."):
        return None
    path = folder() / name
    return path if path.is_file() else None


def pdf_bytes(quote: Quote, version: QuoteVersion) -> bytes:
    """The stored PDF of a sent version; a draft's is rendered now (a preview, not stored)."""
    path = stored_path(version)
    return path.read_bytes() if path is not None else render(quote, version)


def file_name(quote: Quote, version: QuoteVersion) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in quote.number)
    return f"{safe}-v{version.number}.pdf"
