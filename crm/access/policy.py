"""A user's effective permissions, computed once per user object and reused for every query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial

from django.db.models import Q

from crm.access import fieldrules
from crm.access.models import Profile, Scope, Team
from crm.core.errors import PermissionDenied


@dataclass(frozen=True)
class Policy:
    user_id: int | None
    is_admin: bool = False
    scope: str = Scope.OWN
    permissions: dict = field(default_factory=dict)
    # {object_type: {field: "hidden" | "read"}} (crm/access/fieldrules.py); admins have none.
    field_access: dict = field(default_factory=dict)
    # Loads team_member_ids on first use: most requests (and every user who sees all) never need them.
    team_loader: Callable[[], frozenset[int]] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def team_member_ids(self) -> frozenset[int]:
        """Members and managers of the user's team and of the teams they manage."""
        return self.team_loader() if self.team_loader else frozenset()

    def allows(self, object_type: str, action: str) -> bool:
        return self.is_admin or action in self.permissions.get(object_type, ())

    def field_rule(self, object_type: str, name: str) -> str:
        """ "hidden", "read", or "" (editable) for a field of a type (``cf_<key>`` for a custom field)."""
        if self.is_admin:
            return ""
        return self.field_access.get(object_type, {}).get(name, "")

    def hidden_fields(self, object_type: str) -> frozenset[str]:
        return self._fields_with(object_type, "hidden")

    def read_only_fields(self, object_type: str) -> frozenset[str]:
        """The fields the role sees but may not set (hidden ones are not set either: see hidden_fields)."""
        return self._fields_with(object_type, "read")

    def _fields_with(self, object_type: str, rule: str) -> frozenset[str]:
        if self.is_admin or not self.field_access:
            return frozenset()
        return frozenset(n for n, r in self.field_access.get(object_type, {}).items() if r == rule)

    @property
    def sees_all(self) -> bool:
        return self.is_admin or self.scope == Scope.ALL

    def visible_owner_ids(self) -> frozenset[int] | None:
        """Owner ids whose records this user sees, or None for everyone's."""
        if self.sees_all:
            return None
        if self.scope == Scope.TEAM:
            return self.team_member_ids | {self.user_id}
        return frozenset({self.user_id})


NOBODY = Policy(user_id=None)


def policy_for(user) -> Policy:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOBODY
    cached = getattr(user, "_crm_policy", None)
    if cached is not None:
        return cached
    policy = _build(user)
    user._crm_policy = policy
    return policy


_UNSET = object()


def remember_profile(user, profile) -> Policy:
    """Build and cache the policy of ``user`` from a ``profile`` (with its role) the caller has just
    loaded in the same query as the user (the token lookup does), saving the profile query."""
    if user is None or not user.is_active:
        return NOBODY
    user._crm_policy = _build(user, profile)
    return user._crm_policy


def _build(user, profile=_UNSET) -> Policy:
    if user.is_superuser:
        return Policy(user_id=user.pk, is_admin=True, scope=Scope.ALL)
    if profile is _UNSET:
        profile = Profile.objects.select_related("role").filter(user=user).first()
    if profile is None or profile.role is None:
        return Policy(user_id=user.pk)
    role = profile.role
    return Policy(
        user_id=user.pk,
        is_admin=role.is_admin,
        scope=role.scope,
        permissions={k: tuple(v) for k, v in role.permissions.items()},
        field_access={} if role.is_admin else fieldrules.frozen(role.field_access),
        team_loader=partial(_team_member_ids, user.pk, profile.team_id),
    )


def _team_member_ids(user_id: int, team_id: int | None) -> frozenset[int]:
    """One query (a UNION) instead of three."""
    in_teams = Q(team__manager_id=user_id) if team_id is None else Q(team_id=team_id) | Q(team__manager_id=user_id)
    members = Profile.objects.filter(in_teams).values_list("user_id", flat=True)
    teams = Q(manager_id=user_id) if team_id is None else Q(id=team_id) | Q(manager_id=user_id)
    managers = Team.objects.filter(teams).values_list("manager_id", flat=True)
    return frozenset(i for i in members.union(managers) if i is not None)


def require_admin(user, what: str) -> None:
    """Settings (roles, custom fields, pipelines) are managed by admins only: superusers and admin roles."""
    if not policy_for(user).is_admin:
        raise PermissionDenied(f"Only admins may manage {what}.")


def forget(user) -> None:
    """Drop the cached policy (after a role or team change in the same process)."""
    if hasattr(user, "_crm_policy"):
        del user._crm_policy
