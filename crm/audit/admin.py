from django.contrib import admin

from crm.audit.models import ObjectChange, ReadEvent


@admin.register(ObjectChange)
class ObjectChangeAdmin(admin.ModelAdmin):
    list_display = ("time", "user_name", "action", "object_type", "object_id", "object_repr", "source")
    list_filter = ("action", "object_type", "source")
    search_fields = ("object_repr", "user_name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the change log is append-only

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReadEvent)
class ReadEventAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted (the database refuses the last two anyway)."""

    list_display = ("time", "user_name", "action", "object_type", "object_id", "count", "source")
    list_filter = ("action", "object_type", "source")
    search_fields = ("user_name",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
