from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from crm.access.forms import OwnPasswordChangeForm
from crm.core.headers import clear_site_data
from crm.web.views import (
    board,
    bulk,
    calendar,
    calendar_feed,
    home,
    inline,
    leads,
    lists,
    my_tasks,
    notifications,
    pwa,
    records,
    search,
    signin,
    tasks,
    timeline,
    two_factor,
    vcards,
)
from crm.web.views import duplicates as duplicate_views
from crm.web.views import imports as import_views
from crm.web.views import passkeys as passkey_views
from crm.web.views import security as security_views


class KindConverter:
    """Any slug a record type may take (declared or custom: crm/objects' SLUG_PATTERN); the view 404s
    a slug the registry does not know. The fixed routes come first, so /search/ stays the search."""

    regex = "[a-z][a-z0-9_-]*"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(KindConverter, "kind")

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("login/", signin.SignInView.as_view(), name="login"),
    path("login/code/", signin.login_code, name="login-code"),
    path("login/passkey/options/", passkey_views.sign_in_options, name="passkey-sign-in-options"),
    path("login/passkey/", passkey_views.sign_in, name="passkey-sign-in"),
    path("account/two-factor/", two_factor.two_factor, name="two-factor"),
    path("logout/", clear_site_data(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            form_class=OwnPasswordChangeForm, template_name="web/password.html", success_url="/password/done/"
        ),
        name="password-change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="web/password_done.html"),
        name="password-done",
    ),
    path("account/security/", security_views.security_page, name="security"),
    path("account/security/sign-out-everywhere/", security_views.sign_out_everywhere, name="sign-out-everywhere"),
    path("account/security/passkeys/options/", passkey_views.register_options, name="passkey-options"),
    path("account/security/passkeys/", passkey_views.register, name="passkey-add"),
    path("account/security/passkeys/<int:pk>/remove/", passkey_views.remove, name="passkey-remove"),
    path("search/", search.search_page, name="search"),
    path("pick/<str:object_type>/", search.pick, name="pick"),
    path("board/", board.board, name="board"),
    path("board/column/<int:stage_id>/", board.board_column, name="board-column"),
    path("deals/<int:pk>/move/", board.deal_move, name="deal-move"),
    path("leads/<int:pk>/convert/", leads.convert, name="lead-convert"),
    path("tasks/<int:pk>/complete/", tasks.complete, name="task-complete"),
    path("tasks/mine/", my_tasks.my_tasks_page, name="my-tasks"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("calendar/move/", calendar.reschedule, name="calendar-move"),
    path("calendar/feed/", calendar_feed.settings_page, name="calendar-feed-settings"),
    path("calendar/feed/new/", calendar_feed.create, name="calendar-feed-create"),
    path("calendar/feed/revoke/", calendar_feed.revoke, name="calendar-feed-revoke"),
    path("calendar/feed/<str:token>.ics", calendar_feed.feed, name="calendar-feed"),
    path("calendar/meetings/<int:pk>/invite/", calendar_feed.invite, name="calendar-invite"),
    path("tasks/<int:pk>/snooze/", my_tasks.snooze, name="task-snooze"),
    path("tasks/<int:pk>/reschedule/", my_tasks.reschedule, name="task-reschedule"),
    path("views/<int:pk>/delete/", bulk.delete_view, name="view-delete"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/bell/", notifications.bell, name="notifications-bell"),
    path("notifications/read/", notifications.mark_all_read, name="notifications-read-all"),
    path("notifications/<int:pk>/read/", notifications.mark_one_read, name="notification-read"),
    path("imports/", import_views.batch_list, name="imports"),
    path("imports/<int:pk>/", import_views.batch_detail, name="import-batch"),
    path("imports/<int:pk>/status/", import_views.batch_status, name="import-status"),
    path("imports/<int:pk>/errors.csv", import_views.batch_errors, name="import-errors"),
    path("imports/<int:pk>/undo/", import_views.undo, name="import-undo"),
    path("imports/wizard/<str:token>/map/", import_views.map_columns, name="import-map"),
    path("imports/wizard/<str:token>/preview/", import_views.preview, name="import-preview"),
    path("imports/wizard/<str:token>/start/", import_views.start, name="import-start"),
    path("imports/<str:object_type>/new/", import_views.upload, name="import-upload"),
    path("duplicates/<str:object_type>/", duplicate_views.pair_list, name="duplicates"),
    path("duplicates/<str:object_type>/merge/<int:a>/<int:b>/", duplicate_views.merge_pair, name="merge"),
    path("contacts/<int:pk>/vcard/", vcards.contact_vcard, name="contact-vcard"),
    path("<kind:kind_slug>/", lists.record_list, name="record-list"),
    path("<kind:kind_slug>/new/", records.record_create, name="record-create"),
    path("<kind:kind_slug>/bulk/", bulk.bulk, name="bulk"),
    path("<kind:kind_slug>/export/", bulk.export, name="export"),
    path("<kind:kind_slug>/views/", bulk.save_view, name="view-save"),
    path("<kind:kind_slug>/columns/", lists.choose_columns, name="list-columns"),
    path("<kind:kind_slug>/widths/", lists.keep_widths, name="list-widths"),
    path("<kind:kind_slug>/<int:pk>/", records.record_detail, name="record-detail"),
    path("<kind:kind_slug>/<int:pk>/edit/", records.record_edit, name="record-edit"),
    path("<kind:kind_slug>/<int:pk>/delete/", records.record_delete, name="record-delete"),
    path("<kind:kind_slug>/<int:pk>/timeline/", timeline.timeline_part, name="timeline"),
    path("<kind:kind_slug>/<int:pk>/quick/<str:what>/", timeline.quick_add, name="quick-add"),
    path("<kind:kind_slug>/<int:pk>/inline/<str:unit>/", inline.inline_edit, name="inline-edit"),
]
