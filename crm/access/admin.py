from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.template.response import TemplateResponse
from django.urls import reverse
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.access import accounts, services, tokens, twofactor
from crm.access.forms import ServiceAdminPasswordChangeForm, acting_admin
from crm.access.models import ApiToken, Profile, Role, Team
from crm.access.serviceadmin import AdminOnly, CheckedForm, ServiceAdmin, adopt
from crm.access.signinadmin import end_sessions
from crm.access.sso_views import AdminPasswordLoginForm


class RoleForm(CheckedForm):
    check = staticmethod(services.check)

    class Meta:
        model = Role
        fields = services.FIELDS


@admin.register(Role)
class RoleAdmin(ServiceAdmin):
    form = RoleForm
    list_display = ("name", "slug", "scope", "is_admin", "requires_two_factor")
    prepopulated_fields = {"slug": ("name",)}
    service_fields = services.FIELDS

    def create(self, actor, data):
        return services.role_create(actor=actor, data=data)

    def update(self, obj, actor, data):
        return services.role_update(obj, actor=actor, data=data)

    def delete(self, obj, actor):
        services.role_delete(obj, actor=actor)


@admin.register(Team)
class TeamAdmin(ServiceAdmin):
    list_display = ("name", "manager")
    fields = services.TEAM_FIELDS
    service_fields = services.TEAM_FIELDS

    def create(self, actor, data):
        return services.team_create(actor=actor, data=data)

    def update(self, obj, actor, data):
        return services.team_update(obj, actor=actor, data=data)

    def delete(self, obj, actor):
        services.team_delete(obj, actor=actor)


class ProfileFields(forms.Form):
    """The profile's fields on the user's own form, so one save (and one change-log row) covers both."""

    role = forms.ModelChoiceField(Role.objects.all(), required=False)
    team = forms.ModelChoiceField(Team.objects.all(), required=False)
    time_zone = forms.CharField(max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        profile = Profile.objects.filter(user_id=self.instance.pk).first() if self.instance.pk else None
        for name in accounts.PROFILE_FIELDS:
            self.fields[name].initial = getattr(profile, name, None)


class UserWithProfileForm(ProfileFields, UserChangeForm):
    pass


class NewUserWithProfileForm(ProfileFields, AdminUserCreationForm):
    pass


admin.site.unregister(User)
# SSO_ONLY closes the admin's password form too (crm/access/sso_views.py).
admin.site.login_form = AdminPasswordLoginForm
PROFILE_FIELDSET = ("CRM", {"fields": accounts.PROFILE_FIELDS})


@admin.register(User)
class CrmUserAdmin(AdminOnly, UserAdmin):
    """Saves, deletes and password changes through crm.access.accounts."""

    form = UserWithProfileForm
    change_password_form = ServiceAdminPasswordChangeForm
    add_form = NewUserWithProfileForm
    fieldsets = (*UserAdmin.fieldsets, PROFILE_FIELDSET)
    add_fieldsets = (*UserAdmin.add_fieldsets, PROFILE_FIELDSET)
    list_display = ("username", "email", "first_name", "last_name", "is_active", "role")
    list_select_related = ("profile__role",)
    actions = (end_sessions, "reset_two_factor")

    @admin.action(description="Reset two-factor sign-in of the selected users", permissions=("change",))
    def reset_two_factor(self, request, queryset):
        """A lost phone: the devices and recovery codes go (crm.access.twofactor, logged per user)."""
        done = [user.username for user in queryset if twofactor.two_factor_reset(user, actor=request.user)]
        message = f"Two-factor sign-in reset for {', '.join(done)}." if done else "None of them had it on."
        self.message_user(request, message, messages.SUCCESS if done else messages.INFO)

    @admin.display(description="Role")
    def role(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.role if profile else None

    def save_model(self, request, obj, form, change):
        names = (*accounts.FIELDS, *accounts.PROFILE_FIELDS, *accounts.ACCESS_FIELDS)
        data = {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}
        if change:
            saved = accounts.user_update(obj, actor=request.user, data=data)
        else:
            usable = form.cleaned_data.get("set_usable_password", True)
            data["password"] = form.cleaned_data.get("password1") if usable else None
            saved = accounts.user_create(actor=request.user, data=data)
        adopt(obj, saved)

    def user_change_password(self, request, id, form_url=""):
        with acting_admin(request.user):
            return super().user_change_password(request, id, form_url)

    def save_related(self, request, form, formsets, change):
        pass  # groups and permissions were set by the service; there are no inlines

    def delete_model(self, request, obj):
        accounts.user_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            accounts.user_delete(obj, actor=request.user)


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceAdmin):
    """Issued here or with `crm token create`; the raw token is shown once, on the page after the save."""

    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "expires_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")
    service_fields = tokens.FIELDS

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", *tokens.FIELDS)
        return ("user", "prefix", *tokens.FIELDS, "created_at", "last_used_at")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else ("user", *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = {name: form.cleaned_data.get(name) for name in tokens.FIELDS}
        saved, request.issued_token = tokens.token_issue(actor=request.user, user=form.cleaned_data["user"], **data)
        adopt(obj, saved)

    def response_add(self, request, obj, post_url_continue=None):
        """The raw token goes into this one response only (never into a message cookie or the session)."""
        context = {**self.admin_site.each_context(request), "token": obj, "raw": request.issued_token}
        context |= {"opts": self.opts, "title": "API token issued"}
        return TemplateResponse(request, "admin/access/apitoken/issued.html", context)

    def update(self, obj, actor, data):
        return tokens.token_update(obj, actor=actor, data=data)

    def delete(self, obj, actor):
        tokens.token_revoke(obj, actor=actor)


# django-otp's own screen would add, edit (its key included) and delete devices outside the services,
# and show the secret as a QR code: devices are listed here, read-only; the user action resets them.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class ReadOnlyTOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = TOTPDeviceAdmin.search_fields
    fields = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _sign_in_through_two_factor(request, extra_context=None):
    """The admin's own login form would skip the code step: its login page is ours."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


admin.site.login = _sign_in_through_two_factor
