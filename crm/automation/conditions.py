"""Rule conditions in the shared filter language (crm.core.filters), grouped with AND/OR.

Stored as ``{"all": [...], "any": [...]}``; each item is ``{"field", "op", "value"}`` or a nested
group. Comparisons compile to the same Q a list view's ``?field__op=value`` builds and run in SQL
on the record's restricted queryset; ``changed`` (optionally from/to) reads the event's diff.
"""

from __future__ import annotations

from django.db.models import Q

from crm.core import recordtypes
from crm.core.errors import BadRequest, ValidationFailed
from crm.core.filters import filter_fields_of
from crm.customization import secrets

ALIASES = {
    "equals": "eq",
    "not_equals": "ne",
    "greater": "gt",
    "less": "lt",
    "in_list": "in",
    "is_empty": "isnull",
}
OPS = {"eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "isnull", "is_not_empty", "changed"}
NEVER = Q(pk__in=[])


def models_by_type() -> dict:
    """The models of the types rules can fire on (their declaration's ``triggers``)."""
    return {rt.object_type: rt.model for rt in recordtypes.all_types() if rt.triggers}


def records_of(object_type: str):
    """Every record of a type rules can fire on (custom types share one model: never ``model.objects``)."""
    rt = recordtypes.by_type(object_type)
    if rt is None:  # a rule on a custom type deleted since
        raise KeyError(object_type)
    return rt.objects()


def filter_fields(object_type: str) -> dict:
    """The filter fields the list API offers for this type: one vocabulary for lists and rules."""
    rt = recordtypes.by_type(object_type)
    if rt is None:
        raise BadRequest(f"Unknown object type {object_type!r}.")
    return filter_fields_of(rt)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _leaf_q(object_type: str, item: dict, changes: dict | None) -> Q:
    from crm.core.filters import build_q

    field, op, value = item.get("field"), ALIASES.get(item.get("op", "eq"), item.get("op", "eq")), item.get("value")
    if op == "changed":
        if changes is None:  # no event (test mode, schedules): nothing changed
            return NEVER
        return Q() if changed(field, item, changes, object_type) else NEVER
    if op == "is_not_empty":
        op, value = "isnull", False
    elif op == "isnull" and value is None:
        value = True
    return build_q(object_type, {f"{field}__{op}": _text(value)}, filter_fields(object_type))


def changed(field: str, item: dict, changes: dict, object_type: str = "") -> bool:
    """Did ``field`` change in this event (and from/to the given values, when given)? A custom object
    type's fields are named by their key; they change inside ``custom_fields``."""
    rt = recordtypes.by_type(object_type) if object_type else None
    if rt is not None and rt.run_time and field not in ("name", "owner") and not field.startswith("cf_"):
        field = f"cf_{field}"
    if field.startswith("cf_"):
        before, after = (changes.get("custom_fields") or [{}, {}])[:2]
        # The diff holds encrypted values as envelopes: compare what they say, not their ciphertext.
        pair = [secrets.open_or_none((side or {}).get(field[3:])) for side in (before, after)]
        if pair[0] == pair[1]:
            return False
    else:
        pair = changes.get(field) or changes.get(f"{field}_id")
        if pair is None:
            return False
    if "from" in item and _text(pair[0]) != _text(item["from"]):
        return False
    return not ("to" in item and _text(pair[1]) != _text(item["to"]))


def to_q(object_type: str, group: dict | None, changes: dict | None = None) -> Q:
    group = group or {}
    q = Q()
    for item in group.get("all") or []:
        q &= _node_q(object_type, item, changes)
    anys = group.get("any") or []
    if anys:
        any_q = NEVER
        for item in anys:
            any_q |= _node_q(object_type, item, changes)
        q &= any_q
    return q


def _node_q(object_type: str, item: dict, changes: dict | None) -> Q:
    if "all" in item or "any" in item:
        return to_q(object_type, item, changes)
    return _leaf_q(object_type, item, changes)


def validate(object_type: str, group) -> dict:
    """Check the shape, fields, operators and values; raise ValidationFailed with a clear path."""
    if group in (None, {}):
        return {}
    if not isinstance(group, dict) or set(group) - {"all", "any"}:
        raise ValidationFailed({"conditions": 'Use {"all": [...], "any": [...]}.'})
    errors: dict[str, str] = {}
    _validate_group(object_type, group, "conditions", errors)
    if errors:
        raise ValidationFailed(errors)
    return group


def _validate_group(object_type: str, group: dict, path: str, errors: dict) -> None:
    for key in ("all", "any"):
        items = group.get(key) or []
        if not isinstance(items, list):
            errors[f"{path}.{key}"] = "Must be a list."
            continue
        for i, item in enumerate(items):
            where = f"{path}.{key}.{i}"
            if not isinstance(item, dict):
                errors[where] = "Must be an object."
            elif "all" in item or "any" in item:
                _validate_group(object_type, item, where, errors)
            else:
                _validate_leaf(object_type, item, where, errors)


def _validate_leaf(object_type: str, item: dict, where: str, errors: dict) -> None:
    op = ALIASES.get(item.get("op", "eq"), item.get("op", "eq"))
    if not isinstance(item.get("field"), str) or not item["field"]:
        errors[f"{where}.field"] = "Say which field to compare."
        return
    if op not in OPS:
        errors[f"{where}.op"] = f"Unknown operator {op!r}; use one of {', '.join(sorted(OPS | set(ALIASES)))}."
        return
    if op == "changed":
        model = models_by_type()[object_type]
        names = {f.name for f in model._meta.concrete_fields} | set(filter_fields(object_type))
        if not (item["field"] in names or item["field"].startswith("cf_")):
            errors[f"{where}.field"] = f"Unknown field {item['field']!r}."
        return
    try:
        _leaf_q(object_type, item, None)
    except BadRequest as exc:
        errors[f"{where}"] = "; ".join(exc.fields.values()) or exc.message


def explain(object_type: str, group: dict | None, object_id: int, actor, changes: dict | None) -> list[dict]:
    """Each leaf condition with its own result, for the rule test mode."""
    qs = records_of(object_type).restrict(actor, "view").filter(pk=object_id)
    out = []

    def walk(g):
        for key in ("all", "any"):
            for item in (g or {}).get(key) or []:
                if "all" in item or "any" in item:
                    walk(item)
                else:
                    result = qs.filter(_leaf_q(object_type, item, changes)).exists()
                    out.append({**item, "group": key, "result": result})

    walk(group)
    return out


def matches(object_type: str, group: dict | None, object_id: int, actor, changes: dict | None) -> bool:
    visible = records_of(object_type).restrict(actor, "view")
    return visible.filter(pk=object_id).filter(to_q(object_type, group, changes)).exists()
