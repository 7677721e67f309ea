"""The price-book page's entries form: add or change one price, or remove one, through the entry
services (the page itself is the generic record page with web/facts/price-books.html)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from crm.core.errors import ServiceError
from crm.products.models import PriceBook
from crm.products.services import entries, price_books
from crm.records.selectors import get_for
from crm.web.views.helpers import page_errors

app_name = "products"


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _page(book_pk: int) -> str:
    return reverse("web:record-detail", args=["price-books", book_pk]) + "#prices-h"


def _refusal(exc: ServiceError) -> str:
    details = "; ".join(f"{k.rsplit('.', 1)[-1].replace('_', ' ')}: {v}" for k, v in exc.fields.items())
    return f"{exc.message} {details}".strip()


@login_required
@page_errors
@require_POST
def entry_save(request, pk: int):
    book = get_for(PriceBook, request.user, pk, "change")
    item = {
        "product_id": _int(request.POST.get("product_id")),
        "currency": request.POST.get("currency", ""),
        "unit_price": request.POST.get("unit_price", ""),
        "min_quantity": request.POST.get("min_quantity") or 1,
    }
    try:
        entries.entries_upsert(book, actor=request.user, entries=[item], version=_int(request.POST.get("version")))
    except ServiceError as exc:
        messages.error(request, f"The price was not saved. {_refusal(exc)}")
    else:
        messages.success(request, "Price saved.")
    return redirect(_page(book.pk))


@login_required
@page_errors
@require_POST
def entry_remove(request, pk: int, entry_id: int):
    book = get_for(PriceBook, request.user, pk, "change")
    try:
        entries.entry_delete(book, entry_id, actor=request.user, version=_int(request.POST.get("version")))
    except ServiceError as exc:
        messages.error(request, f"The price was not removed. {_refusal(exc)}")
    else:
        messages.success(request, "Price removed.")
    return redirect(_page(book.pk))


@login_required
@page_errors
@require_POST
def make_standard(request, pk: int):
    book = get_for(PriceBook, request.user, pk, "change")
    try:
        price_books.price_book_update(
            book, actor=request.user, data={"is_standard": True}, version=_int(request.POST.get("version"))
        )
    except ServiceError as exc:
        messages.error(request, f"{book.name} was not made standard. {_refusal(exc)}")
    else:
        messages.success(request, f"{book.name} is now the standard price book.")
    return redirect(reverse("web:record-detail", args=["price-books", book.pk]))


urlpatterns = [
    path("price-books/<int:pk>/standard/", make_standard, name="make-standard"),
    path("price-books/<int:pk>/entries/", entry_save, name="entry-save"),
    path("price-books/<int:pk>/entries/<int:entry_id>/delete/", entry_remove, name="entry-remove"),
]
