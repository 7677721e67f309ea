"""Order endpoints beyond the six standard ones (crm/api/crud.py builds those from the declaration):
the external feed's idempotent PUT and a won deal's order."""

from typing import Annotated

from django.http import JsonResponse
from ninja import Path, Router
from pydantic import StringConstraints

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.orders.api.external import EXTERNAL_ID, SOURCE, ExternalOrderIn
from crm.orders.api.schemas import OrderOut
from crm.orders.models import Order
from crm.orders.services.external import order_upsert_external
from crm.orders.services.orders import order_from_deal
from crm.records.models import Deal
from crm.records.selectors import get_for

router = Router(tags=["orders"])
Source = Annotated[str, StringConstraints(pattern=SOURCE)]
ExternalId = Annotated[str, StringConstraints(pattern=EXTERNAL_ID)]


def order_response(user, order: Order, status: int) -> JsonResponse:
    """The order as OrderOut with the role's field rules applied (also the quotes' POST /quotes/{id}/order)."""
    order = Order.objects.prefetch_related("lines").get(pk=order.pk)
    data = OrderOut.from_orm(order).model_dump(mode="json")
    fieldrules.mask(policy_for(user), recordtypes.by_type("order"), data)
    return JsonResponse(data, status=status)


@router.put(
    "/orders/external/{source}/{external_id}",
    response={200: OrderOut, 201: OrderOut},
    summary="Create or update an order from an outside system (idempotent)",
    operation_id="put_external_order",
)
def put_external(request, source: Path[Source], external_id: Path[ExternalId], payload: ExternalOrderIn):
    """The order the sender knows as ``external_id`` in its system ``source``: created the first
    time (201), updated every time after (200), never duplicated, also when sent twice at once. Its
    lines replace the order's lines. The customer is matched by ``customer.email`` (a contact) and
    ``customer.company_domain`` / ``company_name`` (a company) among the records the caller sees, and
    created when nothing matches; or named by ``company_id`` / ``contact_id``."""
    data = payload.model_dump(exclude_unset=True, mode="python")
    saved, created = order_upsert_external(actor=request.user, source=source, external_id=external_id, data=data)
    return order_response(request.user, saved.obj, 201 if created else 200)


@router.post(
    "/deals/{int:pk}/order",
    response={201: OrderOut},
    summary="Make a won deal's order",
    operation_id="create_order_from_deal",
)
def deal_order(request, pk: int):
    """One line with the deal's amount, its company, first contact and currency. 422 when the deal is
    not won or has no amount; 409 when it already has an order that is not cancelled or returned."""
    deal = get_for(Deal, request.user, pk, "view")
    saved = order_from_deal(deal, request.user)
    return order_response(request.user, saved.obj, 201)
