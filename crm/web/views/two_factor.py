"""The user's own two-factor page: set up (QR code, secret, first code), then new recovery codes or
turning it off. The writes are crm.access.twofactor's; recovery codes appear in one response only."""

from __future__ import annotations

import base64
import io
from base64 import b32encode

import django_otp
import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from crm.access import twofactor
from crm.core.errors import PermissionDenied, ValidationFailed


class ConfirmForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class DisableForm(forms.Form):
    password = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(
        label="Code from the app, or a recovery code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


ACTIONS = {"confirm": ConfirmForm, "regenerate": ConfirmForm, "disable": DisableForm}


@sensitive_post_parameters("code", "password")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    user = request.user
    action = request.POST.get("action") if request.method == "POST" else None
    form = ACTIONS[action](request.POST, prefix=action) if action in ACTIONS else None
    if form is not None and form.is_valid():
        try:
            return _act(request, action, form.cleaned_data)
        except (ValidationFailed, PermissionDenied) as exc:
            for key, message in (exc.fields or {None: exc.message}).items():
                form.add_error(key if key in form.fields else None, message)
    if not twofactor.is_enabled(user):
        return _setup_page(request, form if action == "confirm" else None, status=422 if form is not None else 200)
    context = {
        "enabled": True,
        "required": twofactor.is_required(user),
        "codes_left": twofactor.recovery_codes_left(user),
        "regenerate_form": form if action == "regenerate" else ConfirmForm(prefix="regenerate"),
        "disable_form": form if action == "disable" else DisableForm(prefix="disable"),
    }
    return render(request, "web/two_factor.html", context, status=422 if form is not None else 200)


def _act(request, action: str, data: dict):
    user = request.user
    if action == "confirm":
        device, codes = twofactor.enrolment_confirm(user, actor=user, code=data["code"])
        django_otp.login(request, device)  # this session has just shown a second factor
        return _codes_page(request, codes, "Two-factor sign-in is on.")
    if action == "regenerate":
        codes = twofactor.recovery_codes_regenerate(user, actor=user, code=data["code"])
        return _codes_page(request, codes, "New recovery codes: the old ones no longer work.")
    twofactor.two_factor_disable(user, actor=user, password=data["password"], code=data["code"])
    messages.success(request, "Two-factor sign-in is off.")
    return redirect("web:two-factor")


def _codes_page(request, codes: list[str], title: str):
    return render(request, "web/two_factor_codes.html", {"codes": codes, "title": title})


def _setup_page(request, form, status: int):
    device = twofactor.enrolment_start(request.user, actor=request.user)
    context = {
        "enabled": False,
        "required": twofactor.is_required(request.user),
        "qr_data_uri": qr_data_uri(device.config_url),
        "secret": _grouped(b32encode(device.bin_key).decode().rstrip("=")),
        "confirm_form": form or ConfirmForm(prefix="confirm"),
    }
    return render(request, "web/two_factor.html", context, status=status)


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI for an <img> (the CSP allows data: images, no inline script)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
