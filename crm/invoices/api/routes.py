"""Invoice endpoints beyond the six standard ones (crm/api/crud.py builds those from the declaration):
the accounting feed's idempotent PUT and recording one payment."""

import datetime as dt
from typing import Annotated

from django.http import JsonResponse
from ninja import Path, Router
from pydantic import Field, StringConstraints

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.invoices.api.schemas import S50, S64, S100, Currency, InvoiceOut, Kind, Payments, SignedAmount, Status
from crm.invoices.models import Invoice
from crm.invoices.services.external import invoice_upsert_external
from crm.invoices.services.payments import record_payment
from crm.orders.api.external import EXTERNAL_ID, SOURCE, CustomerIn
from crm.records.api.schemas.common import Id, In, Text
from crm.records.selectors import get_for

router = Router(tags=["invoices"])
Source = Annotated[str, StringConstraints(pattern=SOURCE)]
ExternalId = Annotated[str, StringConstraints(pattern=EXTERNAL_ID)]


class ExternalInvoiceIn(In):
    customer: CustomerIn | None = Field(
        None, description="Matched by email, then company domain or name; created when nothing matches."
    )
    company_id: Id | None = None
    contact_id: Id | None = None
    number: S64 | None = None
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    amount: SignedAmount
    currency: Currency | None = None
    status: Status | None = None
    kind: Kind | None = Field(None, description="credit_note: a negative amount against credited_external_id.")
    credited_external_id: ExternalId | None = Field(
        None, description="The credited invoice's external id in the same source (or credited_invoice_id)."
    )
    credited_invoice_id: Id | None = None
    notes: Text | None = None
    payments: Payments | None = Field(None, description="Each with its external_id: matched by it, never doubled.")


class PaymentRecordIn(In):
    date: dt.date | None = None
    amount: SignedAmount
    is_refund: bool = False
    currency: Currency | None = None
    method: S50 | None = None
    external_id: S100 | None = None
    version: int | None = None


def _body(user, invoice: Invoice, status: int) -> JsonResponse:
    invoice = Invoice.objects.prefetch_related("payments").get(pk=invoice.pk)
    data = InvoiceOut.from_orm(invoice).model_dump(mode="json")
    fieldrules.mask(policy_for(user), recordtypes.by_type("invoice"), data)
    return JsonResponse(data, status=status)


@router.put(
    "/invoices/external/{source}/{external_id}",
    response={200: InvoiceOut, 201: InvoiceOut},
    summary="Create or update an invoice from the accounting system (idempotent)",
    operation_id="put_external_invoice",
)
def put_external(request, source: Path[Source], external_id: Path[ExternalId], payload: ExternalInvoiceIn):
    """The invoice the sender knows as ``external_id`` in its system ``source``: created the first time
    (201), updated every time after (200), never duplicated, also when sent twice at once. Payments
    are matched by their ``external_id`` within the invoice (updated, never doubled); payments not
    sent are kept. The customer is matched as the order feed's (``customer.email``,
    ``company_domain`` / ``company_name``) or named by ``company_id`` / ``contact_id``."""
    data = payload.model_dump(exclude_unset=True, mode="python")
    for i, p in enumerate(data.get("payments") or []):
        if not p.get("external_id"):
            raise ValidationFailed({f"payments.{i}.external_id": "A fed payment names its external id."})
    saved, created = invoice_upsert_external(actor=request.user, source=source, external_id=external_id, data=data)
    return _body(request.user, saved.obj, 201 if created else 200)


@router.post(
    "/invoices/{int:pk}/payments",
    response={200: InvoiceOut},
    summary="Record a payment received against an invoice",
    operation_id="record_invoice_payment",
)
def add_payment(request, pk: int, payload: PaymentRecordIn):
    """Above zero, in the invoice's currency, not more than its balance (422 otherwise); a draft or
    void invoice takes none. An ``external_id`` the invoice already has updates that payment. The
    invoice's paid total, balance and status follow."""
    invoice = get_for(Invoice, request.user, pk, "view")
    data = payload.model_dump(exclude_unset=True, mode="python")
    version = data.pop("version", None)
    saved = record_payment(invoice, actor=request.user, data=data, version=version)
    return _body(request.user, saved.obj, 200)
