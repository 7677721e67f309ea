"""Users: created, changed and deleted by admins only, with their role, team and time zone (the
profile) in the same write and one change-log row each (as an ``Account``: no password hash in it)."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from crm.access.models import Account, Profile, SsoIdentity
from crm.access.policy import forget, require_admin
from crm.audit import changelog, configwrites
from crm.audit.models import Action
from crm.core.context import change_context
from crm.core.errors import ValidationFailed

FIELDS = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser", "date_joined")
PROFILE_FIELDS = ("role", "team", "time_zone")
ACCESS_FIELDS = ("groups", "user_permissions")  # Django's own, for what staff may open in the admin


@transaction.atomic
def user_create(*, actor, data: dict) -> Account:
    """``password``: the raw password, or None/absent for an account nobody can log in to yet;
    ``password_hash`` instead: one already encoded (the demo's light hashes)."""
    require_admin(actor, "users")
    return _create(actor, data)


@transaction.atomic
def superuser_create(*, data: dict) -> Account:
    """The first admin, made by a management command (the demo's `admin`; Django's createsuperuser is
    the other way): whoever runs one owns the installation, so there is no actor to check. The
    change-log row names the new superuser as its own actor."""
    return _create(None, {**data, "is_staff": True, "is_superuser": True})


def _create(actor, data: dict) -> Account:
    account = Account(**{k: data[k] for k in FIELDS if k in data})
    if data.get("password_hash"):
        account.password = data["password_hash"]
    elif data.get("password"):
        _validate_password(data["password"], account)
        account.set_password(data["password"])
    else:
        account.set_unusable_password()
    configwrites.clean(account)
    account.save(force_insert=True)
    _write_profile_and_access(account, data)
    changelog.log_create(actor or account, account)
    return account


@transaction.atomic
def user_update(user, *, actor, data: dict) -> Account:
    require_admin(actor, "users")
    account = configwrites.locked(Account, user.pk)
    before = changelog.snapshot(account)
    for name in FIELDS:
        if name in data:
            setattr(account, name, data[name])
    configwrites.clean(account)
    account.save()
    _write_profile_and_access(account, data)
    changelog.log_update(actor, account, before)
    forget(account)  # a changed role or team applies from the next request
    return account


@transaction.atomic
def password_set(user, *, actor, password: str | None) -> Account:
    """A user sets their own password (the web form checked the old one first), an admin anyone's;
    None: no password login for the account (an admin only). The password validators run here too,
    so no caller can skip them; the change log says what happened, never the value or its hash."""
    if actor.pk != user.pk or password is None:
        require_admin(actor, "users")
    account = configwrites.locked(Account, user.pk)
    if password is None:
        account.set_unusable_password()
    else:
        _validate_password(password, account)
        account.set_password(password)
    account.save(update_fields=["password"])
    changelog.log_event(actor, account, Action.UPDATE, {"password": ["", "changed" if password else "disabled"]})
    return account


@transaction.atomic
def user_delete(user, *, actor) -> None:
    """Their records keep existing with no owner where the relation allows it (as Django deletes them)."""
    require_admin(actor, "users")
    configwrites.delete(configwrites.locked(Account, user.pk), actor=actor)


@transaction.atomic
def sso_user_create(*, data: dict, issuer: str, subject: str) -> Account:
    """A user made just in time at their first single sign-on (OIDC_CREATE_USERS): no admin acts, so,
    as with the first superuser, the change log names the new user as their own actor, with source
    "sso". No password: they sign in through the identity provider only."""
    with change_context(source="sso"):
        account = _create(None, {k: v for k, v in data.items() if k not in ("password", "password_hash")})
        sso_identity_link(account, issuer=issuer, subject=subject)
    return account


@transaction.atomic
def sso_identity_link(user, *, issuer: str, subject: str) -> SsoIdentity:
    """Ties a provider's subject to a user (first sign-in: created, or matched by verified email when
    OIDC_LINK_BY_EMAIL allows); logged on the user."""
    with change_context(source="sso"):
        identity = SsoIdentity(user_id=user.pk, issuer=issuer, subject=subject)
        configwrites.clean(identity)
        identity.save(force_insert=True)
        account = Account.objects.get(pk=user.pk)
        changelog.log_event(account, account, Action.UPDATE, {"sso_identity": ["", str(identity)]})
    return identity


@transaction.atomic
def sso_access_sync(user, *, data: dict) -> Account:
    """The role and team the provider's groups map to, applied at each sign-in; the change log gets
    a row (actor: the user, source "sso") only when something changed."""
    with change_context(source="sso"):
        account = configwrites.locked(Account, user.pk)
        before = changelog.snapshot(account)
        _write_profile_and_access(account, {k: data[k] for k in PROFILE_FIELDS if k in data})
        changelog.log_update(account, account, before)
        forget(account)
    return account


def _validate_password(password: str, account: Account) -> None:
    """AUTH_PASSWORD_VALIDATORS (length PASSWORD_MIN_LENGTH, common passwords...), on every path that
    sets a raw password, so no caller can skip them."""
    try:
        password_validation.validate_password(password, account)
    except ValidationError as exc:
        raise ValidationFailed({"password": " ".join(exc.messages)}) from None


def _write_profile_and_access(account: Account, data: dict) -> None:
    given = {k: data[k] for k in PROFILE_FIELDS if k in data}
    if given:
        profile = Profile.objects.filter(user_id=account.pk).first() or Profile(user_id=account.pk)
        for name, value in given.items():
            setattr(profile, name, value if value is not None or name != "time_zone" else "")
        configwrites.clean(profile)
        profile.save()
    for name in ACCESS_FIELDS:
        if name in data:
            getattr(account, name).set(data[name] or [])
