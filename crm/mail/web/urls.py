"""/mail/: compose, address completion, template filling, the outbox."""

from django.urls import path

from crm.mail.web import compose, outbox_pages

app_name = "mail"
urlpatterns = [
    path("compose/", compose.compose, name="compose"),
    path("compose/addresses/", compose.addresses, name="compose-addresses"),
    path("compose/template/", compose.fill_template, name="compose-template"),
    path("outbox/", outbox_pages.outbox_page, name="outbox"),
    path("outbox/<int:pk>/retry/", outbox_pages.retry, name="retry"),
    path("outbox/send-waiting/", outbox_pages.send_waiting, name="send-waiting"),
]
