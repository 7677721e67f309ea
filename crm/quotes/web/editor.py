"""/quotes/<id>/lines/: the quote editor (htmx). A draft quote's lines are added (a product found by
search, priced from the quote's price book in its currency, or free text), changed as the user types
and removed; the totals are the stored ones the totals engine computed on each write. Every write goes
through the quote services (crm/quotes/services/lines.py, quotes.py) with the quote's version, so a
change made elsewhere meanwhile is refused (409) instead of overwritten. A quote that is not a draft
is shown read-only with "Revise".

Requests from the page are queued one after another (hx-sync on the editor), each carrying the
version the previous answer set (#quote-version), so typing fast never trips the version check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from crm.access.policy import policy_for
from crm.core.errors import Conflict, ServiceError
from crm.core.recordtypes import by_type
from crm.products.models import Product
from crm.products.pricing import NoPrice, price_for
from crm.quotes.models import Quote, QuoteStatus, TaxMode
from crm.quotes.services import documents
from crm.quotes.services import lines as line_services
from crm.quotes.services.quotes import quote_update
from crm.quotes.services.values import totals_of
from crm.quotes.templatetags.quotes import money_of
from crm.records.selectors import get_for, matching
from crm.records.services.common import get_visible
from crm.web.views.helpers import page_errors

SEARCH_LIMIT = 10
LINE_INPUTS = ("description", "quantity", "unit_price", "discount_percent", "discount_amount", "tax_rate")
QUOTE_INPUTS = ("shipping", "shipping_tax_rate", "order_discount_percent", "order_discount_amount", "tax_mode")


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _version(request) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


def _blank_none(value: str | None):
    """An emptied box is no value (no discount), not an error."""
    value = (value or "").strip()
    return value or None


def _messages(exc: ServiceError) -> str:
    """The per-field messages of a refusal (a conflict's fields hold the current version: its message)."""
    if isinstance(exc, Conflict) or not exc.fields:
        return exc.message
    return " ".join(dict.fromkeys(exc.fields.values()))


def _state(quote: Quote) -> dict:
    """What the editor shows: the latest version, its lines and its totals (the engine's, per rate)."""
    quote = Quote.objects.select_related("price_book", "deal").get(pk=quote.pk)
    latest = quote.latest()
    lines = list(latest.lines.select_related("product").order_by("position", "id"))
    cur = money_of(quote.currency)
    totals = totals_of(latest, lines, cur.minor_units) if lines else None
    return {
        "quote": quote,
        "cur": cur,
        "latest": latest,
        "lines": lines,
        "taxes": totals.taxes if totals else (),
        "editable": quote.status == QuoteStatus.DRAFT,
        "tax_modes": TaxMode.choices,
    }


def _body(request, quote: Quote, *, status: int = 200, **extra) -> HttpResponse:
    return render(request, "quotes/editor_body.html", {**_state(quote), **extra}, status=status)


@login_required
@page_errors
@require_GET
def editor(request, pk: int):
    quote = get_visible(Quote, request.user, pk)
    may_change = Quote.objects.restrict(request.user, "change").filter(pk=pk).exists()
    context = {**_state(quote), "may_change": may_change}
    context["editable"] = context["editable"] and may_change
    return render(request, "quotes/editor.html", context)


@login_required
@page_errors
@require_GET
def product_search(request, pk: int):
    """Active products the user may see, found as the API's ``?q=`` finds them (words of the name or
    SKU by their start, through the search index: a substring scan read all 100,000 products of the
    benchmark for a rare word, docs/benchmarks.md), each with its price from the quote's book in the
    quote's currency, or the reason it has none (then it is not offered)."""
    quote = get_visible(Quote.objects.select_related("price_book"), request.user, pk)
    text = request.GET.get("q", "").strip()[:100]
    found = []
    if text:
        visible = Product.objects.restrict(request.user, "view").filter(active=True)
        products = matching(by_type("product"), visible, text, policy_for(request.user)).order_by("name", "id")[
            :SEARCH_LIMIT
        ]
        for product in products:
            found.append({"product": product, **_price(product, quote)})
    context = {"quote": quote, "found": found, "q": text, "cur": money_of(quote.currency)}
    return render(request, "quotes/editor_search.html", context)


def _price(product: Product, quote: Quote) -> dict:
    if quote.price_book is None:
        return {"price": None, "why": "The quote has no price book: add the product as a free-text line with a price."}
    try:
        return {"price": price_for(product, quote.price_book, quote.currency, 1).unit_price, "why": ""}
    except NoPrice as exc:
        return {"price": None, "why": exc.message}


@login_required
@page_errors
@require_POST
def line_add(request, pk: int):
    """A product (priced from the book) or a free-text line; the editor's body answers, with the refusal
    next to the add form when the service refuses."""
    quote = get_for(Quote, request.user, pk, "change")
    post = request.POST
    if post.get("product_id", "").isdigit():
        data = {"product_id": int(post["product_id"]), "quantity": _blank_none(post.get("quantity"))}
    else:
        data = {name: _blank_none(post.get(name)) for name in ("description", "quantity", "unit_price", "tax_rate")}
        data["is_credit"] = post.get("is_credit") == "on"
    try:
        line_services.line_add(quote, actor=request.user, data=data, version=_version(request))
    except ServiceError as exc:
        if not _is_htmx(request):
            return redirect(_editor_url(pk))
        typed = {} if "product_id" in data else data
        return _body(request, quote, status=exc.status, add_error=_messages(exc), typed=typed)
    return _body(request, quote) if _is_htmx(request) else redirect(_editor_url(pk))


@login_required
@page_errors
@require_POST
def line_update(request, pk: int, line_id: int):
    """As the user types in a line: the line saved through the service, then the line amounts, the
    totals and the new version swapped in out of band (the boxes being typed in are left alone)."""
    quote = get_for(Quote, request.user, pk, "change")
    data = {name: _blank_none(request.POST.get(name)) for name in LINE_INPUTS if name in request.POST}
    data["is_credit"] = request.POST.get("is_credit") == "on"
    if data.get("description") is None:
        data.pop("description", None)  # emptied: keep the product's name rather than refuse mid-typing
    try:
        line_services.line_update(quote, line_id, actor=request.user, data=data, version=_version(request))
    except ServiceError as exc:
        if not _is_htmx(request):
            return redirect(_editor_url(pk))
        context = {**_state(quote), "line_id": line_id, "error": _messages(exc), "stale": isinstance(exc, Conflict)}
        return render(request, "quotes/editor_update.html", context, status=exc.status)
    if not _is_htmx(request):
        return redirect(_editor_url(pk))
    return render(request, "quotes/editor_update.html", {**_state(quote), "line_id": line_id})


@login_required
@page_errors
@require_POST
def line_remove(request, pk: int, line_id: int):
    quote = get_for(Quote, request.user, pk, "change")
    try:
        line_services.line_remove(quote, line_id, actor=request.user, version=_version(request))
    except ServiceError as exc:
        return _body(request, quote, status=exc.status, add_error=_messages(exc))
    return _body(request, quote) if _is_htmx(request) else redirect(_editor_url(pk))


@login_required
@page_errors
@require_POST
def quote_terms(request, pk: int):
    """Shipping, its tax rate, the order discount and the tax mode, as the user types."""
    quote = get_for(Quote, request.user, pk, "change")
    data = {name: _blank_none(request.POST.get(name)) for name in QUOTE_INPUTS if name in request.POST}
    try:
        quote_update(quote, actor=request.user, data=data, version=_version(request))
    except ServiceError as exc:
        context = {**_state(quote), "terms_error": _messages(exc), "stale": isinstance(exc, Conflict)}
        return render(request, "quotes/editor_update.html", context, status=exc.status)
    if not _is_htmx(request):
        return redirect(_editor_url(pk))
    return render(request, "quotes/editor_update.html", _state(quote))


@login_required
@page_errors
@require_GET
def preview_pdf(request, pk: int):
    """The latest version's PDF (a draft's rendered now), opened in the browser rather than downloaded."""
    quote = get_visible(Quote.objects.select_related("company", "contact", "owner"), request.user, pk)
    version = quote.latest()
    with transaction.atomic():
        data = documents.pdf_bytes(quote, version)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.file_name(quote, version)}"'
    return response


def _editor_url(pk: int) -> str:
    return reverse("quotes:editor", args=[pk])
