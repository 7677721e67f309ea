"""Lead conversion: choose or create the contact and company, optionally open a deal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm.core.errors import ServiceError
from crm.records.models import Company, Contact, Lead
from crm.records.selectors import get_for
from crm.records.services.common import get_visible
from crm.records.services.conversion import lead_convert
from crm.web.forms.quick import ConvertForm
from crm.web.views.helpers import page_errors


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def convert(request, pk: int):
    lead = get_for(Lead, request.user, pk, "change")
    if lead.converted_at:
        messages.info(request, "This lead is already converted.")
        return redirect("web:record-detail", "leads", lead.pk)
    if request.method == "POST":
        form = ConvertForm(request.POST, user=request.user)
        if form.is_valid():
            c = form.cleaned_data
            try:
                result = lead_convert(
                    lead,
                    actor=request.user,
                    contact=get_visible(Contact, request.user, c["contact"]) if c["contact"] else None,
                    company=get_visible(Company, request.user, c["company"]) if c["company"] else None,
                    create_company=c["create_company"],
                    deal=form.deal_data(),
                )
            except ServiceError as exc:
                for key, message in (exc.fields or {"": exc.message}).items():
                    name = {"deal.name": "deal_name"}.get(key, key if key in form.fields else None)
                    form.add_error(name, message)
            else:
                messages.success(request, _summary(result))
                return redirect("web:record-detail", "contacts", result["contact"].pk)
    else:
        form = ConvertForm(user=request.user, initial={"deal_name": _deal_name(lead)})
    return render(request, "web/convert.html", {"lead": lead, "form": form})


def _deal_name(lead: Lead) -> str:
    return f"{lead.company_name or lead.name} deal".strip()


def _summary(result: dict) -> str:
    parts = [f"contact “{result['contact']}”"]
    if result["company"]:
        parts.append(f"company “{result['company']}”")
    if result["deal"]:
        parts.append(f"deal “{result['deal']}”")
    return "Lead converted: " + ", ".join(parts) + "."
