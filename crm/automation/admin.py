"""Admin screens for automation: rules (validated like the API), their runs, webhooks and web forms.

Only automation admins (the same test the API makes: policy_for(user).is_admin) see these screens,
so a staff user without the admin role cannot reach a service that would refuse them.
"""

from __future__ import annotations

import copy
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from crm.access.policy import policy_for
from crm.automation import conditions, engine, rules, triggers, webforms, webhooks
from crm.automation.models import Rule, RuleRun, WebForm, WebhookDelivery, WebhookSubscription
from crm.core.errors import ServiceError, ValidationFailed


def _is_automation_admin(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and policy_for(user).is_admin)


class AutomationAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return _is_automation_admin(request)

    def has_view_permission(self, request, obj=None):
        return _is_automation_admin(request)

    def has_add_permission(self, request):
        return _is_automation_admin(request)

    def has_change_permission(self, request, obj=None):
        return _is_automation_admin(request)

    def has_delete_permission(self, request, obj=None):
        return _is_automation_admin(request)


class ReadOnlyAdmin(AutomationAdmin):
    """Logs are written by the engine and the webhook sender, never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _add_service_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Put each error of the service (keys like "actions.0.title", "owner_id") on the form field it belongs to."""
    for key, message in (exc.fields or {"__all__": exc.message}).items():
        field = str(key).split(".")[0]
        field = field.removesuffix("_id") if field.removesuffix("_id") in form.fields else field
        if field in form.fields:
            form.add_error(field, f"{key}: {message}" if key != field else message)
        else:
            form.add_error(None, f"{key}: {message}")


