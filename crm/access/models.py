"""Roles, teams and API tokens: who may do what, and to whose records."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

ACTIONS = ("view", "add", "change", "delete", "export")
OBJECT_TYPES = ("company", "contact", "lead", "deal", "activity", "task")


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

    def __str__(self) -> str:
        return self.name

    def allows(self, object_type: str, action: str) -> bool:
        return self.is_admin or action in self.permissions.get(object_type, [])


class Team(models.Model):
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

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the raw token is shown once, at creation."""

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
    def issue(cls, user, name: str = "") -> tuple[ApiToken, str]:
        raw = "crm_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=hash_token(raw), prefix=raw[:12])
        return token, raw
