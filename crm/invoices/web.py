"""The credit card of company pages (balance owed, overdue invoices, open invoices): loaded into the
record page by htmx, or a page of its own without JavaScript."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path

from crm.access.policy import policy_for
from crm.invoices.credit import credit
from crm.records.models import Company
from crm.records.selectors import get_for
from crm.web.views.helpers import page_errors

app_name = "invoices"


@login_required
@page_errors
def company_credit(request, pk: int):
    if not policy_for(request.user).allows("invoice", "view"):
        raise Http404
    company = get_for(Company, request.user, pk, "view")
    template = "invoices/credit.html" if request.htmx else "invoices/credit_page.html"
    return render(request, template, credit(request.user, company))


urlpatterns = [path("companies/<int:pk>/credit/", company_credit, name="company-credit")]
