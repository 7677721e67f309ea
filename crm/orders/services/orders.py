"""Order writes: create (with lines), update, status changes, delete, a won deal's order, and the
entry point an accepted quote calls (``order_create_from_lines``).

Every write recomputes the totals from the lines (crm/quotes/totals.py), refreshes the purchase stats
of the customers it touches (crm/orders/stats.py), and logs and emits as every record write does.
Cancelling or returning an order records a ``Clawback`` the commissions work reads later."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from crm.audit import changelog
from crm.core import clock
from crm.core.errors import Conflict, ValidationFailed
from crm.money.currencies import organization_currency, require_currency
from crm.orders import stats
from crm.orders.models import VOID, Clawback, Order, OrderStatus, TaxMode
from crm.orders.services import lines as order_lines
from crm.records.models import Company, Contact, Deal, DealStatus
from crm.records.services import common

FIELDS = (
    "number",
    "company",
    "contact",
    "deal",
    "order_date",
    "currency",
    "status",
    "tax_mode",
    "external_source",
    "external_id",
    "notes",
    "owner",
)
STATUSES = set(OrderStatus.values)


def _prepare(data: dict, actor, order: Order | None) -> dict:
    data, errors = dict(data), {}
    for key in ("order_date", "currency", "status", "tax_mode"):  # null: left as it is (or the default)
        if key in data and data[key] is None:
            del data[key]
    common.resolve_related(data, "company", Company, actor, errors)
    common.resolve_related(data, "contact", Contact, actor, errors)
    common.resolve_related(data, "deal", Deal, actor, errors)
    common.resolve_user(data, "owner", errors)
    check_fields(data, order, errors)
    common.raise_if(errors)
    return data


def check_fields(data: dict, order: Order | None, errors: dict, enabled: dict | None = None) -> None:
    """The order's own fields in ``data`` checked and cleaned in place (errors collected): what
    order_create, order_update and order_create_many (services/bulk.py) share. ``enabled``: the
    currencies already checked (a bulk call asks once per currency)."""
    for key in ("number", "external_source", "external_id"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    if "currency" in data:
        code = data["currency"].strip().upper() if isinstance(data["currency"], str) else ""
        try:
            if enabled is None or code not in enabled:
                require_currency(code or None)
            data["currency"] = code
            if enabled is not None:
                enabled[code] = True
        except DjangoValidationError as exc:
            errors["currency"] = f"{data['currency']!r}: {exc.messages[0]}"
    if "status" in data and data["status"] not in STATUSES:
        errors["status"] = f"One of {', '.join(OrderStatus.values)}."
    if "tax_mode" in data and data["tax_mode"] not in TaxMode.values:
        errors["tax_mode"] = "exclusive or inclusive."
    if order is not None and order.status in VOID and data.get("status", order.status) != order.status:
        errors["status"] = f"A {order.status} order keeps its status."


def _validate(order: Order) -> None:
    errors = {}
    if order.company_id is None and order.contact_id is None:
        errors["company_id"] = CUSTOMER_NEEDED
    check_external(order, errors)
    common.raise_if(errors)
    common.full_clean(order)


CUSTOMER_NEEDED = "An order belongs to a company or a contact (or both)."


def check_external(order: Order, errors: dict) -> None:
    if bool(order.external_source) != bool(order.external_id):
        errors["external_id"] = "An external id comes with its source, and a source with an id."


def _default_owner(order: Order, actor):
    """The account's owner (so the order follows the customer), else whoever records it."""
    for record in (order.company, order.contact):
        if record is not None and record.owner_id:
            return record.owner
    return actor


def _price(order: Order, lines, actor, *, exact: bool = False) -> None:
    prepared = order_lines.prepare(lines, actor=actor, exact=exact)
    computed = order_lines.totals(prepared, currency=order.currency, tax_mode=order.tax_mode)
    order_lines.apply_totals(order, computed)
    return prepared, computed


def _mark_void(order: Order, previous: str | None) -> None:
    """Cancelled or returned now: the time, and the clawback mark (once per order and reason)."""
    if order.status not in VOID or previous == order.status:
        return
    order.cancelled_at = clock.now()
    Clawback.objects.get_or_create(order=order, reason=order.status, defaults=clawback_values(order))


def clawback_values(order: Order) -> dict:
    return {"deal_id": order.deal_id, "amount": order.total, "currency": order.currency}


@transaction.atomic
def order_create(*, actor, data: dict, exact_lines: bool = False) -> common.Saved:
    """``data``: the order's fields (``company_id``, ``contact_id``, ``deal_id``, ``currency``, ...)
    and ``lines`` (a list of {product_id, description, quantity, unit_price, discount_percent,
    tax_rate, is_credit}); at least one line. ``exact_lines``: an accepted quote's (lines.prepare)."""
    common.require(actor, Order, "add", data)
    data = _prepare(data, actor, None)
    order = Order(currency=organization_currency())
    common.assign(order, data, FIELDS)
    if "owner" not in data:
        order.owner = _default_owner(order, actor)
    common.apply_custom_fields(order, data, creating=True)
    _validate(order)
    prepared, computed = _price(order, data.get("lines"), actor, exact=exact_lines)
    common.save_new(order, actor=actor)
    order_lines.write(order, prepared, computed)
    if not order.number:
        order.number = f"ORD-{order.pk:06d}"
        Order.objects.filter(pk=order.pk).update(number=order.number)
    _mark_void(order, None)
    if order.cancelled_at:
        Order.objects.filter(pk=order.pk).update(cancelled_at=order.cancelled_at)
    common.finish_create(order, actor)
    stats.refresh_for(order)
    return common.Saved(order)


@transaction.atomic
def order_update(order: Order, *, actor, data: dict, version: int | None = None) -> common.Saved:
    """Fields given change; ``lines`` given replace every line."""
    order = common.lock_for_write(order, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(order)
    was = {"company_id": order.company_id, "contact_id": order.contact_id, "status": order.status}
    data = _prepare(data, actor, order)
    common.assign(order, data, FIELDS)
    common.apply_custom_fields(order, data, creating=False)
    _validate(order)
    if "lines" in data:
        prepared, computed = _price(order, data["lines"], actor)
        order_lines.write(order, prepared, computed)
    elif {"currency", "tax_mode"} & set(data):  # the same lines, rounded or taxed another way
        prepared = [_as_input(line) for line in order.lines.all()]
        computed = order_lines.totals(prepared, currency=order.currency, tax_mode=order.tax_mode)
        order_lines.apply_totals(order, computed)
        order_lines.write(order, prepared, computed)
    _mark_void(order, was["status"])
    common.save_existing(order)
    common.finish_update(order, actor, before)
    stats.refresh_for(order, previous=was)
    return common.Saved(order)


def _as_input(line) -> dict:
    return {
        "product": line.product,
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount_percent": line.discount_percent,
        "discount_amount": line.discount_amount,
        "tax_rate": line.tax_rate,
        "is_credit": line.is_credit,
    }


def order_set_status(order: Order, *, actor, status: str, version: int | None = None) -> common.Saved:
    """confirmed → fulfilled → invoiced → paid, or cancelled / returned (final; they record a clawback)."""
    return order_update(order, actor=actor, data={"status": status}, version=version)


@transaction.atomic
def order_delete(order: Order, *, actor, version: int | None = None) -> None:
    was = {"company_id": order.company_id, "contact_id": order.contact_id}
    common.delete_record(order, actor=actor, version=version)
    stats.refresh(company_ids={was["company_id"]} - {None}, contact_ids={was["contact_id"]} - {None})


def order_create_from_lines(*, actor, data: dict, lines: list[dict]) -> common.Saved:
    """What an accepted quote calls (crm/quotes/services/ordering.py): its customer, deal and currency
    in ``data``, its lines copied exactly (each {product_id, description, quantity, unit_price,
    discount_percent, discount_amount, tax_rate, is_credit}, 4 places)."""
    return order_create(actor=actor, data={**data, "lines": lines}, exact_lines=True)


@transaction.atomic
def order_from_deal(deal: Deal, actor) -> common.Saved:
    """A won deal's order: its company and first contact, its currency and one line with its amount
    (deals have no lines of their own; an accepted quote brings its lines through order_create_from_lines)."""
    deal = common.get_visible(Deal, actor, deal.pk)
    if deal.status != DealStatus.WON:
        raise ValidationFailed({"deal_id": f"{deal} is not won; only a won deal becomes an order."})
    existing = Order.objects.filter(deal=deal).exclude(status__in=VOID).first()
    if existing is not None:
        raise Conflict(f"{deal} already has {existing}.", code="deal_has_order")
    if deal.amount is None:
        raise ValidationFailed({"amount": f"{deal} has no amount to order."})
    contact = deal.contacts.order_by("deal_roles__id").first()
    data = {
        "deal_id": deal.pk,
        "company_id": deal.company_id,
        "contact_id": contact.pk if contact else None,
        "currency": deal.currency,
        "order_date": (deal.closed_at.date() if deal.closed_at else clock.now().date()),
        "lines": [{"description": deal.name[:500], "quantity": 1, "unit_price": deal.amount}],
    }
    return order_create(actor=actor, data=data)
