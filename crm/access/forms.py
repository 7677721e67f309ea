"""Django's password forms, saving through ``accounts.password_set`` (validators, permission check and
the change-log row in one place) instead of writing the user row themselves."""

from __future__ import annotations

import contextlib
import contextvars

from django.contrib.auth.forms import AdminPasswordChangeForm, PasswordChangeForm

from crm.access import accounts

# Who is using the admin's password screen: Django's admin builds the form without the request.
_admin_actor: contextvars.ContextVar = contextvars.ContextVar("password_admin_actor", default=None)


@contextlib.contextmanager
def acting_admin(user):
    token = _admin_actor.set(user)
    try:
        yield
    finally:
        _admin_actor.reset(token)


class OwnPasswordChangeForm(PasswordChangeForm):
    """A user's own password, after the old one was checked."""

    def save(self, commit=True):
        saved = accounts.password_set(self.user, actor=self.user, password=self.cleaned_data["new_password1"])
        self.user.password = saved.password  # the session hash is updated from this instance
        return self.user


class ServiceAdminPasswordChangeForm(AdminPasswordChangeForm):
    """An admin setting (or disabling) another user's password."""

    def save(self, commit=True):
        actor = _admin_actor.get()
        if actor is None:
            raise RuntimeError("The admin password form saves inside acting_admin(request.user).")
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        saved = accounts.password_set(self.user, actor=actor, password=password)
        self.user.password = saved.password
        return self.user
