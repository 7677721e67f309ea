"""/mail/: compose, address completion, template filling, the outbox."""

from django.urls import path, re_path

from crm.mail.web import compose, conversations, meeting_pages, outbox_pages, settings_pages, tracking_pages

app_name = "mail"
urlpatterns = [
    path("compose/", compose.compose, name="compose"),
    path("compose/addresses/", compose.addresses, name="compose-addresses"),
    path("compose/template/", compose.fill_template, name="compose-template"),
    path("outbox/", outbox_pages.outbox_page, name="outbox"),
    path("outbox/<int:pk>/retry/", outbox_pages.retry, name="retry"),
    path("outbox/send-waiting/", outbox_pages.send_waiting, name="send-waiting"),
    path("tracking/", tracking_pages.preference_page, name="tracking"),
    path("settings/", settings_pages.settings_page, name="settings"),
    path("meetings/<int:pk>/", meeting_pages.meeting_page, name="meeting"),
    path("meetings/people/", meeting_pages.people, name="meeting-people"),
    path("conversations/<slug:kind_slug>/<int:pk>/", conversations.section, name="conversations"),
    path("conversations/<slug:kind_slug>/<int:pk>/threads/<int:thread_id>/", conversations.thread, name="thread"),
    # No login: the open pixel and tracked links of sent mail (crm/mail/tracking.py).
    re_path(r"^t/o/(?P<token>[A-Za-z0-9_-]{1,64})\.gif$", tracking_pages.open_pixel, name="track-open"),
    re_path(r"^t/c/(?P<value>[A-Za-z0-9_\-:.]{1,4000})/$", tracking_pages.click, name="track-click"),
]
