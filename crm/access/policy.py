"""A user's effective permissions, computed once per user object and reused for every query."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm.access.models import Profile, Scope


@dataclass(frozen=True)
class Policy:
    user_id: int | None
    is_admin: bool = False
    scope: str = Scope.OWN
    permissions: dict = field(default_factory=dict)
    team_member_ids: frozenset[int] = frozenset()

    def allows(self, object_type: str, action: str) -> bool:
        return self.is_admin or action in self.permissions.get(object_type, ())

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


def _build(user) -> Policy:
    if user.is_superuser:
        return Policy(user_id=user.pk, is_admin=True, scope=Scope.ALL)
    profile = Profile.objects.select_related("role").filter(user=user).first()
    if profile is None or profile.role is None:
        return Policy(user_id=user.pk)
    role = profile.role
    team_ids = set(user.managed_teams.values_list("id", flat=True))
    if profile.team_id:
        team_ids.add(profile.team_id)
    members = Profile.objects.filter(team_id__in=team_ids).values_list("user_id", flat=True)
    managers = user.managed_teams.model.objects.filter(id__in=team_ids).values_list("manager_id", flat=True)
    ids = {i for i in [*members, *managers] if i is not None}
    return Policy(
        user_id=user.pk,
        is_admin=role.is_admin,
        scope=role.scope,
        permissions={k: tuple(v) for k, v in role.permissions.items()},
        team_member_ids=frozenset(ids),
    )


def forget(user) -> None:
    """Drop the cached policy (after a role or team change in the same process)."""
    if hasattr(user, "_crm_policy"):
        del user._crm_policy
