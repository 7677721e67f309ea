"""A price book's entries as a sub-resource, and the price lookup (the six standard endpoints of
products and price books come from their declarations, crm/api/crud.py)."""

import decimal

from ninja import Router, Status

from crm.api.crud import version_of
from crm.api.errors import ErrorOut
from crm.products.api.schemas import EntriesIn, EntriesOut, PriceOut
from crm.products.models import PriceBook, Product
from crm.products.pricing import price_for
from crm.products.services import entries as entry_services
from crm.records.selectors import get_for
from crm.records.services.common import get_visible

router = Router(tags=["price-books"])
PATH = "/price-books/{int:pk}"


def _entries(book: PriceBook) -> dict:
    rows = book.entries.select_related("product").order_by("product__sku", "currency", "min_quantity", "id")
    return {"price_book_id": book.pk, "version": book.version, "entries": list(rows)}


@router.get(f"{PATH}/entries", response=EntriesOut, summary="A price book's prices")
def list_entries(request, pk: int):
    return _entries(get_visible(PriceBook, request.user, pk))


@router.put(f"{PATH}/entries", response={200: EntriesOut, 422: ErrorOut}, summary="Set prices (all or nothing)")
def put_entries(request, pk: int, payload: EntriesIn):
    """Each entry sets the price of (product, currency, min_quantity), added when missing; entries not
    named stay. One invalid entry and nothing is written (422 naming ``entries.<i>.<field>``)."""
    data = payload.model_dump(mode="python")
    book = get_for(PriceBook, request.user, pk, "change")
    saved = entry_services.entries_upsert(
        book, actor=request.user, entries=data["entries"], version=version_of(request, data.get("version"))
    )
    return _entries(PriceBook.objects.get(pk=saved.obj.pk))


@router.delete(f"{PATH}/entries/{{int:entry_id}}", response={204: None}, summary="Remove a price")
def delete_entry(request, pk: int, entry_id: int, version: int | None = None):
    book = get_for(PriceBook, request.user, pk, "change")
    entry_services.entry_delete(book, entry_id, actor=request.user, version=version_of(request, version))
    return Status(204, None)


@router.get(f"{PATH}/price", response={200: PriceOut, 422: ErrorOut}, summary="Look up a product's price")
def lookup_price(request, pk: int, product: int, currency: str, quantity: decimal.Decimal = decimal.Decimal(1)):
    """The entry with the largest min_quantity ≤ quantity for the product in the currency; 422
    (``no_price``) when there is none, or the product or book is inactive."""
    book = get_visible(PriceBook, request.user, pk)
    item = get_visible(Product, request.user, product)
    quote = price_for(item, book, currency, quantity)
    return {
        "product_id": item.pk,
        "price_book_id": book.pk,
        "currency": currency.strip().upper(),
        "quantity": quantity,
        "unit_price": quote.unit_price,
        "min_quantity": quote.min_quantity,
        "entry_id": quote.entry_id,
    }
