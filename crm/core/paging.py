"""Cursor (keyset) pagination over a sort key plus id: fast on page 1 and on page 20,000 alike,
with no COUNT(*). Nulls sort last in both directions on both databases.

A custom field (a key of the JSON column ``custom_fields``) is paged in two phases, each of which an
index serves: first the rows that have a value, by (value, id) with a plain ORDER BY on the very
expression the objects app indexes (``json_value_sql``; crm/objects/indexes.py); then the rows
without one (missing key, JSON null), by id. A cursor's value says its phase: ``null`` is the second."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import BooleanField, F, Func, JSONField, Q, QuerySet
from django.db.models.fields.json import compile_json_path

from crm.core.errors import BadRequest

INT_MIN, INT_MAX = -(2**63), 2**63 - 1


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


def json_value_sql(column: str, key: str, vendor: str) -> str:
    """SQL of the value under ``key`` of a JSON column, as the per-field indexes hold it. The key is
    written as a literal (never a parameter): SQLite matches an index expression only against the
    same text, constants included. Keys are ``[a-z][a-z0-9_]*`` (CustomField.key); quotes are
    doubled anyway, and ``%`` is doubled for the driver's parameter style."""
    if vendor == "postgresql":
        literal = key
    else:
        literal = compile_json_path([key])  # '$."seats"', as Django's own lookups read it
    literal = "'" + literal.replace("'", "''").replace("%", "%%") + "'"
    if vendor == "postgresql":
        return f"({column} -> {literal})"
    return f"json_extract({column}, {literal})"


class JsonValue(Func):
    """A custom field's value, in the form its index holds (the ORDER BY of phase one)."""

    output_field = JSONField()

    def __init__(self, key: str):
        super().__init__(F("custom_fields"))
        self.key = key

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.get_source_expressions()[0])
        return json_value_sql(column, self.key, connection.vendor), params


class _Seek(Func):
    """(value, id) strictly after a cursor's in the sort's direction: one row-value comparison, which
    both databases answer with a range of the (type, value, id) index."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, key: str, value, pk: int, descending: bool):
        super().__init__(F("custom_fields"), F("pk"))
        self.key, self.value, self.pk, self.descending = key, value, pk, descending

    def as_sql(self, compiler, connection, **extra):
        (column, params), (id_column, id_params) = (compiler.compile(e) for e in self.get_source_expressions())
        value = json_value_sql(column, self.key, connection.vendor)
        if connection.vendor == "postgresql":
            rhs, param = "%s::jsonb", json.dumps(self.value)
        else:
            rhs, param = "%s", self.value  # json_extract gives SQL numbers, text and 1/0 for booleans
        op = "<" if self.descending else ">"
        return f"(({value}, {id_column}) {op} ({rhs}, %s))", (*params, *id_params, param, self.pk)


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


def _sort_key(sort: Sort) -> str:
    return f"-{sort.path}" if sort.descending else sort.path


def encode_cursor(value, pk: int, sort: Sort | None = None) -> str:
    data = {"v": _encode(value), "id": pk}
    if sort is not None:
        data["s"] = _sort_key(sort)
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor(message: str = "Use the 'next' value of a previous page.") -> BadRequest:
    return BadRequest("The cursor is not valid.", fields={"cursor": message})


def decode_cursor(cursor: str, sort: Sort | None = None, model=None):
    """(value, id) of a cursor made for this sort; anything else is a 400, never a database error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value, pk = _decode(data["v"]), data["id"]
    except (ValueError, KeyError, TypeError, ArithmeticError):
        raise _bad_cursor() from None
    if not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk <= INT_MAX:
        raise _bad_cursor()
    if sort is not None:
        if data.get("s") != _sort_key(sort):
            raise _bad_cursor("This cursor belongs to another sort order; start again from the first page.")
        if not _fits(model, sort, value):
            raise _bad_cursor()
    return value, pk