def _copy_saved(obj, saved) -> None:
    """The admin goes on with its own object (redirect, history, messages): give it what the service saved."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))


# --- rules -----------------------------------------------------------------------------------------

JSON_SHAPES = {"trigger": (dict, "a JSON object"), "conditions": (dict, "a JSON object"), "actions": (list, "a list")}


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = rules.FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = list(conditions.models_by_type())
        self.fields["object_type"] = forms.ChoiceField(choices=[(t, t) for t in types])
        self.fields["trigger_type"] = forms.ChoiceField(choices=[(t, t) for t in triggers.TRIGGER_TYPES])

    def clean(self):
        data = super().clean()
        for name, (kind, label) in JSON_SHAPES.items():
            if name in self.errors:
                continue
            value = data.get(name)
            if value is None:
                value = data[name] = kind()
            if not isinstance(value, kind):
                self.add_error(name, f"Must be {label}.")
        if self.errors:
            return data
        # The same checks as POST/PATCH /automation/rules, on a copy so a refused rule changes nothing.
        candidate = Rule(**{name: data.get(name) for name in rules.FIELDS})
        try:
            rules._validate(candidate)
        except ValidationFailed as exc:
            _add_service_errors(self, exc)
        return data


class TestForm(forms.Form):
    object_id = forms.IntegerField(min_value=1, label="Record id")
    changes = forms.JSONField(required=False, help_text='Optional: as if these fields changed, e.g. {"status": "won"}.')


@admin.register(Rule)
class RuleAdmin(AutomationAdmin):
    form = RuleForm
    list_display = ("name", "enabled", "trigger_type", "object_type", "updated_at", "runs_link", "test_link")
    list_filter = ("enabled", "trigger_type", "object_type")
    search_fields = ("name", "description")
    readonly_fields = ("owner", "created_at", "updated_at", "runs_link", "test_link")
    actions = ("enable", "disable")

    def save_model(self, request, obj, form, change):
        # Through the service, which keeps the schedule of recurring rules in step with the rule.
        data = {name: form.cleaned_data.get(name) for name in rules.FIELDS}
        if change:
            saved = rules.rule_update(obj, actor=request.user, data=data)
        else:
            saved = rules.rule_create(actor=request.user, data=data)
        obj.pk, obj.owner_id, obj.updated_at = saved.pk, saved.owner_id, saved.updated_at

    def delete_model(self, request, obj):
        rules.rule_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            rules.rule_delete(rule, actor=request.user)

    @admin.action(description="Enable the selected rules")
    def enable(self, request, queryset):
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable the selected rules")
    def disable(self, request, queryset):
        self._set_enabled(request, queryset, False)

    def _set_enabled(self, request, queryset, enabled: bool) -> None:
        for rule in queryset:
            rules.rule_update(rule, actor=request.user, data={"enabled": enabled})
        self.message_user(request, f"{queryset.count()} rule(s) {'enabled' if enabled else 'disabled'}.")

    @admin.display(description="Runs")
    def runs_link(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:automation_rulerun_changelist") + f"?rule__id__exact={obj.pk}"
        return format_html('<a href="{}">History</a>', url)

    @admin.display(description="Test")
    def test_link(self, obj):
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}">Test on a record…</a>', reverse("admin:automation_rule_test", args=[obj.pk]))

    def get_urls(self):
        test = path("<int:pk>/test/", self.admin_site.admin_view(self.test_view), name="automation_rule_test")
        return [test, *super().get_urls()]

    def test_view(self, request, pk: int):
        """Test mode, as POST /automation/rules/{id}/test: what the rule would do, with nothing kept."""
        if not _is_automation_admin(request):
            raise DjangoPermissionDenied
        rule = self.get_object(request, str(pk))
        if rule is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(pk))
        form = TestForm(request.POST or None)
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                result = engine.dry_run(rule, form.cleaned_data["object_id"], changes=form.cleaned_data["changes"])
                report = json.dumps(result, indent=2, default=str)
            except ServiceError as exc:
                form.add_error("object_id", exc.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": rule,
            "title": f"Test “{rule}” on a {rule.object_type}",
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/automation/rule/test.html", context)


@admin.register(RuleRun)
class RuleRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "rule", "status", "trigger", "object_type", "object_id", "attempts", "finished_at")
    list_filter = ("status", "rule", "object_type")
    list_select_related = ("rule",)
    date_hierarchy = "started_at"
    ordering = ("-started_at", "-id")


# --- webhooks --------------------------------------------------------------------------------------


class WebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "event_types", "object_types", "enabled", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].empty_label = "All fields (admin feed)"

    def clean(self):
        data = super().clean()
        for name in ("event_types", "object_types"):
            if name in self.errors:
                continue
            value = data.get(name)
            if value is None:
                value = data[name] = []
            if not isinstance(value, list):
                self.add_error(name, "Must be a list.")
        if self.errors:
            return data
        try:
            webhooks.validate_subscription(dict(data))
        except ValidationFailed as exc:
            _add_service_errors(self, exc)
        return data


def _webhook_data(form, names) -> dict:
    """The service's data from the form's ``names``: the role chosen goes as ``role_id``."""
    data = {name: form.cleaned_data.get(name) for name in names if name in webhooks.FIELDS}
    if "role" in names:
        role = form.cleaned_data.get("role")
        data["role_id"] = role.pk if role else None
    return data


@admin.register(WebhookSubscription)
class WebhookAdmin(AutomationAdmin):
    form = WebhookForm
    list_display = ("name", "url", "enabled", "role", "consecutive_failures", "disabled_reason", "deliveries_link")
    list_filter = ("enabled",)
    readonly_fields = ("consecutive_failures", "disabled_reason", "created_by", "created_at", "deliveries_link")

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj):
        if obj.pk is None:
            return "—"
        url = reverse("admin:automation_webhookdelivery_changelist") + f"?subscription__id__exact={obj.pk}"
        return format_html('<a href="{}">Delivery log</a>', url)

    def save_model(self, request, obj, form, change):
        # Through the service, as the API: the admin check, its validation and the change log. An
        # update sends only what changed, so re-enabling (and only that) restarts the failure count.
        if change:
            saved = webhooks.webhook_update(obj, actor=request.user, data=_webhook_data(form, form.changed_data))
        else:
            saved = webhooks.webhook_create(actor=request.user, data=_webhook_data(form, form.fields))
        _copy_saved(obj, saved)
        if not change:
            # The signing secret is shown this once, as the API does; the forms never show it.
            self.message_user(request, f"Signing secret for “{obj}”: {obj.secret} — copy it now.", messages.WARNING)

    def delete_model(self, request, obj):
        webhooks.webhook_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for sub in queryset:
            webhooks.webhook_delete(sub, actor=request.user)


@admin.register(WebhookDelivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "subscription", "event_type", "status", "attempts", "response_status")
    list_filter = ("status", "subscription", "event_type")
    list_select_related = ("subscription",)
    ordering = ("-created_at", "-id")


# --- web-to-lead forms -----------------------------------------------------------------------------


def _webform_data(cleaned: dict, names) -> dict:
    """The service's data from the admin form's values: the related users and teams as ids."""
    data = {}
    for name in names:
        value = cleaned.get(name)
        if name in ("owner", "assign_team"):
            data[f"{name}_id"] = value.pk if value is not None else None
        elif name in webforms.FIELDS:
            data[name] = value
    return data


class WebFormForm(forms.ModelForm):
    class Meta:
        model = WebForm
        fields = ("slug", "name", "enabled", "owner", "assign_team", "lead_source", "success_message")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        # The same checks as the service (an inactive owner, say), on a copy so a refused form changes nothing.
        names = self.changed_data if self.instance.pk else self.Meta.fields
        try:
            webforms.assign(copy.copy(self.instance), _webform_data(data, names))
        except ValidationFailed as exc:
            _add_service_errors(self, exc)
        return data


@admin.register(WebForm)
class WebFormAdmin(AutomationAdmin):
    form = WebFormForm
    list_display = ("name", "slug", "enabled", "owner", "assign_team", "lead_source", "embed_link")
    list_filter = ("enabled",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at",)

    def save_model(self, request, obj, form, change):
        # Through the service, as the API: the admin check, its validation and the change log.
        data = _webform_data(form.cleaned_data, form.changed_data if change else form.Meta.fields)
        if change:
            saved = webforms.webform_update(obj, actor=request.user, data=data)
        else:
            saved = webforms.webform_create(actor=request.user, data=data)
        _copy_saved(obj, saved)

    def delete_model(self, request, obj):
        webforms.webform_delete(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for web_form in queryset:
            webforms.webform_delete(web_form, actor=request.user)

    @admin.display(description="Embed")
    def embed_link(self, obj):
        return format_html('<a href="/api/v1/automation/forms/{}/embed">Form page</a>', obj.slug)
