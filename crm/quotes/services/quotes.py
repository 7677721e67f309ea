"""Creating, changing and deleting quotes. A quote is changed only while its latest version is a
draft: a sent, accepted, rejected or expired quote is revised (lifecycle.py), never edited.

Every write recomputes the latest version's totals with totals.py and stores them, bumps the quote's
version (optimistic concurrency, as every record) and is logged with the lines in the snapshot."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from crm.audit import changelog
from crm.core.errors import Conflict, ValidationFailed
from crm.money.currencies import minor_units
from crm.products.models import PriceBook
from crm.products.services.common import check_currency
from crm.quotes.models import Quote, QuoteLine, QuoteStatus, QuoteVersion, TaxMode
from crm.quotes.services import numbering
from crm.quotes.services.values import LINES_MAX, clean_line, number, raise_if, store_totals
from crm.records.models import Contact, Deal
from crm.records.services import common

QUOTE_FIELDS = ("title", "currency", "price_book", "contact", "owner")
VERSION_FIELDS = (
    "tax_mode",
    "order_discount_percent",
    "order_discount_amount",
    "shipping",
    "shipping_tax_rate",
    "terms",
    "valid_until",
)
VALID_DAYS = 30  # a new quote is valid for 30 days unless it says otherwise


def _prepare(data: dict, actor, quote: Quote | None) -> dict:
    data, errors = dict(data), {}
    if "deal" in data and "deal_id" not in data:  # the generic web form names it "deal"
        data["deal_id"] = data.pop("deal")
    if quote is None or "deal_id" in data:
        if data.get("deal_id") is None:
            errors["deal_id"] = "A quote belongs to a deal."
        else:
            common.resolve_related(data, "deal", Deal, actor, errors)
    common.resolve_related(data, "contact", Contact, actor, errors)
    common.resolve_user(data, "owner", errors)
    if "price_book_id" in data:
        pk = data.pop("price_book_id")
        data["price_book"] = PriceBook.objects.restrict(actor, "view").filter(pk=pk).first() if pk else None
        if pk and data["price_book"] is None:
            errors["price_book_id"] = f"No price book with id {pk}."
    if "currency" in data and not data["currency"]:
        data.pop("currency")  # blank: the deal's (on create), unchanged (on update)
    if data.get("currency") is not None:
        try:
            data["currency"] = check_currency(data["currency"])
        except ValueError as exc:
            errors["currency"] = str(exc)
    if "tax_mode" in data and data["tax_mode"] not in TaxMode.values:
        errors["tax_mode"] = "The tax mode is exclusive or inclusive."
    for name in ("order_discount_percent", "order_discount_amount", "shipping", "shipping_tax_rate"):
        if name in data:
            data[name] = number(data[name], name, errors)
    for name in ("shipping", "shipping_tax_rate"):
        if name in data and data[name] is None and name not in errors:
            data[name] = 0
    if isinstance(data.get("title"), str):
        data["title"] = data["title"].strip()
    if isinstance(data.get("valid_until"), str):
        try:
            data["valid_until"] = dt.date.fromisoformat(data["valid_until"])
        except ValueError:
            errors["valid_until"] = "A date as YYYY-MM-DD."
    raise_if(errors)
    return data


def require_draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(
            f"Quote {quote.number} is {quote.get_status_display().lower()}: it cannot be edited, revise it instead.",
            code="quote_not_draft",
        )


def write_lines(quote: Quote, version: QuoteVersion, raw_lines, *, actor, start: int = 0) -> None:
    """Check every line first (one bad line and none is written), then add them from ``start``."""
    if not isinstance(raw_lines, list):
        raise ValidationFailed({"lines": "A list of lines."})
    if start + len(raw_lines) > LINES_MAX:
        raise ValidationFailed({"lines": f"A quote has at most {LINES_MAX} lines."})
    errors: dict = {}
    cleaned = [
        clean_line(raw, f"lines.{start + i}", actor=actor, quote=quote, errors=errors)
        for i, raw in enumerate(raw_lines)
    ]
    raise_if(errors)
    QuoteLine.objects.bulk_create(
        QuoteLine(version=version, position=start + i + 1, **line) for i, line in enumerate(cleaned)
    )


def recompute(quote: Quote, version: QuoteVersion) -> None:
    store_totals(version, minor_units(quote.currency))
    quote.total = version.total
    quote.valid_until = version.valid_until


@transaction.atomic
def quote_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Quote, "add", data)
    data = _prepare({**data, "owner_id": data.get("owner_id") or actor.pk}, actor, None)
    deal: Deal = data["deal"]
    quote = Quote(deal=deal, company=deal.company, currency=data.get("currency") or deal.currency)
    quote.contact = deal.contacts.order_by("id").first()
    quote.price_book = PriceBook.objects.filter(is_standard=True, active=True).first()
    common.assign(quote, data, QUOTE_FIELDS)
    if not quote.currency:
        raise ValidationFailed({"currency": "The deal has no currency: name the quote's."})
    common.apply_custom_fields(quote, data, creating=True)
    quote.number = numbering.next_number()
    common.full_clean(quote)
    common.save_new(quote, actor=actor)
    version = QuoteVersion(quote=quote, number=1)
    common.assign(version, data, VERSION_FIELDS)
    if "valid_until" not in data:
        version.valid_until = quote.created_at.date() + dt.timedelta(days=VALID_DAYS)
    _clean_version(version)
    version.save()
    write_lines(quote, version, data.get("lines") or [], actor=actor)
    recompute(quote, version)
    quote.save(update_fields=["total", "valid_until"])
    common.finish_create(quote, actor)
    return common.Saved(quote)


def _clean_version(version: QuoteVersion) -> None:
    try:
        version.full_clean(exclude=["quote"], validate_unique=False, validate_constraints=False)
    except Exception as exc:  # Django's ValidationError: its messages per field
        messages = getattr(exc, "message_dict", None)
        if messages is None:
            raise
        raise ValidationFailed({k: " ".join(v) for k, v in messages.items()}) from None


@transaction.atomic
def quote_update(quote: Quote, *, actor, data: dict, version: int | None = None) -> common.Saved:
    quote = common.lock_for_write(quote, actor=actor, action="change", version=version, data=data)
    require_draft(quote)
    before = changelog.snapshot(quote)
    data = _prepare(data, actor, quote)
    if "deal" in data:
        quote.deal = data["deal"]
        quote.company = data["deal"].company
    common.assign(quote, data, QUOTE_FIELDS)
    common.apply_custom_fields(quote, data, creating=False)
    common.full_clean(quote)
    latest = quote.latest()
    common.assign(latest, data, VERSION_FIELDS)
    _clean_version(latest)
    latest.save()
    if "lines" in data and data["lines"] is not None:
        latest.lines.all().delete()
        write_lines(quote, latest, data["lines"], actor=actor)
    recompute(quote, latest)
    common.save_existing(quote)
    common.finish_update(quote, actor, before)
    return common.Saved(quote)


def touch(quote: Quote, *, actor, before: dict) -> None:
    """After a change of the latest version's lines: totals, version bump, log."""
    recompute(quote, quote.latest())
    common.save_existing(quote)
    common.finish_update(quote, actor, before)


@transaction.atomic
def quote_delete(quote: Quote, *, actor, version: int | None = None) -> None:
    common.delete_record(quote, actor=actor, version=version)
