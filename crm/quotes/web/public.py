"""The customer's acceptance page (no login): the quote as sent, accept with a typed name or decline
with a reason (crm/quotes/links.py: which links open). CSRF is on (the form carries the token Django
set with the page); each address may post a few answers per window (POST_LIMIT), as public forms are
limited. A link that does not open is a 404 and changes nothing."""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from crm.automation.system import automation_user
from crm.core import context
from crm.core.clientip import client_ip
from crm.core.errors import NotFound, ServiceError
from crm.quotes import links
from crm.quotes.formatting import money
from crm.quotes.models import QuoteStatus
from crm.quotes.services import acceptance, documents

POST_LIMIT = 10  # answers per address per window
POST_WINDOW = 600  # seconds


def _open(token: str):
    try:
        return links.resolve(token)
    except NotFound:
        raise Http404("No such quote.") from None


def _throttled(request) -> bool:
    key = f"quotes:public:{client_ip(request)}"
    cache.add(key, 0, POST_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, POST_WINDOW)
        count = 1
    return count > POST_LIMIT


@require_http_methods(["GET", "POST"])
def page(request, token: str):
    quote, version = _open(token)
    error, status = "", 200
    if request.method == "POST":
        if _throttled(request):
            return HttpResponse("Too many answers from your address; try again in a few minutes.", status=429)
        action = request.POST.get("action")
        try:
            with context.change_context(source="web"):
                if action == "accept":
                    acceptance.quote_accept(
                        quote, actor=automation_user(), name=request.POST.get("name", ""), ip=client_ip(request)
                    )
                elif action == "decline":
                    acceptance.quote_decline(
                        quote, actor=automation_user(), reason=request.POST.get("reason", ""), ip=client_ip(request)
                    )
                else:
                    raise Http404("No such action.")
        except ServiceError as exc:
            error, status = (" ".join(exc.fields.values()) or exc.message), 422
        quote, version = _open(token)
    doc = documents.document(quote, version)
    m = lambda amount: money(amount, quote.currency, doc.totals.minor_units)  # noqa: E731
    lines = [
        {
            "description": a.description,
            "quantity": a.quantity.normalize(),
            "unit_price": m(a.unit_price),
            "amount": m(a.gross - a.line_discount),
        }
        for a in doc.totals.lines
    ]
    context_ = {
        "quote": quote,
        "version": version,
        "doc": doc,
        "lines": lines,
        "total": m(doc.totals.total),
        "tax_total": m(doc.totals.tax_total),
        "open": quote.status == QuoteStatus.SENT,
        "error": error,
        "posted": request.POST if error else {},
    }
    return render(request, "quotes/public_quote.html", context_, status=status)


def pdf(request, token: str):
    quote, version = _open(token)
    response = HttpResponse(documents.pdf_bytes(quote, version), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{documents.file_name(quote, version)}"'
    return response
