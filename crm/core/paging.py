"""Cursor (keyset) pagination over a sort key plus id: fast on page 1 and on page 20,000 alike,
with no COUNT(*). Nulls sort last in both directions on both databases."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.db.models.fields.json import KeyTransform

from crm.core.errors import BadRequest


@dataclass(frozen=True)
class Sort:
    path: str  # ORM field, or "custom_fields__<key>"
    descending: bool


def parse_sort(raw: str | None, allowed: dict[str, str], default: str) -> Sort:
    """``-amount`` -> Sort("amount", True); ``cf_region`` sorts by a custom field."""
    raw = (raw or default).strip()
    descending = raw.startswith("-")
    name = raw.lstrip("-")
    if name.startswith("cf_") and name[3:].replace("_", "").isalnum():
        return Sort(f"custom_fields__{name[3:]}", descending)
    if name not in allowed:
        raise BadRequest(
            f"Cannot sort by {name!r}.", fields={"sort": f"Use one of: {', '.join(sorted(allowed))}, or cf_<key>."}
        )
    return Sort(allowed[name], descending)


def _expr(sort: Sort):
    if sort.path.startswith("custom_fields__"):
        return KeyTransform(sort.path.split("__", 1)[1], "custom_fields")
    return F(sort.path)


def _encode(value):
    if isinstance(value, decimal.Decimal):
        return {"d": str(value)}
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"D": value.isoformat()}
    return value


def _decode(value):
    if isinstance(value, dict):
        if "d" in value:
            return decimal.Decimal(value["d"])
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "D" in value:
            return dt.date.fromisoformat(value["D"])
    return value


def encode_cursor(value, pk: int) -> str:
    raw = json.dumps({"v": _encode(value), "id": pk}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str):
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return _decode(data["v"]), int(data["id"])
    except (ValueError, KeyError, TypeError):
        raise BadRequest("The cursor is not valid.", fields={"cursor": "Use the 'next' value of a previous page."})


def _after(sort: Sort, value, pk: int) -> Q:
    """Rows strictly after (value, pk) in the order (sort nulls last, id in the same direction)."""
    path = sort.path
    gt, id_gt = ("lt", "lt") if sort.descending else ("gt", "gt")
    if value is None:
        return Q(**{f"{path}__isnull": True, f"pk__{id_gt}": pk})
    return Q(**{f"{path}__{gt}": value}) | Q(**{path: value, f"pk__{id_gt}": pk}) | Q(**{f"{path}__isnull": True})


def page(qs: QuerySet, sort: Sort, *, limit: int, cursor: str | None) -> tuple[list, str | None]:
    expr = _expr(sort)
    order = expr.desc(nulls_last=True) if sort.descending else expr.asc(nulls_last=True)
    qs = qs.order_by(order, "-pk" if sort.descending else "pk")
    if cursor:
        value, pk = decode_cursor(cursor)
        qs = qs.filter(_after(sort, value, pk))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return rows, None
    last = rows[-1]
    return rows, encode_cursor(_value_of(last, sort.path), last.pk)


def _value_of(obj, path: str):
    if path.startswith("custom_fields__"):
        return (obj.custom_fields or {}).get(path.split("__", 1)[1])
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj
