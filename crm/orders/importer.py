"""The order import (CSV/XLSX): header and lines in one file, one row per line, the order's columns
repeated on each row. Rows are grouped by the order's external id (else its number); a group is one
order, written all or nothing in its own savepoint: a row whose order columns are missing or differ
from the group's first row, or any bad line, fails every row of the group. The batch, preview (dry
run), error report and undo are the shared import machinery's (crm/dataio/importing.py).

Each written row records its order's id: counts are rows (order lines); undo deletes an order created
once, and restores an updated order from its first row (which holds the order's previous fields and
lines). A group split across two 1,000-row chunks is written as two steps: the second appends its
lines to the order the first wrote."""

from __future__ import annotations

import datetime as dt
import decimal
import re

from django.db import transaction

from crm.core.errors import ServiceError, ValidationFailed
from crm.dataio.importers.base import Importer, Outcome, boolean, choice
from crm.dataio.models import RowAction
from crm.orders import stats
from crm.orders.models import Order, OrderStatus, TaxMode
from crm.orders.services.customers import match_or_create
from crm.orders.services.orders import order_create, order_update
from crm.products.models import Product
from crm.records.services import bulk
from crm.records.services.common import Saved

DEFAULT_SOURCE = "import"
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


class Exists(ServiceError):
    """The group's order exists and the import does not update: its rows are skipped (rolled back)."""

    def __init__(self, pk: int, message: str):
        super().__init__(message)
        self.pk = pk


def _update(record, *, actor, data, version=None):
    """Undo restores an order from its group's first row; the group's other rows carry nothing."""
    return order_update(record, actor=actor, data=data, version=version) if data else Saved(record)


