"""Creating many orders in a few statements: the order import's path (crm/orders/importer.py), which
writes 1,000 lines a chunk. The rules are order_create's, from the same functions (the fields'
checks in services/orders.py, the lines' and totals' in services/lines.py, the model's full_clean);
what differs is how often the database is asked: the owners, related records, products and
currencies named by the whole call are read once; the customers are matched or created together
(services/customers.py match_or_create_many); orders and lines are inserted with crm/core/rawinsert.py,
the change log and search index written in one statement each, and each customer's purchase stats
refreshed once per call instead of once per order.

An item that fails is reported in its slot and the others are written; a failure found only while
writing (a customer that cannot be created, an order its author could not see) rolls the call's
writes back and writes again without that item, so a failed item never leaves a customer behind."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from crm.audit import changelog
from crm.core import clock, events, rawinsert
from crm.core.bounds import out_of_bounds
from crm.core.errors import ValidationFailed
from crm.customization.validation import clean_custom_fields
from crm.money.currencies import minor_units, organization_currency
from crm.orders import stats
from crm.orders.models import VOID, Clawback, Order, OrderLine
from crm.orders.services import lines as order_lines
from crm.orders.services.customers import match_or_create_many
from crm.orders.services.orders import CUSTOMER_NEEDED, FIELDS, check_external, check_fields, clawback_values
from crm.records.models import Company, Contact, Deal
from crm.records.services import bulk, common
from crm.search import index as search_index

FK_FIELDS = ("owner", "company", "contact", "deal")  # checked once per call, not by full_clean per order
STORED = Decimal("0.0001")  # the four places of a line's quantity, price, discount and tax rate
LINE_COLUMNS = (
    "order_id", "position", "product_id", "description", "quantity", "unit_price", "discount_percent",
    "discount_amount", "tax_rate", "is_credit", "net", "tax", "total",
)  # fmt: skip


def order_create_many(*, actor, items: list[dict], created: list | None = None) -> list[Order | ValidationFailed]:
    """order_create for many orders. Each item is order_create's ``data`` (its fields and ``lines``),
    where ``customer`` ({email, first_name, last_name, company_name, company_domain}, as the feed
    takes it) may stand for ``company_id`` / ``contact_id``. Each slot of the result is the new order
    or the ValidationFailed that kept it out. ``created`` collects the customers created (undo)."""
    common.require(actor, Order, "add")
    created = [] if created is None else created
    results, built = _build_all(actor, items)
    for _ in range(3):  # a late failure takes its item out; the others are written again without it
        made: list = []
        with transaction.atomic():
            late = _write(actor, built, made)
            if late:
                transaction.set_rollback(True)
        if not late:
            created += made
            for slot, order, _, _ in built:
                results[slot] = order
            return results
        for slot, error in late.items():
            results[slot] = error
        built = [b for b in built if b[0] not in late]
    raise RuntimeError("order_create_many: writes kept failing")  # not reached: each pass drops its failures


def _build_all(actor, items: list[dict]) -> tuple[list, list[tuple]]:
    """Every item checked: (result slots with the failures, [(slot, order, prepared, computed)])."""
    items = [dict(d) for d in items]
    errors: list[dict] = [{} for _ in items]
    for data, item_errors in zip(items, errors, strict=True):
        try:
            common.guard_fields(actor, Order.object_type, data)
        except ValidationFailed as exc:
            item_errors.update(exc.fields)
    batch = bulk.Batch(actor, Order)
    batch.users(items, errors)
    for key, model in (("company", Company), ("contact", Contact), ("deal", Deal)):
        batch.related(items, errors, key, model)
    batch.products = order_lines.products_of(actor, [d.get("lines") for d in items])
    batch.enabled, batch.units = {}, {}
    built = []
    for i, data in enumerate(items):
        made = _build(batch, data, errors[i])
        if not errors[i]:
            built.append((i, *made))
    return [ValidationFailed(e) if e else None for e in errors], built


def _build(batch: bulk.Batch, data: dict, errors: dict):
    """One item: its fields, lines and totals checked as order_create checks them; not saved."""
    for key in ("order_date", "currency", "status", "tax_mode"):  # null: the default, as order_create
        if key in data and data[key] is None:
            del data[key]
    check_fields(data, None, errors, batch.enabled)
    customer = data.pop("customer", None)
    order = bulk.new(Order, currency=organization_currency(), **batch.stamps)
    order._customer = customer  # matched after every item is checked (_write)
    order._owner_given = "owner_id" in data
    for key in ("owner_id", *(f"{k}_id" for k in FK_FIELDS[1:])):
        if key in data:
            setattr(order, key, data[key])
    common.assign(order, data, [f for f in FIELDS if f not in FK_FIELDS])
    try:
        order.custom_fields = clean_custom_fields(Order.object_type, data.get("custom_fields"), defs=batch.defs)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if order.company_id is None and order.contact_id is None and not customer:
        errors["company_id"] = CUSTOMER_NEEDED
    check_external(order, errors)
    errors.update({k: v for k, v in _clean(order).items() if k not in errors})
    if errors:
        return order, None, None
    try:
        prepared = order_lines.prepare(data.get("lines"), actor=batch.actor, products=batch.products)
        if order.currency not in batch.units:
            batch.units[order.currency] = minor_units(order.currency)
        computed = order_lines.totals(
            prepared, currency=order.currency, tax_mode=order.tax_mode, units=batch.units[order.currency]
        )
    except ValidationFailed as exc:
        errors.update(exc.fields)
        return order, None, None
    order_lines.apply_totals(order, computed)
    return order, prepared, computed


def _clean(order: Order) -> dict:
    """common.full_clean without the foreign keys (checked once per call by the batch)."""
    errors = {}
    try:
        order.full_clean(exclude=FK_FIELDS, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
    return errors | out_of_bounds(order, skip=errors)


def _write(actor, built: list[tuple], made: list) -> dict:
    """Match the customers, insert the orders and lines, log, index, emit, refresh the stats.
    Returns {slot: ValidationFailed} of the items that failed here (the caller rolls back)."""
    late = _customers(actor, built, made)
    if late:
        return late
    orders = [b[1] for b in built]
    _default_owners(actor, [o for o in orders if not o._owner_given])
    _insert(orders)
    hidden = bulk.invisible(actor, Order, orders)
    if hidden:
        return {slot: ValidationFailed({"owner_id": bulk.INVISIBLE}) for slot, o, _, _ in built if o.pk in hidden}
    lines = _insert_lines(built)
    Clawback.objects.bulk_create(
        [Clawback(order=o, reason=o.status, **clawback_values(o)) for o in orders if o.status in VOID]
    )
    search_index.update_many(orders)
    changes = changelog.log_bulk_create(actor, orders, [{"lines": [x.summary() for x in ls]} for ls in lines])
    events.emit_many("record.created", orders, actor=actor, changes=changes)
    stats.refresh(
        company_ids={o.company_id for o in orders} - {None}, contact_ids={o.contact_id for o in orders} - {None}
    )
    return {}


def _customers(actor, built: list[tuple], made: list) -> dict:
    named = [(slot, order) for slot, order, _, _ in built if order._customer]
    matched = match_or_create_many(actor, [order._customer for _, order in named], made)
    late = {}
    for (slot, order), found in zip(named, matched, strict=True):
        if isinstance(found, ValidationFailed):
            late[slot] = found
            continue
        for key, pk in found.items():
            if pk is not None:
                setattr(order, key, pk)
    return late


def _default_owners(actor, orders: list[Order]) -> None:
    """order_create's default: the company's owner, else the contact's, else whoever records it."""
    owners = {}
    for model, key in ((Company, "company_id"), (Contact, "contact_id")):
        ids = {getattr(o, key) for o in orders} - {None}
        owners[key] = dict(model.objects.filter(pk__in=ids).values_list("pk", "owner_id")) if ids else {}
    for o in orders:
        o.owner_id = owners["company_id"].get(o.company_id) or owners["contact_id"].get(o.contact_id) or actor.pk


