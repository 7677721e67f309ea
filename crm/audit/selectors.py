"""Reading the change log: a user sees the changes of records they can currently see; admins and
all-scope users also see those of deleted records. Every reader of entries (the API feeds, the
timelines, the web history and edit-conflict box) takes them through ``for_reader``, which masks the
values of fields hidden from the reader's role (crm/access/fieldrules.py)."""

from __future__ import annotations

from django.db.models import Q

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.audit.models import ObjectChange
from crm.core import recordtypes

# What a hidden field's before and after read as: the reader sees that it changed, not to what.
MASK = "(hidden)"
CUSTOM_KEYS = ("custom_fields", "values")  # a custom value per key: each masked by its own rule


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


def for_reader(user, entries):
    """``entries`` (ObjectChange rows) as ``user`` may read them: each hidden field's values replaced by
    MASK, in place. The rows are display copies from then on: never save them."""
    entries = list(entries)
    policy = policy_for(user)
    for entry in entries:
        entry.changes = masked_changes(policy, entry.object_type, entry.changes)
    return entries


def masked_changes(policy, object_type: str, changes) -> dict:
    """``changes`` ({key: [before, after]}) with the values of fields hidden from ``policy`` masked; the
    keys stay. Keys are the snapshot's (``owner_id``, ``emails``, ``custom_fields``...), mapped to the
    rule's field names by the one mapping in fieldrules."""
    hidden = policy.hidden_fields(object_type)
    rt = recordtypes.by_type(object_type) if hidden else None
    if rt is None or not isinstance(changes, dict):
        return changes
    known = fieldrules.aliases(rt)
    out = {}
    for key, pair in changes.items():
        if key in CUSTOM_KEYS and isinstance(pair, list):
            out[key] = [_custom(rt, side, hidden) for side in pair]
        elif key == fieldrules.LINKS and isinstance(pair, list):  # each link of a hidden type masked
            types = fieldrules.link_types(rt, hidden)
            out[key] = [fieldrules.kept_links(side, types, MASK) for side in pair]
        elif fieldrules.field_of(rt, key, known) in hidden:
            out[key] = [MASK for _ in pair] if isinstance(pair, list) else MASK
        else:
            out[key] = pair
    return out


def _custom(rt, values, hidden):
    if not isinstance(values, dict):
        return values
    return {k: MASK if fieldrules.custom_name(rt, k) in hidden else v for k, v in values.items()}
