"""Reading the change log: a user sees the changes of records they can currently see; admins and
all-scope users also see those of deleted records."""

from __future__ import annotations

from django.db.models import Q

from crm.access.policy import policy_for
from crm.audit.models import ObjectChange


def visible_changes(user):
    from crm.records.models import Activity, Company, Contact, Deal, Lead, Task

    policy = policy_for(user)
    q = Q(pk__in=[])
    for model in (Company, Contact, Lead, Deal, Activity, Task):
        if not policy.allows(model.object_type, "view"):
            continue
        if policy.sees_all:
            q |= Q(object_type=model.object_type)
        else:
            ids = model.objects.restrict(user).values("pk")
            q |= Q(object_type=model.object_type, object_id__in=ids)
    return ObjectChange.objects.filter(q)
