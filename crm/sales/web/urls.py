"""/analytics/: the sales dashboard and the deals behind each of its figures."""

from django.urls import path

from crm.sales.web import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="page"),
    path("deals/", views.deals_page, name="deals"),
    path("activities/", views.activities_page, name="activities"),
]
