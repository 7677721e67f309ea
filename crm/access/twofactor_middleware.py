"""Users whose role requires two-factor sign-in open nothing but the enrolment page (and sign-out)
until their session has passed a second factor. The API is left alone: it signs in with tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseForbidden
from django.shortcuts import redirect

from crm.access import twofactor

ENROL_PATH = "/account/two-factor/"
PASSKEY_PATH = "/account/security/"  # a passkey is a second factor too: added from the Security page


def _open_paths() -> tuple[str, ...]:
    static = "/" + settings.STATIC_URL.lstrip("/")
    return (ENROL_PATH, PASSKEY_PATH, "/login/", "/logout/", "/api/", static)


class TwoFactorRequiredMiddleware:
    """After django-otp's OTPMiddleware (it gives ``user.is_verified()``)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.open_paths = _open_paths()

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.open_paths)
            and not _verified(user)
            and not request.session.get("sso_login")  # the identity provider owns the second factor
            and twofactor.is_required(user)  # one query, only for sessions without a second factor
        ):
            return self._stop(request, user)
        return self.get_response(request)

    def _stop(self, request, user):
        if twofactor.has_second_factor(user):
            # Signed in some way that skipped the code step (a session from before the role asked for
            # it): sign in again, through the code step.
            logout(request)
            return redirect_to_login(request.get_full_path())
        if request.method != "GET" or request.headers.get("HX-Request"):
            return HttpResponseForbidden("Set up two-factor sign-in first.", content_type="text/plain")
        return redirect(ENROL_PATH)


def _verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
