"""API tokens managed by admins: issued (the raw token is returned once; only its hash is stored),
renamed or given an expiry, and revoked, each with a change-log row (without the hash)."""

from __future__ import annotations

from django.db import transaction

from crm.access.models import ApiToken
from crm.access.policy import require_admin
from crm.audit import configwrites

FIELDS = ("name", "expires_at")


@transaction.atomic
def token_issue(*, actor, user, name: str = "", expires_at=None) -> tuple[ApiToken, str]:
    """The token and its raw value: show the raw value to the admin now, it cannot be read again."""
    require_admin(actor, "API tokens")
    token, raw = ApiToken.new(user, name, expires_at)
    configwrites.create(token, actor=actor)
    return token, raw


@transaction.atomic
def token_issue_by_operator(*, user, name: str = "") -> tuple[ApiToken, str]:
    """From a management command: whoever runs one owns the installation, so there is no actor to
    check (as ``accounts.superuser_create``); the change-log row names the token's user."""
    token, raw = ApiToken.new(user, name, None)
    configwrites.create(token, actor=user)
    return token, raw


@transaction.atomic
def tokens_revoke_by_operator(*, user) -> int:
    """Every token of a user, from a management command (no actor, as above); one log row each."""
    tokens = list(ApiToken.objects.filter(user=user).select_for_update())
    for token in tokens:
        configwrites.delete(token, actor=user)
    return len(tokens)


@transaction.atomic
def token_update(token: ApiToken, *, actor, data: dict) -> ApiToken:
    require_admin(actor, "API tokens")
    return configwrites.update(token, actor=actor, data=data, fields=FIELDS)


@transaction.atomic
def token_revoke(token: ApiToken, *, actor) -> None:
    """Deleting the row is the revocation: the next request with the token is refused."""
    require_admin(actor, "API tokens")
    configwrites.delete(token, actor=actor)
