from django.urls import path

from crm.ops import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("healthz/ping", views.ping, name="healthz-ping"),
]
