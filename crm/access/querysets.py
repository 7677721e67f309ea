"""The one place record visibility is decided: ``Model.objects.restrict(user, action)``.

Every list, detail lookup, search, export, related list and count starts from it, so what a
user may not see is never fetched (after NetBox's RestrictedQuerySet).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from crm.access.policy import policy_for


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> RestrictedQuerySet:
        policy = policy_for(user)
        if not policy.allows(self.permission_key(), action):
            return self.none()
        q = self.model.visibility_q(policy, action)
        return self if q is None else self.filter(q)

    def permission_key(self) -> str:
        """The type whose permissions apply: the model's, or (custom records) the one type filtered on."""
        return self.model.object_type


def owner_q(policy, owner_field: str) -> Q | None:
    """Q matching records owned within the policy's scope, or None when everything is visible."""
    owners = policy.visible_owner_ids()
    if owners is None:
        return None
    if len(owners) == 1:
        return Q(**{f"{owner_field}_id": next(iter(owners))})
    return Q(**{f"{owner_field}_id__in": sorted(owners)})