class OrderImporter(Importer):
    model = Order
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
        self.column_of = {target: self.header[i] for i, target in self.targets if target}
        self.written: dict[str, int] = {}  # group key -> order id this run wrote (a group split over chunks)
        self.skus: dict[str, int | None] = {}
        self.created: list[tuple[str, int]] = []  # customers created in this chunk (undo removes them)

    def take_created(self) -> list[tuple[str, int]]:
        """The customers the chunk created, recorded with the batch (crm/dataio/importing.py)."""
        created, self.created = self.created, []
        return created

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

    def _parse(self, cells: list[str]) -> tuple[dict, dict, dict]:
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

    def _product(self, sku: str) -> int:
        key = sku.lower()
        if key not in self.skus:
            found = Product.objects.restrict(self.actor, "view").filter(sku__iexact=sku).values_list("pk", flat=True)
            self._remember(self.skus, key, found.first())
        if self.skus[key] is None:
            raise ValueError(f"No product with SKU {sku!r}.")
        return self.skus[key]

    # -- a chunk: rows grouped into orders ---------------------------------------------------------

    def outcomes(self, chunk: list[tuple[int, list[str]]]) -> list[Outcome]:
        self.created = []  # a dry run's previous chunk was rolled back, with what it created
        out: list[Outcome | None] = [None] * len(chunk)
        groups: dict[str, list[tuple[int, int, dict, dict, dict]]] = {}
        for j, (line_no, cells) in enumerate(chunk):
            if len(cells) != len(self.header):
                out[j] = Outcome(
                    RowAction.ERROR, errors={"row": f"{len(cells)} cells; the header has {len(self.header)}."}
                )
                continue
            head, line, errors = self._parse(cells)
            key = head.get("external_id") or head.get("number")
            if not key:
                what = " or ".join(self.column_of[t] for t in ("external_id", "number") if t in self.column_of)
                out[j] = Outcome(
                    RowAction.ERROR, errors={"row": f"No order key ({what or 'map an order id or number column'})."}
                )
                continue
            groups.setdefault(f"{head.get('external_source', '')}\x00{key}", []).append(
                (j, line_no, head, line, errors)
            )
        for key, rows in groups.items():
            for j, outcome in self._group(key, rows):
                out[j] = outcome
        return out

    def _group(self, key: str, rows: list) -> list[tuple[int, Outcome]]:
        errors = self._group_errors(rows)
        if errors:
            return self._failed(rows, errors)
        first_head = rows[0][2]
        lines = [line for _, _, _, line, _ in rows]
        created: list[tuple[str, int]] = []
        try:
            with transaction.atomic():
                action, order, before = self._write(key, first_head, lines, created)
        except Exists as exc:
            return [(j, Outcome(RowAction.SKIP, exc.pk, warnings=[exc.message])) for j, *_ in rows]
        except ServiceError as exc:
            return self._failed(rows, self._spread(rows, exc))
        self.created += created
        self.written[key] = order.pk
        return [
            (j, Outcome(action, order.pk, before=before if n == 0 else None, warnings=[]))
            for n, (j, _, _, _, _) in enumerate(rows)
        ]

    def _group_errors(self, rows) -> dict[int, dict]:
        """Per row of the group: its own cell errors, and order columns missing or unlike the first row's."""
        errors: dict[int, dict] = {}
        first_line, first_head = rows[0][1], rows[0][2]
        for n, (_, _, head, _, cell_errors) in enumerate(rows):
            row = dict(cell_errors)
            if n:
                for target in HEADER:
                    if target in first_head and target not in head:
                        row[self.column_of[target]] = f"The order's columns are missing (line {first_line} has them)."
                    elif head.get(target) != first_head.get(target):
                        row[self.column_of[target]] = f"Differs from line {first_line} of the same order."
            if row:
                errors[n] = row
        return errors

    def _failed(self, rows, errors: dict[int, dict]) -> list[tuple[int, Outcome]]:
        bad = ", ".join(str(rows[n][1]) for n in sorted(errors))
        return [
            (
                j,
                Outcome(
                    RowAction.ERROR,
                    errors=errors.get(n) or {"order": f"Not imported: line {bad} of this order has errors."},
                ),
            )
            for n, (j, _, _, _, _) in enumerate(rows)
        ]

    def _spread(self, rows, exc: ServiceError) -> dict[int, dict]:
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

    def _write(self, key: str, head: dict, lines: list[dict], created: list) -> tuple[str, Order, dict | None]:
        data = {t: head[t] for t in ("number", "order_date", "currency", "status", "tax_mode", "notes") if t in head}
        if head.get("external_id"):
            data["external_source"] = head.get("external_source") or DEFAULT_SOURCE
            data["external_id"] = head["external_id"]
        customer = {CUSTOMER[t]: head[t] for t in CUSTOMER if t in head}
        if not customer:
            raise ValidationFailed({"row": "Name the customer: an email, a company name or a company domain."})
        data.update({k: v for k, v in match_or_create(self.actor, customer, created).items() if v is not None})
        existing = self._existing(key, data)
        if existing is not None and existing.pk == self.written.get(key):  # the rest of a group split over chunks
            kept = [_line_of(line, plain=False) for line in existing.lines.all()]
            order_update(existing, actor=self.actor, data={"lines": kept + lines})
            return RowAction.UPDATE, existing, None
        if existing is not None:
            if not self.update_existing:
                raise Exists(existing.pk, f"{existing} exists already; not updated (allow updates to update it).")
            before = _before(existing, data)
            order = order_update(existing, actor=self.actor, data={**data, "lines": lines}).obj
            return RowAction.UPDATE, order, before
        return RowAction.CREATE, order_create(actor=self.actor, data={**data, "lines": lines}).obj, None

    def _existing(self, key: str, data: dict) -> Order | None:
        orders = Order.objects.restrict(self.actor, "view").select_for_update()
        if data.get("external_id"):
            return orders.filter(external_source=data["external_source"], external_id=data["external_id"]).first()
        if self.written.get(key):
            return orders.filter(pk=self.written[key]).first()
        return orders.filter(number=data["number"]).order_by("pk").first() if data.get("number") else None


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
