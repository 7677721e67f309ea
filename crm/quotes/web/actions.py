"""The quote page's buttons: send, revise, duplicate, through the lifecycle services (the page itself is
the generic record page with web/facts/quotes.html), and the routes of the line editor (editor.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from crm.core.errors import ServiceError
from crm.quotes.models import Quote
from crm.quotes.services import lifecycle, ordering
from crm.quotes.web import editor
from crm.records.selectors import get_for
from crm.records.services.common import get_visible
from crm.web.views.helpers import page_errors, safe_next

app_name = "quotes"


def _page(pk: int) -> str:
    return reverse("web:record-detail", args=["quotes", pk])


def _version(request) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


def _refusal(exc: ServiceError) -> str:
    return " ".join([exc.message, *exc.fields.values()])


@login_required
@page_errors
@require_POST
def send(request, pk: int):
    quote = get_for(Quote, request.user, pk, "change")
    try:
        lifecycle.quote_send(quote, actor=request.user, version=_version(request))
    except ServiceError as exc:
        messages.error(request, f"The quote was not sent. {_refusal(exc)}")
    else:
        messages.success(request, "Quote sent: the version is frozen and its PDF stored.")
    return redirect(_page(pk))


@login_required
@page_errors
@require_POST
def revise(request, pk: int):
    quote = get_for(Quote, request.user, pk, "change")
    try:
        lifecycle.quote_revise(quote, actor=request.user, version=_version(request))
    except ServiceError as exc:
        messages.error(request, f"The quote was not revised. {_refusal(exc)}")
    else:
        messages.success(request, "A new draft version was made.")
    return redirect(safe_next(request, _page(pk)))


@login_required
@page_errors
@require_POST
def duplicate(request, pk: int):
    quote = get_visible(Quote, request.user, pk)
    try:
        copy = lifecycle.quote_duplicate(quote, actor=request.user).obj
    except ServiceError as exc:
        messages.error(request, f"The quote was not duplicated. {_refusal(exc)}")
        return redirect(_page(pk))
    messages.success(request, f"Quote {copy.number} made from {quote.number}.")
    return redirect(_page(copy.pk))


@login_required
@page_errors
@require_POST
def make_order(request, pk: int):
    """An accepted quote's order (services/ordering.py); its page on success, the reason otherwise."""
    quote = get_visible(Quote, request.user, pk)
    try:
        order = ordering.order_from_quote(quote, actor=request.user).obj
    except ServiceError as exc:
        messages.error(request, f"No order was made. {exc.message if exc.code == 'quote_has_order' else _refusal(exc)}")
        return redirect(_page(pk))
    messages.success(request, f"Order {order.number} made from quote {quote.number}.")
    return redirect(reverse("web:record-detail", args=["orders", order.pk]))


urlpatterns = [
    path("quotes/<int:pk>/send", send, name="send"),
    path("quotes/<int:pk>/revise", revise, name="revise"),
    path("quotes/<int:pk>/duplicate", duplicate, name="duplicate"),
    path("quotes/<int:pk>/order", make_order, name="make-order"),
    # The editor (crm/quotes/web/editor.py); /quotes/<id>/edit/ stays the generic form of the quote's fields.
    path("quotes/<int:pk>/lines/", editor.editor, name="editor"),
    path("quotes/<int:pk>/lines/products", editor.product_search, name="product-search"),
    path("quotes/<int:pk>/lines/add", editor.line_add, name="line-add"),
    path("quotes/<int:pk>/lines/terms", editor.quote_terms, name="terms"),
    path("quotes/<int:pk>/lines/<int:line_id>", editor.line_update, name="line-update"),
    path("quotes/<int:pk>/lines/<int:line_id>/remove", editor.line_remove, name="line-remove"),
    path("quotes/<int:pk>/preview.pdf", editor.preview_pdf, name="preview-pdf"),
]
