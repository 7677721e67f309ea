"""Settings → Quotes (/settings/quotes/): per pipeline, whether a customer's acceptance of a quote moves
its deal to the pipeline's won stage. Admins and managers; each change through
acceptance.pipeline_settings_set (checked and logged there)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from crm.core.errors import ServiceError
from crm.quotes.services import acceptance
from crm.web.views.helpers import page_errors

app_name = "quote-settings"


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def settings_page(request):
    acceptance.require_settings_right(request.user)  # 403 for everyone else, before anything is shown
    error = ""
    if request.method == "POST":
        chosen = {int(v) for v in request.POST.getlist("win") if v.isdigit()}
        try:
            with transaction.atomic():  # all pipelines or none
                for pipeline, current in acceptance.pipelines_with_settings():
                    wanted = pipeline.pk in chosen
                    if wanted != current:
                        acceptance.pipeline_settings_set(pipeline, actor=request.user, win_deal_on_accept=wanted)
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, "Quote settings saved.")
            return redirect("quote-settings:page")
    context = {"pipelines": acceptance.pipelines_with_settings(), "error": error}
    return render(request, "quotes/settings.html", context, status=422 if error else 200)


urlpatterns = [path("", settings_page, name="page")]