def _insert(orders: list[Order]) -> None:
    """Ids taken up front, so an order without a number gets ORD-<id> in the same insert."""
    now = clock.now()
    fields = [f for f in Order._meta.concrete_fields if not f.primary_key]
    names = ["id", *(f.attname for f in fields)]
    for order, pk in zip(orders, rawinsert.next_ids(Order, len(orders)), strict=True):
        order.pk, order.created_at, order.updated_at, order.version = pk, now, now, 1
        order.number = order.number or f"ORD-{pk:06d}"
        if order.status in VOID:
            order.cancelled_at = now
        order._state.adding = False
    rawinsert.insert(Order, names, ([getattr(o, n) for n in names] for o in orders))


def _insert_lines(built: list[tuple]) -> list[list[OrderLine]]:
    """Each order's lines, as services/lines.py write() builds them, in one insert."""
    out = []
    for _, order, prepared, computed in built:
        out.append(
            [
                OrderLine(
                    order_id=order.pk,
                    position=i,
                    product_id=p["product"].pk if p["product"] else None,
                    description=p["description"],
                    quantity=p["quantity"].quantize(STORED),  # as read back: the change log's summary
                    unit_price=p["unit_price"].quantize(STORED),
                    discount_percent=p["discount_percent"].quantize(STORED),
                    discount_amount=p.get("discount_amount"),
                    tax_rate=p["tax_rate"].quantize(STORED),
                    is_credit=p["is_credit"],
                    net=amounts.base,
                    tax=amounts.tax,
                    total=amounts.total,
                )
                for i, (p, amounts) in enumerate(zip(prepared, computed.lines, strict=True))
            ]
        )
    rawinsert.insert(OrderLine, LINE_COLUMNS, ([getattr(x, c) for c in LINE_COLUMNS] for ls in out for x in ls))
    return out
