"""Reading the change log: a user sees the changes of records they can currently see; admins and
all-scope users also see those of deleted records."""

from __future__ import annotations

from django.db.models import Q

from crm.access.policy import policy_for
from crm.audit.models import ObjectChange
from crm.core import recordtypes


def visible_changes(user):
    policy = policy_for(user)
    q = Q(pk__in=[])
    for rt in recordtypes.all_types():  # every type of record, declared or defined at run time
        if not policy.allows(rt.object_type, "view"):
            continue
        if policy.sees_all:
            q |= Q(object_type=rt.object_type)
        else:
            q |= Q(object_type=rt.object_type, object_id__in=rt.restricted(user).values("pk"))
    return ObjectChange.objects.filter(q)
