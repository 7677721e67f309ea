"""Passkey pages: add and remove on the Security page, and sign in with one, either as the second step
after the password or, from the login page, instead of the password (passwordless).

Each ceremony is two POSTs, both with the CSRF token: ``.../options/`` makes a challenge (kept in the
session) and answers the options JSON for navigator.credentials (web/passkeys.js); the form then posts
the authenticator's answer. The challenge is popped from the session before it is checked, so it serves
once, right or wrong. The checks are crm.access.passkeys'.
"""

from __future__ import annotations

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from crm.access import passkeys
from crm.access.sso_views import SSO_ONLY_MESSAGE, PasswordLoginForm
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.web.views import security, signin
from crm.web.views.signin import CodeForm

REGISTER_STATE = "crm_passkey_register"
SIGN_IN_STATE = "crm_passkey_sign_in"
PASSWORD_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _json(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="application/json")


def _message(exc) -> str:
    return " ".join((exc.fields or {}).values()) or exc.message


# --- The Security page ----------------------------------------------------------------------------------


@never_cache
@login_required
@require_POST
def register_options(request):
    options, request.session[REGISTER_STATE] = passkeys.registration_options(request.user, actor=request.user)
    return _json(options)


@sensitive_post_parameters("password", "credential")
@login_required
@require_POST
def register(request):
    state = request.session.pop(REGISTER_STATE, None)
    try:
        passkey = passkeys.passkey_register(
            request.user,
            actor=request.user,
            name=request.POST.get("name", ""),
            credential=request.POST.get("credential", ""),
            state=state,
            password=request.POST.get("password", ""),
        )
    except (ValidationFailed, PermissionDenied) as exc:
        messages.error(request, f"The passkey was not added. {_message(exc)}")
    else:
        django_otp.login(request, passkey)  # this session has just shown the passkey
        messages.success(request, f"Passkey “{passkey.name}” added.")
    return redirect("web:security")


@sensitive_post_parameters("password")
@login_required
@require_POST
def remove(request, pk: int):
    try:
        passkeys.passkey_remove(
            request.user, actor=request.user, passkey_id=pk, password=request.POST.get("password", "")
        )
    except (ValidationFailed, PermissionDenied) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, "Passkey removed.")
    return redirect("web:security")


# --- Sign-in ----------------------------------------------------------------------------------------------


@never_cache
@require_POST
def sign_in_options(request):
    """After the password: the pending user's passkeys. From the login page: any passkey of this site."""
    pending = signin.pending_sign_in(request)
    if pending is None and settings.SSO_ONLY:
        return HttpResponse(SSO_ONLY_MESSAGE, status=403, content_type="text/plain")
    options, request.session[SIGN_IN_STATE] = passkeys.sign_in_options(pending[0] if pending else None)
    return _json(options)


@never_cache
@require_POST
def sign_in(request):
    state = request.session.pop(SIGN_IN_STATE, None)
    credential = request.POST.get("credential", "")
    pending = signin.pending_sign_in(request)
    if pending is not None:
        return _second_step(request, pending, credential, state)
    if settings.SSO_ONLY:
        return HttpResponse(SSO_ONLY_MESSAGE, status=403, content_type="text/plain")
    return _passwordless(request, credential, state)


def _second_step(request, pending, credential: str, state):
    user, backend, next_url = pending
    try:
        passkey = passkeys.verify_sign_in(credential, state=state, user=user)
    except ValidationFailed as exc:
        if not signin.count_wrong_second_factor(request, user):
            return redirect("web:login")
        return signin.code_page(request, CodeForm(), user, passkey_error=_message(exc))
    signin.forget_pending(request)
    return signin.finish(request, user, passkey, backend, next_url)


def _passwordless(request, credential: str, state):
    owner = passkeys.owner_of(credential)
    if owner is not None and not AxesProxyHandler.is_allowed(request, {"username": owner.get_username()}):
        return security.locked_out(request, credentials={"username": owner.get_username()})
    try:
        if owner is not None and not owner.is_active:
            raise ValidationFailed({"credential": passkeys.NOT_ACCEPTED})
        passkey = passkeys.verify_sign_in(credential, state=state)
    except ValidationFailed as exc:
        if owner is not None:  # an unknown passkey names no account to count against
            user_login_failed.send(sender=__name__, credentials={"username": owner.get_username()}, request=request)
        return _login_page(request, _message(exc))
    return signin.finish(request, passkey.user, passkey, PASSWORD_BACKEND, _next(request))


def _login_page(request, error: str):
    form = PasswordLoginForm(request)
    context = {"form": form, "next": _next(request), "passkey_error": error}
    return render(request, "web/login.html", context, status=400)


def _next(request) -> str:
    target = request.POST.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if ok else settings.LOGIN_REDIRECT_URL
