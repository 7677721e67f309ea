"""Orders, declared as a record type (docs/adding-a-record-type.md)."""

from crm.core.recordtypes import ApiSpec, RecordField, RecordType, SearchSpec, register
from crm.orders.api import schemas as s
from crm.orders.models import Order, OrderStatus, TaxMode
from crm.orders.services import orders

F = RecordField


def _text(order: Order) -> list[str]:
    return [order.number, order.external_id]


register(
    RecordType(
        object_type="order",
        slug="orders",
        model=Order,
        singular="order",
        plural="orders",
        detail_related=("owner", "company", "contact", "deal"),
        fields=(
            F("number", "str", "Number", listed=True, sortable=True, searchable=True),
            F("order_date", "date", "Order date", listed=True, sortable=True),
            F("company", "int", "Company", lookup="company_id", listed=True),
            F("contact", "int", "Contact", lookup="contact_id", listed=True),
            F("deal", "int", "Deal", lookup="deal_id"),
            F("status", "choice", "Status", choices=tuple(OrderStatus.choices), listed=True, sortable=True),
            F("currency", "str", "Currency"),
            F("tax_mode", "choice", "Tax", choices=tuple(TaxMode.choices)),
            # Kept by the services from the lines (crm/orders/services), never written by callers.
            F("subtotal", "decimal", "Subtotal", sortable=True, read_only=True),
            F("discount_total", "decimal", "Discounts", read_only=True),
            F("tax_total", "decimal", "Tax total", read_only=True),
            F("total", "decimal", "Total", listed=True, sortable=True, read_only=True),
            F("cancelled_at", "datetime", "Cancelled", sortable=True, read_only=True),
            F("notes", "str", "Notes", filterable=False),
            F("external_source", "str", "External source"),
            F("external_id", "str", "External id", searchable=True),
            F("id", "int", "ID", sortable=True, read_only=True),
            F("owner", "int", "Owner", lookup="owner_id"),
            F("created_at", "datetime", "Created", sortable=True, read_only=True),
            F("updated_at", "datetime", "Updated", sortable=True, read_only=True),
        ),
        create=orders.order_create,
        update=orders.order_update,
        delete=orders.order_delete,
        api=ApiSpec(
            out=s.OrderOut,
            create_in=s.OrderIn,
            update_in=s.OrderPatch,
            default_sort="-order_date",
            prefetch=("lines",),
        ),
        search=SearchSpec(text=_text, name_field="number"),
        importer="crm.orders.importer.OrderImporter",
    )
)
