"""Roles, teams and API tokens: who may do what, and to whose records."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django_otp.models import Device

ACTIONS = ("view", "add", "change", "delete", "export")
OBJECT_TYPES = ("company", "contact", "lead", "deal", "activity", "task")
# Permission keys that are areas of the app, not record types (a role grants them as it grants a type):
# "commission" — view statements (in the role's scope), export them, change them (adjust, recalculate,
# assign plans); crm/commissions/access.py reads it.
AREAS = ("commission",)


class Scope(models.TextChoices):
    OWN = "own", "Own records"
    TEAM = "team", "Team's records"
    ALL = "all", "All records"


class Role(models.Model):
    """Grants actions per object type (``{"contact": ["view", "add"]}``) and a visibility scope."""

    change_log_type = "role"  # the object_type of its change-log rows (it is not a record)

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.OWN)
    permissions = models.JSONField(default=dict, blank=True)
    is_admin = models.BooleanField(default=False, help_text="Admins may do everything, including settings.")
    requires_two_factor = models.BooleanField(
        default=False, help_text="Its users must sign in with a one-time code (they enrol at their next sign-in)."
    )
    field_access = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per record type and field: "hidden" or "read" (absent: editable), e.g. '
        '{"contact": {"email": "hidden", "cf_budget": "read"}}. Admin roles have no field rules.',
    )

    def __str__(self) -> str:
        return self.name

    def allows(self, object_type: str, action: str) -> bool:
        return self.is_admin or action in self.permissions.get(object_type, [])


class Team(models.Model):
    change_log_type = "team"

    name = models.CharField(max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.SET_NULL, related_name="profiles")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    time_zone = models.CharField(max_length=64, blank=True)
    # Raised by "sign out everywhere" (crm.access.sessions): a session made under an older value ends.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the raw token is shown once, at creation."""

    change_log_type = "api_token"
    # The hash is a credential's fingerprint (the prefix names the token); the last use is no change.
    change_log_hidden = ("key_hash", "last_used_at")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def new(cls, user, name: str = "", expires_at=None) -> tuple[ApiToken, str]:
        """An unsaved token and its raw value (the only time the raw value exists)."""
        raw = "crm_" + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, expires_at=expires_at, key_hash=hash_token(raw), prefix=raw[:12])
        return token, raw

    @classmethod
    def issue(cls, user, name: str = "") -> tuple[ApiToken, str]:
        """Saved without a check or a change-log row: for tests and benchmarks only; people, screens
        and `crm token` go through crm.access.tokens."""
        token, raw = cls.new(user, name)
        token.save(force_insert=True)
        return token, raw


class Account(User):
    """A user as the change log sees it (the services in accounts.py write users through it): its own
    fields without the password hash, plus its role, team, groups and Django permissions."""

    change_log_type = "user"
    change_log_hidden = ("password", "last_login")  # a secret's hash; a login is no change

    class Meta:
        proxy = True

    def extra_snapshot(self) -> dict:
        profile = Profile.objects.filter(user_id=self.pk).select_related("role", "team").first()
        return {
            "role": profile.role.slug if profile and profile.role else None,
            "team": profile.team.name if profile and profile.team else None,
            "time_zone": profile.time_zone if profile else "",
            "groups": sorted(self.groups.values_list("name", flat=True)),
            "user_permissions": sorted(self.user_permissions.values_list("codename", flat=True)),
        }


class SsoIdentity(models.Model):
    """Who a user is at an OpenID Connect provider: the (issuer, subject) pair the provider promises never
    to reassign. Sign-ins match on it, never on the email address (which the provider may let people change)."""

    change_log_type = "sso_identity"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique_subject")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class RecoveryCode(models.Model):
    """A one-use code for signing in without the authenticator app. Only a keyed hash is stored
    (crm.access.twofactor makes and checks them); the codes are shown once, when made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"


class Passkey(Device):
    """A WebAuthn credential (a passkey or security key) of one user: a second factor beside TOTP and,
    when the authenticator keeps it (discoverable), a sign-in without a password. A django-otp device,
    so a session signed in with it is ``is_verified()`` like one that gave a TOTP code. Only the public
    key is stored; crm.access.passkeys registers, checks and removes them."""

    change_log_type = "passkey"
    change_log_hidden = ("credential_id", "public_key", "sign_count", "last_used_at")

    credential_id = models.BinaryField(max_length=1023)
    # The authenticator's id for the credential, base64url: the unique, indexed form of credential_id.
    credential_key = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE_Key
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
