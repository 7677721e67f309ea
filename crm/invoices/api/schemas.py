"""The invoice API shapes. Amounts are decimals (JSON numbers or strings), never floats, zero or more
(a payment: above zero); the currency's minor unit, overpayment and dates in order are the services'
checks (422 naming the field)."""

import datetime as dt
import decimal
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import Field, WithJsonSchema

from crm.invoices.models import InvoiceKind, InvoiceStatus
from crm.orders.api.schemas import S50, S64, S100, Currency
from crm.records.api.schemas.common import CustomValues, Id, In, Out, Text

WHOLE = 16  # digits before the point: a DecimalField(18, 2)
Status = Literal[tuple(InvoiceStatus.values)]
Kind = Literal[tuple(InvoiceKind.values)]
# A credit note's amount and a refund are below zero (only with kind credit_note / is_refund: the
# services' check, a 422 naming the field).
SignedAmount = Annotated[
    decimal.Decimal,
    Field(gt=-(10**WHOLE), lt=10**WHOLE, max_digits=WHOLE + 2, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "exclusiveMinimum": -(10**WHOLE),
                    "exclusiveMaximum": 10**WHOLE,
                    "multipleOf": 0.01,
                },
                {"type": "string", "pattern": rf"^-?[0-9]{{1,{WHOLE}}}(\.[0-9]{{1,2}})?$"},
            ]
        }
    ),
]


class InvoicePaymentIn(In):
    date: dt.date | None = Field(None, description="Default: today.")
    amount: SignedAmount = Field(description="Above zero, in the invoice's currency; a refund below zero.")
    currency: Currency | None = Field(None, description="The invoice's currency (default).")
    method: S50 | None = None
    is_refund: bool = Field(False, description="Money given back: a negative amount, at most what was paid.")
    external_id: S100 | None = Field(None, description="The accounting system's id: sent again, it updates.")


Payments = Annotated[list[InvoicePaymentIn], Field(max_length=1000)]


class InvoiceIn(In):
    company_id: Id | None = Field(None, description="Required, unless the contact belongs to a company.")
    contact_id: Id | None = None
    order_id: Id | None = None
    kind: Kind | None = Field(None, description="invoice (default) or credit_note.")
    credited_invoice_id: Id | None = Field(None, description="A credit note's invoice (same company and currency).")
    number: S64 | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = Field(None, description="Not before the issue date; default: the issue date.")
    amount: SignedAmount = Field(description="Zero or more; a credit note's below zero, at most its invoice's.")
    currency: Currency | None = None
    status: Status | None = None
    external_source: S50 | None = None
    external_id: S100 | None = None
    notes: Text | None = None
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None
    payments: Payments | None = None


class InvoicePatch(In):
    company_id: Id | None = None
    contact_id: Id | None = None
    order_id: Id | None = None
    kind: Kind = Field(None, description="Stays as created (a different kind is refused).")
    credited_invoice_id: Id | None = None
    number: S64 = Field(None)
    issue_date: dt.date = Field(None)
    due_date: dt.date = Field(None)
    amount: SignedAmount = Field(None)
    currency: Currency = Field(None)
    status: Status = Field(None)
    external_source: S50 = Field(None)
    external_id: S100 = Field(None)
    notes: Text = Field(None)
    owner_id: Id | None = None
    custom_fields: CustomValues | None = None
    payments: Payments = Field(None, description="Added, or updated when their external id matches.")
    version: int | None = None


class InvoicePaymentOut(Schema):
    id: int
    date: dt.date
    amount: decimal.Decimal
    currency: str
    method: str
    is_refund: bool
    external_id: str


class InvoiceOut(Out, Schema):
    number: str
    company_id: int | None
    contact_id: int | None
    order_id: int | None
    kind: str
    credited_invoice_id: int | None
    issue_date: dt.date
    due_date: dt.date
    amount: decimal.Decimal
    currency: str
    status: str
    paid_total: decimal.Decimal
    credited_total: decimal.Decimal
    balance: decimal.Decimal
    days_overdue: int
    external_source: str
    external_id: str
    notes: str
    owner_id: int | None
    payments: list[InvoicePaymentOut]

    @staticmethod
    def resolve_payments(obj):
        return list(obj.payments.all())

    @staticmethod
    def resolve_days_overdue(obj):
        return obj.overdue_days(timezone.localdate())
