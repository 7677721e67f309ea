"""One filter language for lists, exports, segments and rules: ``field`` or ``field__op`` = value.

Operators: eq (default), ne, in (comma-separated), gt, gte, lt, lte, contains, isnull.
Custom fields are ``cf_<key>`` with the same operators, typed by their definition.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime

from crm.core import crypto, recordtypes
from crm.core.errors import BadRequest

OPS = {"eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "isnull"}
ORDERED = {"int", "decimal", "date", "datetime", "str"}
HASHED_OPS = {"eq", "ne", "in", "isnull"}  # an encrypted value compares only by its keyed hash
# Values the databases can compare: 64-bit integers, and decimals far beyond any stored amount
# but not so large (1e999999999) that the driver or the database overflows.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
DECIMAL_EXPONENT_LIMIT = 40


@dataclass(frozen=True)
class Field:
    lookup: str  # the ORM path, e.g. "owner_id" or "tags__name"
    kind: str  # int, decimal, str, bool, date, datetime, choice, uuid
    choices: tuple[str, ...] = ()
    # A generic link (``contact`` on activities): the condition is on the link rows' ``record_id``,
    # and ``via`` turns it into the rows that have such a link.
    via: Callable[[Q | None], Q] | None = None


def filter_fields_of(rt) -> dict[str, Field]:
    """The filters a declared record type offers (crm.core.recordtypes): its filterable fields. A choice
    takes one of its values (the OpenAPI document lists them as an enum); another is a 400, not an
    empty list that reads as "no such records"."""
    out = {}
    for f in rt.fields:
        if f.filterable and f.link:
            out[f.name] = Field("record_id", "int", via=lambda q, t=f.link: rt.model.linked_q(t, q))
        elif f.filterable:
            out[f.name] = Field(f.filter_lookup, f.kind, choices=tuple(value for value, _ in f.choices))
    return out


def _convert(kind: str, raw: str, choices=()):
    try:
        if kind == "int":
            value = int(raw)
            return value if INT_MIN <= value <= INT_MAX else _bad()
        if kind == "decimal":
            value = decimal.Decimal(raw)
            ok = value.is_finite() and (not value or abs(value.adjusted()) <= DECIMAL_EXPONENT_LIMIT)
            return value if ok else _bad()
        if kind == "uuid":
            return uuid.UUID(raw)
        if kind == "bool":
            return {"true": True, "1": True, "false": False, "0": False}[raw.lower()]
        if kind == "date":
            return parse_date(raw) or _bad()
        if kind == "datetime":
            value = parse_datetime(raw) or (
                dt.datetime.combine(parse_date(raw), dt.time(), tzinfo=dt.UTC) if parse_date(raw) else _bad()
            )
            # In UTC: PostgreSQL refuses an offset beyond ±15:59, which ISO 8601 (and the schema) allows.
            return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if kind == "choice" and choices and raw not in choices:
            return _bad()
        return raw
    except (ValueError, KeyError, decimal.InvalidOperation, TypeError, OverflowError):
        raise ValueError(raw) from None


def _bad():
    raise ValueError


def _custom_field(key: str, kinds: dict[str, str]) -> Field:
    if key not in kinds:
        raise BadRequest(f"Unknown custom field {key!r}.", fields={f"cf_{key}": "Unknown custom field."})
    if kinds[key] == "money":  # {"amount", "currency"}: filters compare the amount
        return Field(f"custom_fields__{key}__amount", "decimal")
    if kinds[key] == "hashed":  # encrypted: {"c": ciphertext, "h": keyed hash}; equality compares the hash
        return Field(f"custom_fields__{key}__h", "hashed")
    return Field(f"custom_fields__{key}", kinds[key])


def refuse_hidden(names: Mapping[str, str], hidden: frozenset[str], *, sort: str = "") -> None:
    """400 for a filter or sort on a field hidden from the user's role (crm/access/fieldrules.py):
    which records match would tell its values. ``names``: {parameter: the field it is on}."""
    if not hidden:
        return
    errors = {
        param: "This field is hidden from your role: you may not filter on it."
        for param, f in names.items()
        if f in hidden
    }
    if sort and names.get("sort") in hidden:
        errors["sort"] = f"This field is hidden from your role: you may not sort by {sort!r}."
    if errors:
        raise BadRequest("You may not filter or sort on a field hidden from your role.", fields=errors)


def spans_many(model, params: Mapping[str, str], fields: Mapping[str, Field]) -> bool:
    """Whether a filter goes through a to-many relation (tags, emails, ...): a plain filter would then
    return a record once per matching related row."""
    for name in params:
        field = fields.get(name.partition("__")[0])
        if field is None or "__" not in field.lookup:
            continue
        relation = model._meta.get_field(field.lookup.split("__", 1)[0])
        if relation.many_to_many or relation.one_to_many:
            return True
    return False


def build_q(object_type: str, params: Mapping[str, str], fields: Mapping[str, Field]) -> Q:
    """Q for all given filters (AND); unknown names or bad values raise BadRequest (400)."""
    q = Q()
    kinds = None
    errors: dict[str, str] = {}
    for name, raw in params.items():
        base, _, op = name.partition("__")
        op = op or "eq"
        if base.startswith("cf_"):
            kinds = kinds if kinds is not None else recordtypes.custom_field_kinds(object_type)
            field = _custom_field(base[3:], kinds)
        elif base in fields:
            field = fields[base]
        else:
            errors[name] = "Unknown filter."
            continue
        if op not in OPS:
            errors[name] = f"Unknown operator {op!r}; use one of {', '.join(sorted(OPS))}."
            continue
        if field.kind == "hashed" and op not in HASHED_OPS:
            errors[name] = "An encrypted field filters by equality only (eq, ne, in, isnull)."
            continue
        try:
            if "\x00" in raw:  # no database compares text with NUL in it (PostgreSQL refuses it)
                raise ValueError(raw)
            q &= _condition(field, op, raw)
        except ValueError:
            errors[name] = f"Not a valid {field.kind} value: {raw!r}."
    if errors:
        raise BadRequest("Some filters are not valid.", fields=errors)
    return q


def _condition(field: Field, op: str, raw: str) -> Q:
    if field.via is not None:
        return _link_condition(field, op, raw)
    path = field.lookup
    if op == "isnull":
        empty = Q(**{f"{path}__isnull": True})
        if field.kind in ("str", "choice") and not path.startswith("custom_fields"):
            empty |= Q(**{path: ""})
        if path.startswith("custom_fields"):
            empty |= Q(**{path: None})  # a key holding JSON null is as empty as a missing key
        return empty if _convert("bool", raw) else ~empty
    if path.startswith("custom_fields") and op != "ne":
        # SQLite reads a JSON null as the text 'null' (greater than any number, containing "nul"):
        # a comparison must never match it.
        return _value_condition(field, op, raw) & ~Q(**{path: None})
    return _value_condition(field, op, raw)


def _link_condition(field: Field, op: str, raw: str) -> Q:
    """``contact=5``: linked to contact 5; ``contact__ne=5``: not linked to it; ``contact__isnull``:
    linked to no contact (true) or to some (false)."""
    if op == "isnull":
        return ~field.via(None) if _convert("bool", raw) else field.via(None)
    if op == "ne":
        return ~field.via(_value_condition(replace(field, via=None), "eq", raw))
    return field.via(_value_condition(replace(field, via=None), op, raw))


def _value_condition(field: Field, op: str, raw: str) -> Q:
    path = field.lookup
    if field.kind == "hashed":  # the keyed hash of the value asked for (crm.core.crypto.lookup_hash)
        values = [v for v in raw.split(",") if v] if op == "in" else [raw]
        hashes = [crypto.lookup_hash(v) for v in values]
        if op == "in":
            return Q(**{f"{path}__in": hashes})
        return ~Q(**{path: hashes[0]}) if op == "ne" else Q(**{path: hashes[0]})
    if field.kind == "multi":
        if op not in ("eq", "contains"):
            raise ValueError(raw)
        # JSON arrays: match the quoted value inside the stored list (portable across databases).
        return Q(**{f"{path}__icontains": f'"{raw}"'})
    if op == "in":
        return Q(**{f"{path}__in": [_convert(field.kind, v, field.choices) for v in raw.split(",") if v]})
    if op == "contains":
        return Q(**{f"{path}__icontains": raw})
    value = _convert(field.kind, raw, field.choices)
    if field.kind == "decimal" and path.startswith("custom_fields"):
        value = float(value)
    if field.kind == "datetime" and path.startswith("custom_fields"):
        value = value.astimezone(dt.UTC).isoformat()  # as values are stored (UTC ISO text), so it compares
    elif field.kind == "date" and path.startswith("custom_fields"):
        value = value.isoformat()  # JSON holds text: a date object cannot even be sent as a JSON parameter
    if op == "eq":
        return Q(**{f"{path}__iexact" if field.kind == "str" else path: value})
    if op == "ne":
        return ~Q(**{path: value})
    if field.kind not in ORDERED:
        raise ValueError(raw)
    return Q(**{f"{path}__{op}": value})
