"""/settings/email-templates/: every signed-in user's templates (personal and shared)."""

from django.urls import path

from crm.mail.web import template_pages

app_name = "mail-templates"
urlpatterns = [
    path("", template_pages.template_list, name="list"),
    path("new/", template_pages.template_new, name="new"),
    path("<int:pk>/", template_pages.template_edit, name="edit"),
    path("<int:pk>/delete/", template_pages.template_delete, name="delete"),
]
