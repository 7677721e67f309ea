"""Products: the organization's catalogue. SKUs are unique whatever their case; a product that has
prices in a price book is not deleted (remove its prices first, or mark it inactive)."""

from __future__ import annotations

from django.db import transaction

from crm.audit import changelog
from crm.core.errors import Conflict, ValidationFailed
from crm.products.models import Product
from crm.products.services.common import (
    COST_LIMIT,
    check_currency,
    normalize_sku,
    org_currency,
    to_decimal,
    unique_or_422,
)
from crm.records.services import common

FIELDS = ("sku", "name", "description", "unit", "active", "category", "tax_category", "cost", "cost_currency")


def _prepare(data: dict, product: Product | None) -> dict:
    data, errors = dict(data), {}
    common.resolve_user(data, "owner", errors)
    if "sku" in data:
        data["sku"] = normalize_sku(data["sku"])
    for key in ("name", "unit", "category"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    if data.get("cost") not in (None, ""):
        try:
            data["cost"] = to_decimal(data["cost"], minimum=0, limit=COST_LIMIT, what="The cost")
        except ValueError as exc:
            errors["cost"] = str(exc)
    elif "cost" in data:
        data["cost"] = None
    currency = data.get("cost_currency")
    if currency not in (None, ""):
        try:
            data["cost_currency"] = check_currency(currency)
        except ValueError as exc:
            errors["cost_currency"] = str(exc)
    common.raise_if(errors)
    return data


def _validate(product: Product) -> None:
    errors = {}
    if not product.sku:
        errors["sku"] = "A product needs a SKU."
    if not (product.name or "").strip():
        errors["name"] = "A product needs a name."
    if not product.unit:
        product.unit = "each"
    if product.cost is not None and not product.cost_currency:
        product.cost_currency = org_currency()
    common.raise_if(errors)
    common.full_clean(product)
    taken = Product.objects.filter(sku__iexact=product.sku).exclude(pk=product.pk).first()
    if taken is not None:
        raise ValidationFailed({"sku": f"SKU {product.sku!r} is already used by {taken} (id {taken.pk})."})


def _taken(product: Product) -> str:
    return f"SKU {product.sku!r} is already used by another product."


@transaction.atomic
def product_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Product, "add", data)
    data = _prepare({**data, "owner_id": data.get("owner_id") or actor.pk}, None)  # the creator, unless named
    product = Product()
    common.assign(product, data, (*FIELDS, "owner"))
    common.apply_custom_fields(product, data, creating=True)
    _validate(product)
    with unique_or_422("sku", _taken(product)):
        common.save_new(product, actor=actor)
    common.finish_create(product, actor)
    return common.Saved(product)


@transaction.atomic
def product_update(product: Product, *, actor, data: dict, version: int | None = None) -> common.Saved:
    product = common.lock_for_write(product, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(product)
    data = _prepare(data, product)
    common.assign(product, data, (*FIELDS, "owner"))
    common.apply_custom_fields(product, data, creating=False)
    _validate(product)
    with unique_or_422("sku", _taken(product)):
        common.save_existing(product)
    common.finish_update(product, actor, before)
    return common.Saved(product)


@transaction.atomic
def product_delete(product: Product, *, actor, version: int | None = None) -> None:
    """Refused while price books hold prices for it: a quote may still look them up, and the prices
    are the price books' history; removing them is a price-book change, logged there."""
    product = common.lock_for_write(product, actor=actor, action="delete", version=version)
    books = sorted({e.price_book.name for e in product.prices.select_related("price_book")})
    if books:
        raise Conflict(
            f"{product} has prices in {', '.join(books)}: remove them first, or mark the product inactive.",
            code="product_has_prices",
        )
    common.delete_record(product, actor=actor, version=version)
