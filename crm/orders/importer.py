"""The order import (CSV/XLSX): header and lines in one file, one row per line, the order's columns
repeated on each row, grouped into orders as crm/dataio/grouped.py says (a group all or nothing, undo,
groups split over chunks). Counts are rows (order lines). The batch, preview (dry run), error report
and undo are the shared import machinery's (crm/dataio/importing.py)."""

from __future__ import annotations

import datetime as dt
import decimal
import re

from django.db.models.functions import Lower

from crm.core.errors import ServiceError
from crm.dataio.grouped import DEFAULT_SOURCE, Exists, GroupedImporter
from crm.dataio.importers.base import boolean, choice
from crm.dataio.models import RowAction
from crm.orders import stats
from crm.orders.models import Order, OrderStatus, TaxMode
from crm.orders.services.bulk import order_create_many
from crm.orders.services.customers import match_or_create
from crm.orders.services.orders import order_create, order_update
from crm.products.models import Product
from crm.records.services import bulk
from crm.records.services.common import Saved

__all__ = ["CUSTOMER", "Exists", "OrderImporter"]
HEADER = (
    "external_source",
    "external_id",
    "number",
    "order_date",
    "currency",
    "status",
    "tax_mode",
    "notes",
    "customer_email",
    "first_name",
    "last_name",
    "company_name",
    "company_domain",
)
LINE = ("sku", "description", "quantity", "unit_price", "discount_percent", "tax_rate", "is_credit")
CUSTOMER = {
    "customer_email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "company_name": "company_name",
    "company_domain": "company_domain",
}
FIELDS = ("number", "order_date", "currency", "status", "tax_mode", "notes")  # the order's own, of HEADER
DATE_FORMATS = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _number(value: str) -> decimal.Decimal:
    cleaned = re.sub(r"[\s,$€£%]", "", value)
    try:
        number = decimal.Decimal(cleaned)
    except decimal.InvalidOperation:
        raise ValueError(f"{value!r} is not a number.") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number.")
    return number


def _update(record, *, actor, data, version=None):
    """Undo restores an order from its group's first row; the group's other rows carry nothing."""
    return order_update(record, actor=actor, data=data, version=version) if data else Saved(record)


