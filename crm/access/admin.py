from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from crm.access import services
from crm.access.models import ApiToken, Profile, Role, Team
from crm.access.serviceadmin import CheckedForm, ServiceAdmin


class RoleForm(CheckedForm):
    check = staticmethod(services.check)

    class Meta:
        model = Role
        fields = services.FIELDS


@admin.register(Role)
class RoleAdmin(ServiceAdmin):
    form = RoleForm
    list_display = ("name", "slug", "scope", "is_admin")
    prepopulated_fields = {"slug": ("name",)}
    service_fields = services.FIELDS

    def create(self, actor, data):
        return services.role_create(actor=actor, data=data)

    def update(self, obj, actor, data):
        return services.role_update(obj, actor=actor, data=data)

    def delete(self, obj, actor):
        services.role_delete(obj, actor=actor)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager")


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


admin.site.unregister(User)


@admin.register(User)
class CrmUserAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ("username", "email", "first_name", "last_name", "is_active", "role")
    list_select_related = ("profile__role",)

    @admin.display(description="Role")
    def role(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.role if profile else None


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "expires_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    exclude = ()

    def has_add_permission(self, request):
        return False  # tokens are created with `crm token create`, which shows the raw token once
