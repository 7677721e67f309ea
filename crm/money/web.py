"""Settings → Currencies (/settings/currencies/, admins only): the enabled currencies (enable, disable),
the exchange rates newest first (filter by currency, delete), a form to set one rate and a CSV upload
(currency,date,rate). Every write goes through crm.money.services; a refusal is shown on the page."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from crm.core.errors import ServiceError
from crm.dataio import uploads
from crm.money import services
from crm.money.currencies import organization_currency
from crm.money.models import Currency, ExchangeRate
from crm.web.views.helpers import admin_page

RATES_SHOWN = 200


admins_only = admin_page(services.WHAT)  # signed in, an admin, service errors as 403/404


def _post(request) -> str:
    """Run the posted action through its service; the message to show."""
    action, post = request.POST.get("action"), request.POST
    if action in ("enable", "disable"):
        currency = services.set_enabled(post.get("code", ""), action == "enable", actor=request.user)
        return f"{currency.code} {action}d."
    if action == "set_rate":
        values = {k: post.get(k) for k in ("currency", "date", "rate")}
        rate = services.rate_set(actor=request.user, **values)
        return f"Rate set: 1 {rate.currency_id} = {rate.rate.normalize():f} {organization_currency()} on {rate.date}."
    if action == "delete_rate":
        found = ExchangeRate.objects.filter(pk=post.get("id") if str(post.get("id", "")).isdigit() else None).first()
        if found is None:
            raise ServiceError("That rate no longer exists.")
        services.rate_delete(found, actor=request.user)
        return f"Rate of {found.currency_id} on {found.date} deleted."
    if action == "import":
        upload = request.FILES.get("file")
        if upload is None:
            raise ServiceError("Choose a CSV file.")
        uploads.checked(upload, upload.file, allowed=("csv",))
        return f"{len(services.rates_import(upload.file, actor=request.user))} rates saved."
    raise ServiceError("Unknown action.")


@admins_only
@require_http_methods(["GET", "POST"])
def currencies_page(request):
    errors = []
    if request.method == "POST":
        try:
            messages.success(request, _post(request))
            return redirect(request.get_full_path())
        except ServiceError as exc:
            errors = [exc.message, *(f"{k}: {v}" for k, v in exc.fields.items() if v != exc.message)]
    shown = request.GET.get("currency", "").upper()
    rates = ExchangeRate.objects.order_by("-date", "currency_id")
    if shown:
        rates = rates.filter(currency_id=shown)
    org = organization_currency()
    enabled = list(Currency.objects.filter(enabled=True).order_by("code"))
    context = {
        "org": org,
        "enabled": enabled,
        "others": Currency.objects.filter(enabled=False).order_by("code"),
        "rate_currencies": [c for c in enabled if c.code != org],
        "rates": rates[:RATES_SHOWN],
        "shown": shown,
        "errors": errors,
        "post": request.POST if errors else {},
    }
    return render(request, "money/currencies.html", context, status=422 if errors else 200)


app_name = "money-settings"
urlpatterns = [path("", currencies_page, name="page")]
