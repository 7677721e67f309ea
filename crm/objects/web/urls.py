"""/settings/objects/: the object-type settings pages (included before the web app's own routes)."""

from django.urls import path

from crm.objects.web import fields, views

app_name = "object-settings"

urlpatterns = [
    path("", views.type_list, name="types"),
    path("new/", views.type_create, name="type-create"),
    path("<str:key>/", views.type_edit, name="type"),
    path("<str:key>/archive/", views.type_archive, name="type-archive"),
    path("<str:key>/delete/", views.type_delete, name="type-delete"),
    path("<str:key>/fields/new/", fields.field_create, name="field-create"),
    path("<str:key>/fields/<int:pk>/", fields.field_edit, name="field"),
    path("<str:key>/fields/<int:pk>/move/", fields.field_move, name="field-move"),
    path("<str:key>/fields/<int:pk>/delete/", fields.field_delete, name="field-delete"),
]
