"""Who counts as a manager where a rule says "admins and managers" (shared mail templates, a
pipeline's win-on-accept setting): an admin, a team's manager, or a user with a manager role."""

from __future__ import annotations

from crm.access.models import Profile, Team
from crm.access.policy import policy_for

MANAGER_ROLES = ("sales-manager",)


def is_manager(user) -> bool:
    if policy_for(user).is_admin:
        return True
    if Team.objects.filter(manager_id=user.pk).exists():
        return True
    return Profile.objects.filter(user_id=user.pk, role__slug__in=MANAGER_ROLES).exists()
