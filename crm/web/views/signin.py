"""Sign-in in two steps: the password (Django's form, so ``authenticate()`` and its failure signal run
as before), then, for a user with two-factor sign-in on, a code from their app or a recovery code.

Between the steps nobody is signed in: the session holds only the pending user's id, signed and good
for TWO_FACTOR_PENDING_SECONDS. A wrong code sends ``user_login_failed`` like a wrong password, so
sign-in throttling counts both. "Remember this device" leaves a signed cookie bound to the user and
their device's key that skips the code step for TWO_FACTOR_REMEMBER_DAYS. The second step also takes a
passkey (crm/web/views/passkeys.py), counted the same way when it fails.
"""

from __future__ import annotations

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from crm.access import passkeys, twofactor
from crm.access.sso_views import PasswordLoginForm
from crm.core.errors import ValidationFailed

PENDING_KEY = "crm_two_factor_pending"
PENDING_SALT = "crm.web.signin.pending"
REMEMBER_COOKIE = "crm_two_factor_remember"  # its name is remember_cookie(): __Host- when Secure
REMEMBER_SALT = "crm.web.signin.remember"
MAX_CODE_TRIES = 5  # then back to the password step (where the lockout counts apply)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.",
    )
    remember = forms.BooleanField(required=False)


class SignInView(LoginView):
    template_name = "web/login.html"
    authentication_form = PasswordLoginForm  # refuses passwords when SSO_ONLY (crm/access/sso_views.py)
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not twofactor.has_second_factor(user):
            response = super().form_valid(form)
            if twofactor.is_required(user):
                return redirect("web:two-factor")  # the middleware keeps them there until enrolled
            return response
        device = twofactor.confirmed_device(user)
        if device is not None and is_remembered(self.request, user, device):
            return finish(self.request, user, device, user.backend, self.get_success_url())
        payload = {"user": user.pk, "backend": user.backend, "next": self.get_success_url()}
        self.request.session[PENDING_KEY] = signing.dumps(payload, salt=PENDING_SALT)
        self.request.session[PENDING_KEY + "_tries"] = 0
        return redirect("web:login-code")


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request):
    pending = pending_sign_in(request)
    if pending is None:
        messages.info(request, "Sign in again: the code was not entered in time.")
        return redirect("web:login")
    user, backend, next_url = pending
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = twofactor.verify_sign_in_code(user, form.cleaned_data["code"])
        except ValidationFailed as exc:
            return _wrong_code(request, user, form, exc)
        forget_pending(request)
        response = finish(request, user, device, backend, next_url)
        if form.cleaned_data["remember"] and remember_days():
            remember(response, user, device)
        return response
    return code_page(request, form, user)


def code_page(request, form, user, passkey_error: str = ""):
    """The second step: a code form when the user has an app, a passkey button when they have a passkey."""
    context = {
        "form": form,
        "remember_days": remember_days(),
        "has_app": twofactor.is_enabled(user),
        "has_passkey": passkeys.has_passkey(user),
        "passkey_error": passkey_error,
    }
    return render(request, "web/login_code.html", context)


def count_wrong_second_factor(request, user) -> bool:
    """A wrong code or passkey answer counts toward the lockout like a wrong password (axes listens to
    ``user_login_failed``). False when this pending sign-in has had its last try."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    tries = request.session.get(PENDING_KEY + "_tries", 0) + 1
    if tries >= MAX_CODE_TRIES:
        forget_pending(request)
        messages.error(request, "Too many wrong codes: sign in again.")
        return False
    request.session[PENDING_KEY + "_tries"] = tries
    return True


def _wrong_code(request, user, form, exc: ValidationFailed):
    if not count_wrong_second_factor(request, user):
        return redirect("web:login")
    form.add_error("code", exc.fields.get("code") or exc.message)
    return code_page(request, form, user)


def finish(request, user, device, backend: str, next_url: str):
    """Signed in, and verified: ``request.user.is_verified()`` holds for the rest of the session."""
    auth_login(request, user, backend=backend)
    django_otp.login(request, device)
    return HttpResponseRedirect(next_url)


def pending_sign_in(request):
    """(user, backend, next URL) of the password step, or None when absent, tampered or expired."""
    value = request.session.get(PENDING_KEY)
    if not value:
        return None
    try:
        data = signing.loads(value, salt=PENDING_SALT, max_age=settings.TWO_FACTOR_PENDING_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one
        forget_pending(request)
        return None
    user = get_user_model().objects.filter(pk=data["user"], is_active=True).first()
    if user is None or data["backend"] not in settings.AUTHENTICATION_BACKENDS:
        forget_pending(request)
        return None
    return user, data["backend"], data["next"]


def forget_pending(request) -> None:
    request.session.pop(PENDING_KEY, None)
    request.session.pop(PENDING_KEY + "_tries", None)


# --- "Remember this device" ---------------------------------------------------------------------


def remember_days() -> int:
    return max(0, int(getattr(settings, "TWO_FACTOR_REMEMBER_DAYS", 30)))


def _fingerprint(user, device) -> str:
    # The device's key is in it: a reset (devices deleted) and a new enrolment make a new key, so a
    # cookie of the old device fails even if the database hands out the same device id again.
    return salted_hmac(REMEMBER_SALT, f"{user.pk}:{device.pk}:{device.key}", algorithm="sha256").hexdigest()


def remember_cookie() -> str:
    """__Host-crm_two_factor_remember when cookies are Secure (as the session's, crm/settings.py)."""
    return f"__Host-{REMEMBER_COOKIE}" if settings.SESSION_COOKIE_SECURE else REMEMBER_COOKIE


def remember(response, user, device) -> None:
    days = remember_days()
    response.set_signed_cookie(  # Path=/ and no Domain, as the __Host- prefix requires
        remember_cookie(),
        f"{user.pk}:{device.pk}:{_fingerprint(user, device)}",
        salt=REMEMBER_SALT,
        max_age=days * 86400,
        secure=settings.SESSION_COOKIE_SECURE,  # Secure unless DEBUG (or SECURE_COOKIES=false)
        httponly=True,
        samesite="Lax",
    )


def is_remembered(request, user, device) -> bool:
    days = remember_days()
    if not days:
        return False
    value = request.get_signed_cookie(remember_cookie(), default=None, salt=REMEMBER_SALT, max_age=days * 86400)
    expected = f"{user.pk}:{device.pk}:{_fingerprint(user, device)}"
    return bool(value) and constant_time_compare(value, expected)
