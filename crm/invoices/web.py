"""The credit card of company pages (balance owed, overdue invoices, open invoices): loaded into the
record page by htmx, or a page of its own without JavaScript; and the invoice page's "Record payment"
form (through ``record_payment``, so the same refusals as the API, shown as a message)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from crm.access.policy import policy_for
from crm.core.errors import NotFound, PermissionDenied, ServiceError
from crm.invoices.credit import credit
from crm.invoices.models import Invoice
from crm.invoices.services.payments import record_payment
from crm.records.models import Company
from crm.records.selectors import get_for
from crm.web.views.helpers import page_errors

app_name = "invoices"
WITHHELD = frozenset({"amount", "balance", "paid_total"})


@login_required
@page_errors
def company_credit(request, pk: int):
    if not policy_for(request.user).allows("invoice", "view"):
        raise Http404
    company = get_for(Company, request.user, pk, "view")
    template = "invoices/credit.html" if request.htmx else "invoices/credit_page.html"
    # A role that hides invoice amounts or balances sees no sums of them either (as the board withholds
    # a converted total when amounts are hidden).
    hidden = policy_for(request.user).hidden_fields("invoice") & WITHHELD
    if hidden:
        return render(request, template, {"company": company, "withheld": sorted(hidden)})
    return render(request, template, credit(request.user, company))


@login_required
@page_errors
@require_POST
def invoice_payment(request, pk: int):
    invoice = get_for(Invoice, request.user, pk, "view")
    data = {k: request.POST.get(k, "").strip() for k in ("date", "amount", "method", "external_id")}
    data = {k: v for k, v in data.items() if v or k == "amount"}
    version = request.POST.get("version", "")
    try:
        record_payment(invoice, actor=request.user, data=data, version=int(version) if version.isdigit() else None)
    except (PermissionDenied, NotFound):
        raise  # 403 / 404 (page_errors), not a message
    except ServiceError as exc:
        details = "; ".join(exc.fields.values()) if exc.fields else exc.message
        messages.error(request, f"No payment was recorded. {details}")
    else:
        messages.success(request, f"Payment of {data['amount']} {invoice.currency} recorded on {invoice}.")
    return redirect(reverse("web:record-detail", args=["invoices", invoice.pk]))


urlpatterns = [
    path("companies/<int:pk>/credit/", company_credit, name="company-credit"),
    path("invoices/<int:pk>/payments/", invoice_payment, name="invoice-payment"),
]
