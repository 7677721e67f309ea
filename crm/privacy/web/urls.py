"""/settings/privacy/: subject access and erasure for admins."""

from django.urls import path

from crm.privacy.web import views

app_name = "privacy-settings"

urlpatterns = [path("", views.privacy_page, name="page")]