class OrderImporter(GroupedImporter):
    model = Order
    noun = "order"
    key_hint = "map an order id or number column"
    head_columns = HEADER
    customer_columns = CUSTOMER
    match_customer = staticmethod(match_or_create)
    create = staticmethod(order_create)
    update = staticmethod(_update)
    synonyms = {
        "external_source": ["source", "channel", "shop"],
        "external_id": ["order id", "external id", "order ref", "reference"],
        "number": ["order number", "order no", "order #", "invoice number"],
        "order_date": ["date", "ordered", "ordered on", "purchase date"],
        "currency": ["currency code"],
        "status": ["order status"],
        "tax_mode": ["tax mode", "prices include tax"],
        "notes": ["note", "comment"],
        "customer_email": ["email", "customer email", "buyer email", "e-mail"],
        "first_name": ["first name", "given name"],
        "last_name": ["last name", "surname", "family name"],
        "company_name": ["company", "organization", "account"],
        "company_domain": ["domain", "website", "company website"],
        "sku": ["product sku", "item sku", "product code"],
        "description": ["item", "product", "product name", "line description"],
        "quantity": ["qty", "units"],
        "unit_price": ["price", "unit cost", "item price"],
        "discount_percent": ["discount", "discount %"],
        "tax_rate": ["tax", "vat", "tax %", "vat %"],
        "is_credit": ["credit", "return", "is return"],
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skus: dict[str, int | None] = {}

    @classmethod
    def delete_many(cls, pks: list[int], *, actor, force: bool = False) -> int:
        """Every row of an order names it: one delete per order, counted per row, and the customers'
        purchase stats refreshed."""
        distinct = sorted(set(pks))
        customers = list(Order.objects.filter(pk__in=distinct).values_list("pk", "company_id", "contact_id"))
        deleted = bulk.delete_many(Order, distinct, actor=actor, force=force)
        gone = set(distinct) - set(Order.objects.filter(pk__in=distinct).values_list("pk", flat=True))
        stats.refresh(company_ids={c for _, c, _ in customers if c}, contact_ids={p for _, _, p in customers if p})
        return sum(1 for pk in pks if pk in gone) if deleted else 0

    # -- one row: its order columns and its line ---------------------------------------------------

    def parse(self, cells: list[str]) -> tuple[dict, dict, dict]:
        """(order columns, line, errors by column) of one row."""
        head, line, errors = {}, {}, {}
        for i, target in self.targets:
            value = cells[i].strip() if i < len(cells) else ""
            if not target or not value:
                continue
            try:
                if target in HEADER:
                    head[target] = self._head_value(target, value)
                elif target == "sku":
                    line["product_id"] = self._product(value)
                elif target == "is_credit":
                    line[target] = boolean(value)
                elif target == "description":
                    line[target] = value
                elif target in LINE:
                    line[target] = _number(value)
            except ValueError as exc:
                errors[self.header[i]] = str(exc)
        return head, line, errors

    def _head_value(self, target: str, value: str):
        if target == "status":
            return choice(value, OrderStatus)
        if target == "tax_mode":
            return choice(value, TaxMode)
        if target == "order_date":
            if not DATE_FORMATS.match(value):
                raise ValueError(f"{value!r} is not a date (YYYY-MM-DD).")
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date (YYYY-MM-DD).") from None
        if target == "currency":
            return value.upper()
        return value

    def prime(self, chunk: list[tuple[int, list[str]]]) -> None:
        """The chunk's SKUs in one query (a query per SKU was half the import's time), cached."""
        columns = [i for i, target in self.targets if target == "sku"]
        keys = {cells[i].strip().lower() for _, cells in chunk for i in columns if i < len(cells) and cells[i].strip()}
        keys -= set(self.skus)
        if not keys:
            return
        seen = Product.objects.restrict(self.actor, "view").alias(sku_lower=Lower("sku"))
        found = dict(seen.filter(sku_lower__in=keys).order_by("pk").values_list("sku", "pk"))
        by_key: dict[str, int] = {}
        for sku, pk in found.items():
            by_key.setdefault(sku.lower(), pk)
        for key in keys:
            self._remember(self.skus, key, by_key.get(key))

    def _product(self, sku: str) -> int:
        key = sku.lower()
        if key not in self.skus:
            # Lower(sku) = the unique index's expression: ``sku__iexact`` read every product for each SKU
            # (about 50 ms at 100,000 products: docs/benchmarks.md).
            seen = Product.objects.restrict(self.actor, "view").alias(sku_lower=Lower("sku"))
            found = seen.filter(sku_lower=key).values_list("pk", flat=True)
            self._remember(self.skus, key, found.first())
        if self.skus[key] is None:
            raise ValueError(f"No product with SKU {sku!r}.")
        return self.skus[key]

    # -- a group: one order ---------------------------------------------------------------------

    def spread(self, rows, exc: ServiceError) -> dict[int, dict]:
        """A service's errors on the rows they are about: ``lines.<i>.<field>`` on row i, the rest on all."""
        fields = exc.fields or {"row": exc.message}
        errors: dict[int, dict] = {}
        for name, message in fields.items():
            m = re.match(r"^lines\.(\d+)\.(\w+)$", name)
            if m and int(m[1]) < len(rows):
                target = "sku" if m[2] == "product_id" else m[2]
                errors.setdefault(int(m[1]), {})[self.column_of.get(target, target)] = message
            else:
                target = {"email": "customer_email"}.get(name.removeprefix("customer."), name.removeprefix("customer."))
                for n in range(len(rows)):
                    errors.setdefault(n, {})[self.column_of.get(target, name)] = message
        return errors

    def write_many(self, groups: list[tuple[str, list]]) -> dict[str, list]:
        """The chunk's new orders (no order has their key yet, none continues a group of the previous
        chunk) through order_create_many; the others go through ``write`` one by one."""
        fresh, out, items = [], {}, []
        for key, rows in self._new(groups):
            try:
                items.append({**self.unmatched(rows[0][2], FIELDS), "lines": self.items(key, rows)})
            except ServiceError as exc:
                out[key] = self._failed(rows, self.spread(rows, exc))
                continue
            fresh.append((key, rows))
        created: list = []
        results = order_create_many(actor=self.actor, items=items, created=created) if items else []
        self.created += created
        for (key, rows), result in zip(fresh, results, strict=True):
            if isinstance(result, ServiceError):
                out[key] = self._failed(rows, self.spread(rows, result))
            else:
                out[key] = self.created_outcomes(key, rows, result.pk)
        return out

    def _new(self, groups: list[tuple[str, list]]) -> list[tuple[str, list]]:
        """The groups whose order is new: one query for the chunk's external ids, one for its numbers
        (any order, seen or not: one the actor cannot see is the one-by-one path's to report)."""
        heads = {key: rows[0][2] for key, rows in groups if key not in self.written}
        ids = {h["external_id"] for h in heads.values() if h.get("external_id")}
        numbers = {h["number"] for h in heads.values() if h.get("number") and not h.get("external_id")}
        taken = set(
            Order.objects.filter(external_id__in=ids).values_list("external_source", "external_id") if ids else []
        )
        taken_numbers = (
            set(Order.objects.filter(number__in=numbers).values_list("number", flat=True)) if numbers else set()
        )
        fresh = []
        for key, rows in groups:
            head = heads.get(key)
            if head is None:
                continue
            if head.get("external_id"):
                if (head.get("external_source") or DEFAULT_SOURCE, head["external_id"]) in taken:
                    continue
            elif head["number"] in taken_numbers:
                continue
            fresh.append((key, rows))
        return fresh

    def write(self, key: str, head: dict, lines: list[dict], created: list) -> tuple[str, Order, dict | None]:
        data = self.keyed(head, FIELDS, created)
        existing = self.existing(key, data)
        if existing is not None and existing.pk == self.written.get(key):  # the rest of a group split over chunks
            kept = [_line_of(line, plain=False) for line in existing.lines.all()]
            order_update(existing, actor=self.actor, data={"lines": kept + lines})
            return RowAction.UPDATE, existing, None
        if existing is not None:
            self.refuse_update(existing)
            before = _before(existing, data)
            order = order_update(existing, actor=self.actor, data={**data, "lines": lines}).obj
            return RowAction.UPDATE, order, before
        return RowAction.CREATE, order_create(actor=self.actor, data={**data, "lines": lines}).obj, None


def _line_of(line, *, plain: bool) -> dict:
    value = str if plain else (lambda v: v)
    return {
        "product_id": line.product_id,
        "description": line.description,
        "quantity": value(line.quantity),
        "unit_price": value(line.unit_price),
        "discount_percent": value(line.discount_percent),
        "tax_rate": value(line.tax_rate),
        "is_credit": line.is_credit,
    }


def _before(order: Order, data: dict) -> dict:
    """What an update replaces, as JSON, so undo can send it back through order_update."""
    before = {}
    for key in data:
        value = getattr(order, key)
        before[key] = value.isoformat() if hasattr(value, "isoformat") else value
    before["lines"] = [_line_of(line, plain=True) for line in order.lines.all()]
    return before
