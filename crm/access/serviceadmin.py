"""Admin screens whose saves and deletes go through the services: an admin's change is checked and
lands in the change log like any other write, with the admin user as its actor (source ``admin``)."""

from __future__ import annotations

import copy

from django import forms
from django.contrib import admin

from crm.access.policy import policy_for
from crm.core.errors import ValidationFailed


def may_manage(request) -> bool:
    return policy_for(request.user).is_admin


class AdminOnly:
    """Adding, changing and deleting also need a CRM admin (the services refuse anyone else), so a staff
    user holding only Django's model permissions is not shown a form whose save would fail; viewing
    stays as Django grants it."""

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and may_manage(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_manage(request)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and may_manage(request)


class CheckedForm(forms.ModelForm):
    """Runs the service's own ``check`` on the form's values, so a value the service would refuse is a
    message on its field rather than an error page at save time."""

    check = staticmethod(lambda obj: None)

    def clean(self):
        data = super().clean()
        if not self.errors:
            candidate = copy.copy(self.instance)  # the check may normalize values: never on the real one
            for name, value in data.items():
                setattr(candidate, name, value)
            try:
                self.check(candidate)
            except ValidationFailed as exc:
                for key, message in (exc.fields or {"__all__": exc.message}).items():
                    self.add_error(key if key in self.fields else None, message)
        return data


def adopt(obj, saved) -> None:
    """Copy the saved row onto the admin's own object: its messages, history, inlines and redirect
    read that one."""
    for f in saved._meta.concrete_fields:
        setattr(obj, f.attname, getattr(saved, f.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


class ServiceAdmin(AdminOnly, admin.ModelAdmin):
    """A subclass names the fields its service takes and the service's create, update and delete."""

    service_fields: tuple[str, ...] = ()

    def create(self, actor, data: dict):
        raise NotImplementedError

    def update(self, obj, actor, data: dict):
        raise NotImplementedError

    def delete(self, obj, actor) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.service_fields if name in form.cleaned_data}
        saved = self.update(obj, request.user, data) if change else self.create(request.user, data)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        self.delete(obj, request.user)

    def delete_queryset(self, request, queryset):  # "Delete selected": each through the service
        for obj in queryset:
            self.delete(obj, request.user)
