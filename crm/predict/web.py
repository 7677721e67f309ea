"""Settings → Win probability (/settings/predict/): the model's evaluation beside the stage probability
(AUC, Brier, a calibration chart, date trained, rows used), whether it is in use and why, and
"Retrain now" (enqueues the ``predict.train`` job). Admins and managers."""

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
    summary = status.summary()
    return render(request, "predict/settings.html", {"s": summary, "chart": status.chart(summary)})


@login_required
@page_errors
@require_http_methods(["POST"])
def retrain(request):
    job = jobs.retrain_now(request.user)
    if job is None:
        messages.info(request, "A retraining run is already waiting for the worker.")
    else:
        messages.success(request, "Retraining queued: the worker trains the model and scores every open deal.")
    return redirect("predict-settings:page")


urlpatterns = [path("", settings_page, name="page"), path("retrain/", retrain, name="retrain")]
