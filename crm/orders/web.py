"""The purchase-history card of company and contact pages (loaded into the record page by htmx, or
a page of its own without JavaScript), and the won deal's "Make order" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from crm.access.policy import policy_for
from crm.core.errors import ServiceError
from crm.orders.history import history
from crm.orders.services.orders import order_from_deal
from crm.records.models import Company, Contact, Deal
from crm.records.selectors import get_for
from crm.web.views.helpers import page_errors

app_name = "orders"
MODELS = {"companies": Company, "contacts": Contact}


@login_required
@page_errors
def purchase_history(request, slug: str, pk: int):
    model = MODELS.get(slug)
    if model is None or not policy_for(request.user).allows("order", "view"):
        raise Http404
    record = get_for(model, request.user, pk, "view")
    context = {**history(request.user, record), "slug": slug}
    template = "orders/history.html" if request.htmx else "orders/history_page.html"
    return render(request, template, context)


@login_required
@page_errors
@require_POST
def deal_order(request, pk: int):
    deal = get_for(Deal, request.user, pk, "view")
    try:
        saved = order_from_deal(deal, request.user)
    except ServiceError as exc:
        details = "; ".join(exc.fields.values()) if exc.fields else exc.message
        messages.error(request, f"No order was made. {details}")
        return redirect(reverse("web:record-detail", args=["deals", deal.pk]))
    messages.success(request, f"{saved.obj} made from {deal}.")
    return redirect(reverse("web:record-detail", args=["orders", saved.obj.pk]))


# Only the two customer types: any other slug is the web app's (crm/web/urls.py, included after this).
urlpatterns = [
    path("<slug:slug>/<int:pk>/purchases/", purchase_history, name="purchase-history"),  # companies, contacts
    path("deals/<int:pk>/order/", deal_order, name="deal-order"),
]
