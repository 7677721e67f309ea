"""A price book's entries (its prices), written only here. Each write is a change of the book: it locks
the book, bumps its version and logs one update row whose ``entries`` field lists the book's prices
before and after (one line per price: "SKU CUR ≥min: price"), so the book's history shows every price
change. A list of entries is written all or nothing."""

from __future__ import annotations

import decimal

from django.db import transaction

from crm.audit import changelog
from crm.core.errors import NotFound, ValidationFailed
from crm.products.models import PriceBook, PriceBookEntry, Product
from crm.products.services.common import PRICE_LIMIT, check_currency, to_decimal
from crm.records.services import common

MAX_ENTRIES = 1000  # one request's list
QUANTITY_LIMIT = decimal.Decimal(10) ** 10


def _clean_item(item: dict, i: int, products: dict, errors: dict) -> tuple | None:
    """(product, currency, min_quantity, unit_price) of one item of the list, or None with its errors."""
    at = f"entries.{i}"
    product = products.get(item.get("product_id"))
    if product is None:
        errors[f"{at}.product_id"] = f"No product with id {item.get('product_id')}."
    cleaned = {}
    checks = (
        ("currency", lambda v: check_currency(v)),
        ("unit_price", lambda v: to_decimal(v, minimum=0, limit=PRICE_LIMIT, what="The unit price")),
        ("min_quantity", lambda v: to_decimal(v, minimum=1, limit=QUANTITY_LIMIT, what="The minimum quantity")),
    )
    for key, check in checks:
        value = item.get(key, 1 if key == "min_quantity" else None)
        try:
            cleaned[key] = check(value)
        except ValueError as exc:
            errors[f"{at}.{key}"] = str(exc)
    if product is None or len(cleaned) < 3:
        return None
    return product, cleaned["currency"], cleaned["min_quantity"], cleaned["unit_price"]


def _cleaned(items: list[dict]) -> list[tuple]:
    if not isinstance(items, list) or len(items) > MAX_ENTRIES:
        raise ValidationFailed({"entries": f"Send a list of at most {MAX_ENTRIES} entries."})
    ids = {item.get("product_id") for item in items if isinstance(item, dict)}
    ids = {pk for pk in ids if isinstance(pk, int) and not isinstance(pk, bool)}
    products = Product.objects.in_bulk(ids)
    errors: dict[str, str] = {}
    out, seen = [], {}
    for i, item in enumerate(items):
        row = _clean_item(item if isinstance(item, dict) else {}, i, products, errors)
        if row is None:
            continue
        key = (row[0].pk, row[1], row[2])
        if key in seen:
            errors[f"entries.{i}"] = f"Same product, currency and minimum quantity as entry {seen[key]}."
        seen[key] = i
        out.append(row)
    common.raise_if(errors)
    return out


@transaction.atomic
def entries_upsert(book: PriceBook, *, actor, entries: list[dict], version: int | None = None) -> common.Saved:
    """Set the price of each (product, currency, min_quantity) the list names, adding the missing
    ones; entries the list does not name stay. All or nothing."""
    book = common.lock_for_write(book, actor=actor, action="change", version=version)
    rows = _cleaned(entries)
    before = changelog.snapshot(book)
    current = {(e.product_id, e.currency, e.min_quantity): e for e in book.entries.all()}
    for product, currency, min_quantity, unit_price in rows:
        entry = current.get((product.pk, currency, min_quantity))
        if entry is None:
            PriceBookEntry.objects.create(
                price_book=book, product=product, currency=currency, min_quantity=min_quantity, unit_price=unit_price
            )
        elif entry.unit_price != unit_price:
            entry.unit_price = unit_price
            entry.save(update_fields=["unit_price"])
    return _finish(book, actor, before)


@transaction.atomic
def entry_delete(book: PriceBook, entry_id, *, actor, version: int | None = None) -> common.Saved:
    book = common.lock_for_write(book, actor=actor, action="change", version=version)
    entry = book.entries.filter(pk=entry_id).first() if isinstance(entry_id, int) else None
    if entry is None:
        raise NotFound(f"Price book {book.name!r} has no entry with id {entry_id}.")
    before = changelog.snapshot(book)
    entry.delete()
    return _finish(book, actor, before)


def _finish(book: PriceBook, actor, before: dict) -> common.Saved:
    if changelog.snapshot(book) == before:
        return common.Saved(book)  # nothing changed: no new version, no log row
    common.save_existing(book)
    common.finish_update(book, actor, before)
    return common.Saved(book)
