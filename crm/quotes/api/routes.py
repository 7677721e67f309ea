"""A quote's routes beyond the six standard ones (crm/api/crud.py builds those from the declaration):
its lines, sending, revising, duplicating, answering, its versions and their PDFs, its order."""

from django.db import transaction
from django.http import HttpResponse
from ninja import Router, Status

from crm.api.crud import version_of
from crm.api.errors import ErrorOut
from crm.orders.api.routes import order_response
from crm.orders.api.schemas import OrderOut
from crm.quotes.api import schemas as s
from crm.quotes.models import Quote, QuoteVersion
from crm.quotes.services import acceptance, documents, lifecycle, lines, ordering
from crm.records.selectors import get_for
from crm.records.services.common import get_visible

router = Router(tags=["quotes"])
PATH = "/quotes/{int:pk}"
ANSWERS = {200: s.QuoteOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
PDF_RESPONSE = {
    "responses": {
        200: {  # an int, as Ninja keys its own: "200" beside 200 would be a duplicated key in the JSON
            "description": "The version's PDF: the stored one once sent, a preview of a draft",
            # application/pdf is what is sent; octet-stream too, so generic client generators (which know
            # no PDF) still type the answer as bytes instead of leaving the operation out.
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


def _lines(quote: Quote) -> dict:
    quote = Quote.objects.get(pk=quote.pk)
    return {
        "quote_id": quote.pk,
        "version": quote.version,
        "quote_version": quote.current_version,
        "total": quote.total,
        "lines": list(quote.latest().lines.order_by("position", "id")),
    }


def _fresh(quote: Quote) -> Quote:
    return Quote.objects.get(pk=quote.pk)


@router.get(f"{PATH}/lines", response=s.LinesOut, summary="The lines of a quote's latest version")
def list_lines(request, pk: int):
    return _lines(get_visible(Quote, request.user, pk))


@router.post(
    f"{PATH}/lines", response={201: s.LinesOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}, summary="Add a line"
)
def add_line(request, pk: int, payload: s.QuoteLineIn):
    """A product without a unit price takes the price book's price for the quote's currency and the
    quantity (422 naming ``lines.<n>.product_id`` when the book has none). A draft only (409 otherwise)."""
    quote = get_for(Quote, request.user, pk, "change")
    lines.line_add(quote, actor=request.user, data=payload.model_dump(mode="python"), version=version_of(request, None))
    return Status(201, _lines(quote))


@router.patch(
    f"{PATH}/lines/{{int:line_id}}",
    response={200: s.LinesOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Change a line",
)
def update_line(request, pk: int, line_id: int, payload: s.QuoteLinePatch):
    data = payload.model_dump(exclude_unset=True, mode="python")
    version = version_of(request, data.pop("version", None))
    quote = get_for(Quote, request.user, pk, "change")
    lines.line_update(quote, line_id, actor=request.user, data=data, version=version)
    return _lines(quote)


@router.delete(
    f"{PATH}/lines/{{int:line_id}}", response={200: s.LinesOut, 404: ErrorOut, 409: ErrorOut}, summary="Remove a line"
)
def remove_line(request, pk: int, line_id: int, version: int | None = None):
    quote = get_for(Quote, request.user, pk, "change")
    lines.line_remove(quote, line_id, actor=request.user, version=version_of(request, version))
    return _lines(quote)


@router.post(f"{PATH}/send", response=ANSWERS, summary="Send: freeze the version and store its PDF")
def send(request, pk: int, version: int | None = None):
    quote = get_for(Quote, request.user, pk, "change")
    version = version_of(request, version)
    return _fresh(lifecycle.quote_send(quote, actor=request.user, version=version).obj)


@router.post(f"{PATH}/revise", response=ANSWERS, summary="Revise: a new draft version copied from the latest")
def revise(request, pk: int, version: int | None = None):
    quote = get_for(Quote, request.user, pk, "change")
    version = version_of(request, version)
    return _fresh(lifecycle.quote_revise(quote, actor=request.user, version=version).obj)


@router.post(f"{PATH}/duplicate", response={201: s.QuoteOut, 404: ErrorOut}, summary="A new draft quote from this one")
def duplicate(request, pk: int):
    quote = get_visible(Quote, request.user, pk)
    return Status(201, _fresh(lifecycle.quote_duplicate(quote, actor=request.user).obj))


@router.post(f"{PATH}/accept", response=ANSWERS, summary="Record the customer's acceptance (a typed name)")
def accept(request, pk: int, payload: s.AcceptIn):
    quote = get_for(Quote, request.user, pk, "change")
    version = version_of(request, payload.version)
    return _fresh(acceptance.quote_accept(quote, actor=request.user, name=payload.name, version=version))


@router.post(f"{PATH}/decline", response=ANSWERS, summary="Record the customer's refusal (a reason)")
def decline(request, pk: int, payload: s.DeclineIn):
    quote = get_for(Quote, request.user, pk, "change")
    version = version_of(request, payload.version)
    return _fresh(acceptance.quote_decline(quote, actor=request.user, reason=payload.reason, version=version))


@router.post(
    f"{PATH}/order",
    response={201: OrderOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Make an accepted quote's order",
    operation_id="create_order_from_quote",
)
def make_order(request, pk: int):
    """The accepted version's lines copied so that the order's total equals the quote's (docs/orders.md).
    422 when the quote is not accepted; 409 when that version has its order already (``fields.order_id``
    names it); 403 without the right to add orders."""
    quote = get_visible(Quote, request.user, pk)
    return order_response(request.user, ordering.order_from_quote(quote, actor=request.user).obj, 201)


@router.get(f"{PATH}/versions", response=list[s.VersionOut], summary="Every version of a quote, oldest first")
def versions(request, pk: int):
    quote = get_visible(Quote, request.user, pk)
    return list(quote.versions.prefetch_related("lines").order_by("number"))


@router.get(f"{PATH}/versions/{{int:number}}/pdf", summary="A version's PDF", openapi_extra=PDF_RESPONSE)
def version_pdf(request, pk: int, number: int):
    quote = get_visible(Quote.objects.select_related("company", "contact", "owner"), request.user, pk)
    version = QuoteVersion.objects.filter(quote=quote, number=number).first()
    if version is None:
        from crm.core.errors import NotFound

        raise NotFound(f"Quote {quote.number} has no version {number}.")
    with transaction.atomic():
        data = documents.pdf_bytes(quote, version)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.file_name(quote, version)}"'
    return response
