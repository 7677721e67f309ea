"""Admin screens for sign-in security: the failed sign-in records (read-only, with an "Unlock" action
through crm.access.lockouts), and the users' "End all sessions" action (crm.access.sessions).
Axes' own admin is off (AXES_ENABLE_ADMIN): its deletes would lift lockouts without a change-log row."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.contrib import admin, messages

from crm.access import lockouts, sessions
from crm.access.serviceadmin import may_manage


@admin.register(AccessAttempt)
class LockoutAdmin(admin.ModelAdmin):
    """Each row: the failures of one username from one IP and browser since the last cool-off."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time", "path_info")
    search_fields = ("username", "ip_address")
    fields = ("username", "ip_address", "user_agent", "failures_since_start", "attempt_time", "path_info")
    readonly_fields = fields
    actions = ["unlock"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_unlock_permission(self, request):
        return may_manage(request)

    @admin.action(description="Unlock the selected usernames", permissions=["unlock"])
    def unlock(self, request, queryset):
        names = sorted({a.username for a in queryset if a.username})
        cleared = sum(lockouts.lockout_clear(name, actor=request.user) for name in names)
        self.message_user(request, f"Unlocked {', '.join(names) or 'nobody'} ({cleared} record(s) cleared).")


@admin.action(description="End all sessions of the selected users")
def end_sessions(modeladmin, request, queryset):
    if not may_manage(request):
        modeladmin.message_user(request, "Only admins may end other users' sessions.", messages.ERROR)
        return
    users = list(queryset)
    for user in users:
        sessions.sessions_end_all(user, actor=request.user)
    modeladmin.message_user(request, f"Ended every session of {len(users)} user(s); their API tokens stay valid.")
