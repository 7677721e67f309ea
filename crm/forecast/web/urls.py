"""/forecast/: the forecast page and its drill-down, adjustments, quotas and settings."""

from django.urls import path

from crm.forecast.web import views

app_name = "forecast"

urlpatterns = [
    path("", views.forecast_page, name="page"),
    path("deals/", views.deals_page, name="deals"),
    path("deals/<int:pk>/category", views.deal_category, name="deal-category"),
    path("reps/<int:rep_id>/adjust/", views.adjust_page, name="adjust"),
    path("quotas/", views.quotas_page, name="quotas"),
    path("quotas/import/", views.import_page, name="import"),
    path("settings/", views.settings_page, name="settings"),
]
