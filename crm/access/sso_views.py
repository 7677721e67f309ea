"""The /oidc/ views (mozilla-django-oidc's, made to answer a refusal with a page instead of a 400 or a
bare redirect) and the password forms that SSO_ONLY closes (web login and Django admin)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import auth
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.http import Http404
from django.shortcuts import render
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from crm.access.sso import SsoRefused, acr_values, sso_setting

log = logging.getLogger("crm.access.sso")

SSO_ONLY_MESSAGE = "Password sign-in is turned off here: use “Sign in with SSO”."


def refuse(request, refusal: SsoRefused):
    """Logs why, ends any session in this browser, and says what failed; never a 500."""
    log.warning("SSO sign-in refused: %s", refusal.reason)
    if hasattr(request, "user"):
        auth.logout(request)
    return render(request, "access/sso_failed.html", {"message": refusal.public}, status=403)


class SsoAuthenticateView(OIDCAuthenticationRequestView):
    """The "Sign in with SSO" button: redirects to the provider with a fresh state, nonce and PKCE."""

    get_settings = staticmethod(sso_setting)

    def __init__(self, *args, **kwargs):
        # The provider's endpoints are read in get(), where a provider that is down gets a page.
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404("SSO is not enabled")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
            self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
            return super().get(request)
        except SsoRefused as refusal:
            return refuse(request, refusal)

    def get_extra_params(self, request):
        return {**super().get_extra_params(request), **acr_values()}


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back with a code; the backend (crm.access.sso) checks it."""

    get_settings = staticmethod(sso_setting)

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404("SSO is not enabled")
        try:
            return super().get(request)
        except SuspiciousOperation as exc:  # a state this session never sent
            return refuse(request, SsoRefused(str(exc)))

    def login_failure(self):
        request = self.request
        refusal = getattr(request, "sso_refusal", None)
        if refusal is None:
            if request.GET.get("error"):
                described = f"{request.GET['error']}: {request.GET.get('error_description', '')}"
                refusal = SsoRefused(f"the provider answered {described}")
            elif "oidc_states" not in request.session:
                refusal = SsoRefused("no SSO sign-in was started in this browser session (no state)")
            else:
                refusal = SsoRefused("the callback carried no code and state")
        return refuse(request, refusal)

    def login_success(self):
        response = super().login_success()
        # Read by the two-step login: the identity provider owns second factors for these sessions.
        self.request.session["sso_login"] = True
        return response


# --- SSO_ONLY: the password forms ------------------------------------------------------------------


class SsoOnlyMixin:
    """With SSO_ONLY, a password sign-in is refused (whatever the password, so nothing is learnt from
    it), but for a superuser when SSO_BREAK_GLASS is on: the documented way in when the provider is down."""

    def clean(self):
        if not settings.SSO_ONLY:
            return super().clean()
        try:
            cleaned = super().clean()
        except ValidationError:
            if settings.SSO_BREAK_GLASS:
                raise  # the usual wrong-password answer for the one who may still use a password
            cleaned = None
        user = self.get_user()
        if cleaned is not None and user is not None and user.is_superuser and settings.SSO_BREAK_GLASS:
            log.warning("Break-glass password sign-in by superuser %s while SSO_ONLY is on", user.username)
            return cleaned
        log.warning("Password sign-in refused (SSO_ONLY) for %r", self.cleaned_data.get("username"))
        self.user_cache = None
        raise ValidationError(SSO_ONLY_MESSAGE, code="sso_only")


class PasswordLoginForm(SsoOnlyMixin, AuthenticationForm):
    pass


class AdminPasswordLoginForm(SsoOnlyMixin, AdminAuthenticationForm):
    pass
