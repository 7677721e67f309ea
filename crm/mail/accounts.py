"""A user's own outgoing server (``SmtpAccount``): their mail leaves through it with their own address as
From; everyone else's, and the CRM's notices, through the organization's EMAIL_URL.

The password is write-only (no read returns it), encrypted at rest like a mailbox's and moved to a new
key by `crm encryption rotate`. The host goes through the same guard as webhooks and mailboxes: a
private or local address is refused unless MAILBOX_ALLOW_PRIVATE (a server on your own network); it is
checked when saved and again, resolved, before each send (crm/mail/sending.py), which then connects to
the address checked (crm/mail/pinned.py), never to a second DNS answer."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction

from crm.audit import configwrites
from crm.automation.ssrf import Refused, checked_address, host_refusal
from crm.core import crypto
from crm.core.errors import NotFound, ValidationFailed
from crm.mail import smtp
from crm.mail.models import SmtpAccount

FIELDS = ("host", "port", "security", "username", "password")
SECURITY = ("starttls", "tls", "none")
HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


class Unusable(Exception):
    """The user's server cannot be used as stored (a password under a missing key, a refused host)."""


def account_of(user) -> SmtpAccount | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return SmtpAccount.objects.defer("password").filter(user_id=user.pk).first()


def has_password(account: SmtpAccount) -> bool:
    """Whether one is stored, without opening it (a read never needs the key)."""
    return SmtpAccount.objects.filter(pk=account.pk).exclude(password="").exclude(password__isnull=True).exists()


def _check(account: SmtpAccount) -> None:
    # None when read back empty (an EncryptedTextField reads "" as None); the column is NOT NULL.
    account.password = account.password or ""
    errors = {}
    if not HOST.match(account.host or ""):
        errors["host"] = "A host name or IP address, such as smtp.example.com."
    elif not settings.MAILBOX_ALLOW_PRIVATE and (reason := host_refusal(account.host)):
        errors["host"] = f"{reason} (Set MAILBOX_ALLOW_PRIVATE=true to reach a server on your own network.)"
    if not 1 <= (account.port or 0) <= 65535:
        errors["port"] = "A port between 1 and 65535."
    if account.security not in SECURITY:
        errors["security"] = f"One of {', '.join(SECURITY)}."
    if account.username and not account.password:
        errors["password"] = "The password of that user name (an app password where the provider offers one)."
    if not (account.user.email or "").strip():
        errors["user"] = "Your user has no email address: mail sent through your server is From it."
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def smtp_account_set(*, actor, data: dict) -> SmtpAccount:
    """Create or change the actor's own server; an empty password keeps the stored one."""
    data = {k: v for k, v in data.items() if k in FIELDS and v is not None}
    if data.get("password") == "":
        del data["password"]
    existing = SmtpAccount.objects.filter(user_id=actor.pk).first()
    if existing is None:
        account = SmtpAccount(user=actor, **data)
        return configwrites.create(account, actor=actor, check=_check)
    return configwrites.update(existing, actor=actor, data=data, fields=FIELDS, check=_check)


@transaction.atomic
def smtp_account_delete(*, actor) -> None:
    """Back to the organization's server."""
    existing = SmtpAccount.objects.filter(user_id=actor.pk).first()
    if existing is None:
        raise NotFound("You have no outgoing server of your own.")
    configwrites.delete(existing, actor=actor)


def has_server(sender) -> bool:
    """Whether a sender's mail can be sent now (their own server or the organization's)."""
    own = sender is not None and SmtpAccount.objects.filter(user_id=getattr(sender, "pk", None)).exists()
    return own or smtp.configured() is not None


def server_for(sender) -> smtp.SmtpServer | None:
    """The server a sender's mail goes through: their own, else the organization's (None: none at all).
    Raises Unusable when their own cannot be used: their mail must not leave by another server."""
    account = account_of(sender)
    if account is None:
        return smtp.configured()
    try:
        password = SmtpAccount.objects.get(pk=account.pk).password or ""
    except (crypto.KeyMissing, crypto.Undecryptable) as exc:
        raise Unusable(f"The password of your outgoing server cannot be read ({exc}): enter it again.") from None
    try:  # resolved now: a name that pointed outside when saved may point inside today
        address = checked_address(account.host, account.port, allow_private=settings.MAILBOX_ALLOW_PRIVATE)
    except Refused as exc:
        raise Unusable(f"Your outgoing server {account.host} is refused: {exc}") from None
    return smtp.SmtpServer(
        host=account.host,
        port=account.port,
        username=account.username,
        password=password,
        use_tls=account.security == "starttls",
        use_ssl=account.security == "tls",
        address=address,  # connected to as checked: no second DNS answer (crm/mail/pinned.py)
    )