def _fits(model, sort: Sort, value) -> bool:
    """Whether ``value`` has the type _encode gives the sort field's values (so the query cannot fail)."""
    if value is None:
        return True
    if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if isinstance(value, decimal.Decimal) and (not value.is_finite() or (value and abs(value.adjusted()) > 40)):
        return False
    if isinstance(value, str) and "\x00" in value:  # PostgreSQL refuses NUL in text
        return False
    if sort.path.startswith("custom_fields__"):
        return isinstance(value, str | int | float | bool)
    try:
        field = model._meta.get_field(sort.path) if model is not None else None
    except FieldDoesNotExist:
        field = None
    if field is None:
        return isinstance(value, str | int | float | bool | decimal.Decimal | dt.date)
    if isinstance(field, models.DateTimeField):
        return isinstance(value, dt.datetime) and value.tzinfo is not None
    if isinstance(field, models.DateField):
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if isinstance(field, models.DecimalField):
        return isinstance(value, decimal.Decimal)
    if isinstance(field, models.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, models.IntegerField | models.AutoField | models.ForeignKey):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(field, models.CharField | models.TextField):
        return isinstance(value, str)
    return isinstance(value, str | int | float | bool)


def _nullable(model, sort: Sort) -> bool:
    if _is_custom(sort) or "__" in sort.path:
        return True
    try:
        return model._meta.get_field(sort.path).null
    except FieldDoesNotExist:
        return True


def _is_custom(sort: Sort) -> bool:
    return sort.path.startswith("custom_fields__")


def _empty(sort: Sort) -> Q:
    """Rows without a value: SQL NULL, and for a custom field also a missing key or a JSON null
    (which the databases would otherwise sort as the text 'null' or a jsonb null, not last)."""
    empty = Q(**{f"{sort.path}__isnull": True})
    if _is_custom(sort):
        empty |= Q(**{sort.path: None})
    return empty


def _after(sort: Sort, value, pk: int) -> Q:
    """Rows strictly after (value, pk) in the order (nulls last, id in the sort's direction)."""
    path = sort.path
    gt = "lt" if sort.descending else "gt"
    if value is None:
        return _empty(sort) & Q(**{f"pk__{gt}": pk})
    later = Q(**{f"{path}__{gt}": value}) | Q(**{path: value, f"pk__{gt}": pk})
    return later | _empty(sort)


def page(qs: QuerySet, sort: Sort, *, limit: int, cursor: str | None) -> tuple[list, str | None]:
    value, pk = decode_cursor(cursor, sort, qs.model) if cursor else (None, None)
    if _is_custom(sort):
        rows = _custom_rows(qs, sort, limit + 1, value, pk, started=cursor is not None)
    else:
        rows = _model_rows(qs, sort, limit + 1, value, pk)
    more = len(rows) > limit
    rows = rows[:limit]
    if not more:
        return rows, None
    last = rows[-1]
    return rows, encode_cursor(_value_of(last, sort.path), last.pk, sort)


def _model_rows(qs: QuerySet, sort: Sort, n: int, value, pk: int | None) -> list:
    expr = F(sort.path)
    # NULLS LAST only where a NULL can occur: on PostgreSQL "DESC NULLS LAST" cannot walk a plain
    # index backwards, so a NOT NULL column sorted newest first would sort the whole match set.
    nulls = {"nulls_last": True} if _nullable(qs.model, sort) else {}
    order = expr.desc(**nulls) if sort.descending else expr.asc(**nulls)
    qs = qs.order_by(order, "-pk" if sort.descending else "pk")
    if pk is not None:
        qs = qs.filter(_after(sort, value, pk))
    return list(qs[:n])


def _custom_rows(qs: QuerySet, sort: Sort, n: int, value, pk: int | None, *, started: bool) -> list:
    """Phase one (rows with a value, by value then id), then phase two (the empty ones, by id)."""
    key = sort.path.split("__", 1)[1]
    rows: list = []
    if not started or value is not None:  # a cursor with a null value is already in phase two
        value_expr = JsonValue(key)
        # A plain ORDER BY (PostgreSQL: DESC means NULLS FIRST, but no NULL is left) so an index on
        # (type, value, id), walked forwards or backwards, gives the rows in order.
        order = value_expr.desc() if sort.descending else value_expr.asc()
        first = qs.filter(~_empty(sort)).order_by(order, "-pk" if sort.descending else "pk")
        if started:
            first = first.filter(_Seek(key, value, pk, sort.descending))
        rows = list(first[:n])
        pk = None  # phase two starts at its beginning
    if len(rows) < n:
        second = qs.filter(_empty(sort)).order_by("-pk" if sort.descending else "pk")
        if pk is not None:
            second = second.filter(**{"pk__lt" if sort.descending else "pk__gt": pk})
        rows += list(second[: n - len(rows)])
    return rows


def _value_of(obj, path: str):
    if path.startswith("custom_fields__"):
        return (obj.custom_fields or {}).get(path.split("__", 1)[1])
    for part in path.split("__"):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj
