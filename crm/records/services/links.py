"""Writing the generic links of activities and tasks (crm/records/models/links.py).

A service's ``data`` says which records an activity or task is about in either of two ways:
``links``, a list of ``{"type": "contact", "id": 42}`` that replaces every link, or the shorthands
``company_id``, ``contact_id``, ``lead_id`` and ``deal_id`` (what the API and the forms have always
sent): naming a record already linked changes nothing, another one replaces the links of its type,
null removes them. A linked record must be of a type with a timeline
and one the actor can see; the links of a type whose link field is hidden from or read-only for the
actor's role may not change (crm.access.fieldrules.refuse_link_changes).
"""

from __future__ import annotations

from django.db.models import Q

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes

SHORTHANDS = ("company", "contact", "lead", "deal")  # <type>_id keys of the API and forms
Pair = tuple[str, int]


def wanted(obj, data: dict, actor, errors: dict) -> list[Pair] | None:
    """The links the row should have after this write, or None when ``data`` leaves them alone.
    Takes ``links`` and the ``<type>_id`` shorthands out of ``data``; a bad one is a field error
    under the key it came in."""
    if not _asked(data):
        return None
    before = _current(obj)
    pairs, given = _take(data, before, errors)
    _check_visible([(pairs, given)], actor, [errors])
    _check_rules(obj, actor, [(before, pairs, given)], [errors])
    return pairs


def wanted_many(items: list[dict], actor, errors: list[dict], model=None) -> list[list[Pair]]:
    """``wanted`` for many new rows (a bulk create): one query per linked type for the whole batch."""
    taken = [_take(d, [], e) if _asked(d) else ([], {}) for d, e in zip(items, errors, strict=True)]
    _check_visible(taken, actor, errors)
    _check_rules(model, actor, [([], p, g) for p, g in taken], errors)
    return [pairs for pairs, _ in taken]


def _check_rules(obj_or_model, actor, changes, errors: list[dict]) -> None:
    """The role's field rules on the links: no link of a hidden or read-only type added or removed."""
    rt = recordtypes.of(obj_or_model)
    if rt is None:
        return
    policy = policy_for(actor)
    for (before, after, given), err in zip(changes, errors, strict=True):
        for key, message in fieldrules.refuse_link_changes(policy, rt, before, after, given).items():
            err.setdefault(key, message)


def _asked(data: dict) -> bool:
    return "links" in data or any(f"{t}_id" in data for t in SHORTHANDS)


def _take(data: dict, pairs: list[Pair], errors: dict) -> tuple[list[Pair], dict[Pair, str]]:
    """``pairs`` changed as ``data`` says, and each pair it names -> the key it came in (for errors)."""
    given: dict[Pair, str] = {}
    if "links" in data:
        pairs = _parse_links(data.pop("links"), errors)
        given |= dict.fromkeys(pairs, "links")
    for t in SHORTHANDS:
        if f"{t}_id" in data:
            pk = data.pop(f"{t}_id")
            if pk is not None and (not isinstance(pk, int) or isinstance(pk, bool)):
                errors[f"{t}_id"] = f"Not a record id: {pk!r}."
                continue
            if (t, pk) not in pairs:  # naming a record already linked changes nothing
                pairs = [p for p in pairs if p[0] != t] + ([(t, pk)] if pk is not None else [])
            given[(t, pk)] = f"{t}_id"
    return list(dict.fromkeys(pairs)), given


def _current(obj) -> list[Pair]:
    return [(lk.record_type, lk.record_id) for lk in obj.links.order_by("pk")] if obj.pk else []


def _parse_links(raw, errors: dict) -> list[Pair]:
    if raw is not None and not isinstance(raw, list | tuple):
        errors["links"] = 'Must be a list of {"type": ..., "id": ...}.'
        return []
    pairs = []
    for item in raw or []:
        t, pk = (item.get("type"), item.get("id")) if isinstance(item, dict) else (None, None)
        rt = recordtypes.by_type(t) if isinstance(t, str) else None
        if rt is None or not rt.timeline:
            errors["links"] = f"Cannot link to a record of type {t!r}."
        elif not isinstance(pk, int) or isinstance(pk, bool) or pk < 1:
            errors["links"] = f"Not a record id: {pk!r}."
        else:
            pairs.append((t, pk))
    return pairs


def _check_visible(taken: list[tuple[list[Pair], dict]], actor, errors: list[dict]) -> None:
    """Each newly named record must be one the actor can see (links kept from before are not
    re-checked: a record shared with the author may since have moved out of the editor's sight)."""
    named: dict[str, set[int]] = {}
    for pairs, given in taken:
        for t, pk in pairs:
            if (t, pk) in given:
                named.setdefault(t, set()).add(pk)
    seen = {
        t: set(recordtypes.by_type(t).restricted(actor, "view").filter(pk__in=ids).values_list("pk", flat=True))
        for t, ids in named.items()
    }
    for (pairs, given), err in zip(taken, errors, strict=True):
        for t, pk in pairs:
            if (t, pk) in given and pk not in seen[t]:
                err[given[(t, pk)]] = f"No {recordtypes.by_type(t).singular} with id {pk}."


def insert_many(model, rows: list[tuple[object, list[Pair]]]) -> None:
    """The links of many new rows of ``model`` (Activity or Task), in one statement per chunk."""
    link, fk = model.links.rel.related_model, model.links.field.name
    made = [link(**{fk: o}, record_type=t, record_id=pk, **o.link_values()) for o, pairs in rows for t, pk in pairs]
    link.objects.bulk_create(made, batch_size=500)


def apply(obj, pairs: list[Pair] | None) -> None:
    """Make the row's links exactly ``pairs`` (None: leave them), touching only what changes."""
    if pairs is None:
        return
    existing = {(lk.record_type, lk.record_id): lk.pk for lk in obj.links.all()}
    gone = [pk for pair, pk in existing.items() if pair not in pairs]
    if gone:
        obj.links.filter(pk__in=gone).delete()
    new = [p for p in pairs if p not in existing]
    if new:
        link = type(obj).links.rel.related_model
        fk = type(obj).links.field.name
        values = obj.link_values()
        link.objects.bulk_create([link(**{fk: obj}, record_type=t, record_id=pk, **values) for t, pk in new])
    if hasattr(obj, "_prefetched_objects_cache"):
        obj._prefetched_objects_cache.pop("links", None)


def link_models() -> list:
    from crm.records.models import ActivityLink, TaskLink

    return [ActivityLink, TaskLink]


def unlink(object_type: str, pks) -> None:
    """Records about to be deleted: the activities and tasks about them stay, without the link
    (as the old foreign keys were set to NULL)."""
    pks = list(pks)
    for model in link_models():
        for i in range(0, len(pks), 500):
            model.objects.filter(record_type=object_type, record_id__in=pks[i : i + 500]).delete()


def holders_of(object_type: str, pk: int) -> dict[type, Q]:
    """{Activity or Task: the condition matching rows linked to the record}."""
    from crm.records.models import Activity, Task

    return {m: m.linked_q(object_type, Q(record_id=pk)) for m in (Activity, Task)}


def move(object_type: str, old_pk: int, new_pk: int, *, actor) -> dict[str, int]:
    """A merge: the activities and tasks linked to record ``old_pk`` are linked to ``new_pk`` instead
    (a row linked to both keeps one link). Each moved row gets a version bump and a change-log entry
    naming the link that changed (services/moves.py). Returns counts per model, for the merge log."""
    from crm.records.models import Activity, Task
    from crm.records.services import moves

    out = {}
    for model in (Activity, Task):
        link, fk = model.links.rel.related_model, f"{model.links.field.name}_id"
        rows = link.objects.filter(record_type=object_type, record_id=old_pk)
        holders = set(rows.values_list(fk, flat=True))
        if not holders:
            continue
        before = moves.before_of(model, holders)
        both = link.objects.filter(record_type=object_type, record_id=new_pk).values(fk)
        rows.filter(**{f"{fk}__in": both}).delete()
        rows.update(record_id=new_pk)
        moves.log_changed(model, before, actor=actor)
        out[f"{model._meta.label_lower}.links"] = len(holders)
    return out
