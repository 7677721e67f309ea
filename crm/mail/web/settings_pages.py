"""Settings → Mail (/mail/settings/): the user's own outgoing server (host, port, security, user name,
a write-only password, "Test connection") and their BCC/forwarding address with "Retire and make a new
one". Always the signed-in user's own: no URL names another user, so nobody reaches anyone else's.
Every write is a service call (crm/mail/accounts.py, crm/mailbox/dropbox.py); a refusal, the SSRF
guard's included, is shown beside its field (422)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm.core.errors import NotFound, ServiceError, ValidationFailed
from crm.mail import accounts, smtp_check
from crm.mail.models import SmtpAccount
from crm.mailbox import dropbox

FIELDS = ("host", "port", "security", "username")


def _port(raw: str) -> int:
    raw = (raw or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ValidationFailed({"port": "A port between 1 and 65535."})
    return int(raw)


def _save(request) -> str:
    post = request.POST
    data = {k: post.get(k, "").strip() for k in ("host", "security", "username")}
    data["port"] = _port(post.get("port", ""))
    data["password"] = post.get("password", "")  # empty keeps the stored one (the service's rule)
    accounts.smtp_account_set(actor=request.user, data=data)
    return "Your outgoing server is saved: your mail now leaves through it, From your own address."


def _remove(request) -> str:
    try:
        accounts.smtp_account_delete(actor=request.user)
    except NotFound:
        return "Your mail already goes through the organization's server."
    return "Your own server is removed: your mail goes through the organization's server again."


def _new_bcc(request) -> str:
    if not dropbox.address_of(request.user):  # "" when MAIL_BCC_ADDRESS is not set
        raise ValidationFailed({"bcc": "No BCC address is set up on this installation (MAIL_BCC_ADDRESS)."})
    address = dropbox.new_address(actor=request.user)
    return f"Your new BCC address is {address}. The old one files nothing any more."


ACTIONS = {
    "save": _save,
    "remove": _remove,
    "test": lambda request: smtp_check.check_own_server(actor=request.user),
    "new_bcc": _new_bcc,
}


def _values(user, post=None) -> dict:
    if post is not None:  # shown again as typed (never the password)
        return {k: post.get(k, "") for k in FIELDS}
    account = accounts.account_of(user)
    if account is None:
        return {"host": "", "port": 587, "security": "starttls", "username": ""}
    return {k: getattr(account, k) for k in FIELDS}


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    errors: dict[str, str] = {}
    posted = None
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("action", ""))
        try:
            if action is None:
                raise ValidationFailed({"action": "Unknown action."})
            done = action(request)
        except ServiceError as exc:
            errors = dict(exc.fields) or {"general": exc.message}
            posted = request.POST if request.POST.get("action") == "save" else None
        else:
            messages.success(request, done)
            return redirect("mail:settings")
    account = accounts.account_of(request.user)
    context = {
        "account": account,
        "has_password": account is not None and accounts.has_password(account),
        "values": _values(request.user, posted),
        "securities": SmtpAccount._meta.get_field("security").choices or [(s, s) for s in accounts.SECURITY],
        "errors": errors,
        "bcc_address": dropbox.address_of(request.user),
    }
    return render(request, "mail/settings.html", context, status=422 if errors else 200)
