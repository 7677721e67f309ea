"""A draft quote's lines one at a time (the editor's and the API's /quotes/{id}/lines): each write
checks the line, recomputes the totals, bumps the quote's version and is logged on the quote."""

from __future__ import annotations

from django.db import transaction

from crm.audit import changelog
from crm.core.errors import NotFound
from crm.quotes.models import Quote, QuoteLine
from crm.quotes.services.quotes import require_draft, touch, write_lines
from crm.quotes.services.values import clean_line, raise_if
from crm.records.services import common


def _locked(quote: Quote, actor, version: int | None) -> Quote:
    quote = common.lock_for_write(quote, actor=actor, action="change", version=version)
    require_draft(quote)
    return quote


@transaction.atomic
def line_add(quote: Quote, *, actor, data: dict, version: int | None = None) -> QuoteLine:
    quote = _locked(quote, actor, version)
    before = changelog.snapshot(quote)
    latest = quote.latest()
    start = latest.lines.count()
    write_lines(quote, latest, [data], actor=actor, start=start)
    touch(quote, actor=actor, before=before)
    return latest.lines.order_by("-position", "-id").first()


def _line(quote: Quote, line_id) -> QuoteLine:
    line = QuoteLine.objects.filter(pk=line_id, version__quote=quote, version__number=quote.current_version).first()
    if line is None:
        raise NotFound(f"No line {line_id} on the current version of quote {quote.number}.")
    return line


@transaction.atomic
def line_update(quote: Quote, line_id: int, *, actor, data: dict, version: int | None = None) -> QuoteLine:
    """Changes the fields ``data`` names; the rest of the line stays. A new product without a typed
    price takes the price book's."""
    quote = _locked(quote, actor, version)
    line = _line(quote, line_id)
    before = changelog.snapshot(quote)
    current = {
        "product_id": line.product_id,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount_percent": line.discount_percent,
        "discount_amount": line.discount_amount,
        "tax_rate": line.tax_rate,
        "is_credit": line.is_credit,
    }
    merged = {**current, **data}
    if "product_id" in data and data["product_id"] != line.product_id and "unit_price" not in data:
        merged["unit_price"] = None  # priced again from the book
        if "description" not in data:
            merged["description"] = ""
    if "discount_percent" in data and data["discount_percent"] is not None and "discount_amount" not in data:
        merged["discount_amount"] = None  # one or the other: the one just typed wins
    if "discount_amount" in data and data["discount_amount"] is not None and "discount_percent" not in data:
        merged["discount_percent"] = None
    errors: dict = {}
    path = f"lines.{line.position - 1}"
    cleaned = clean_line(merged, path, actor=actor, quote=quote, errors=errors)
    raise_if(errors)
    for name, value in cleaned.items():
        setattr(line, name, value)
    line.save()
    touch(quote, actor=actor, before=before)
    line.refresh_from_db()
    return line


@transaction.atomic
def line_remove(quote: Quote, line_id: int, *, actor, version: int | None = None) -> None:
    quote = _locked(quote, actor, version)
    line = _line(quote, line_id)
    before = changelog.snapshot(quote)
    latest = line.version
    line.delete()
    for position, other in enumerate(latest.lines.order_by("position", "id"), start=1):
        if other.position != position:
            other.position = position
            other.save(update_fields=["position"])
    touch(quote, actor=actor, before=before)
