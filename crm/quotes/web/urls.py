"""/settings/branding/: the organization's branding on quotes (admins change it; the logo for everyone signed in)."""

from django.urls import path

from crm.quotes.web import views

app_name = "branding-settings"

urlpatterns = [
    path("", views.branding_page, name="page"),
    path("logo", views.logo, name="logo"),
    path("logo/upload", views.logo_upload, name="logo-upload"),
    path("logo/remove", views.logo_remove, name="logo-remove"),
]
