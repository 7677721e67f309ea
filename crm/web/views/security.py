"""The account's security page (passkeys, "sign out everywhere") and the sign-in lockout page."""

from __future__ import annotations

from axes.helpers import get_client_ip_address, get_client_username
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.access import lockouts, passkeys, sessions

LOCKED_OUT = (
    "Too many failed sign-in attempts. Try again in {minutes} minute{s} or ask an admin to unlock your account."
)


@login_required
@require_GET
def security_page(request):
    return render(request, "web/security.html", {"passkeys": passkeys.passkeys_of(request.user)})


@login_required
@require_POST
def sign_out_everywhere(request):
    """Every session of the user ends, this one too: they sign in again here."""
    sessions.sessions_end_all(request.user, actor=request.user)
    logout(request)
    messages.success(request, "You were signed out everywhere. API tokens stay valid.")
    return redirect("web:login")


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the login page with the lockout message, status 429 (for the admin's
    login form and a second factor's step too: their form posts the same fields)."""
    username = get_client_username(request, credentials) or ""
    ip = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    minutes = lockouts.minutes_left(username, ip)
    message = LOCKED_OUT.format(minutes=minutes, s="" if minutes == 1 else "s")
    form = AuthenticationForm(request, initial={"username": username})
    # An unbound form carrying the message as its error: validating it would try the password again.
    form._errors = ErrorDict({NON_FIELD_ERRORS: form.error_class([message], error_class="nonfield")})
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    return render(request, "web/login.html", {"form": form, "next": nxt}, status=429)
