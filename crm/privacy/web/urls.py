"""/settings/privacy/: subject access and erasure, and the retention policies, for admins."""

from django.urls import path

from crm.privacy.web import retention, views

app_name = "privacy-settings"

urlpatterns = [
    path("", views.privacy_page, name="page"),
    path("retention/", retention.retention_page, name="retention"),
    path("retention/<int:pk>/delete/", retention.retention_delete, name="retention-delete"),
]
