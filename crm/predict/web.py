"""Settings → Win probability (/settings/predict/): each model's evaluation (deals: beside the stage
probability; leads: beside the source's conversion rate): AUC, Brier, a calibration chart, date
trained, rows used, whether it is in use and why, and "Retrain now" (enqueues the ``predict.train``
job, which trains both). Admins and managers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from crm.predict import access, jobs, status
from crm.web.views.helpers import page_errors

app_name = "predict-settings"


@login_required
@page_errors
@require_http_methods(["GET"])
def settings_page(request):
    access.require_manager(request.user)
    jobs.install_schedules()
    kinds = {}
    for kind in ("deal", "lead"):
        summary = status.summary(kind)
        kinds[kind] = {"s": summary, "chart": status.chart(summary)}
    return render(request, "predict/settings.html", kinds)


@login_required
@page_errors
@require_http_methods(["POST"])
def retrain(request):
    job = jobs.retrain_now(request.user)
    if job is None:
        messages.info(request, "A retraining run is already waiting for the worker.")
    else:
        messages.success(
            request, "Retraining queued: the worker trains both models and scores every open deal and lead."
        )
    return redirect("predict-settings:page")


urlpatterns = [path("", settings_page, name="page"), path("retrain/", retrain, name="retrain")]
