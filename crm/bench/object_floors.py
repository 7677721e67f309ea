"""The raw-SQL floors of the custom-object figures and of the contact figures beside them: the SQL that
returns the same page or record, written by hand for each database (a value of a custom record is read
from its JSON column the way Django's JSONField lookups read it: ``json_extract`` on SQLite, ``->`` on
PostgreSQL). ``cond`` is a (sql, params) pair; the ``owner`` arguments are a rep's own scope."""

from __future__ import annotations

from django.db import connection

from crm.bench.floors import _in, _rows

PAGE = 51  # a page of 50 and the one that tells there is a next page


def value(key: str) -> str:
    """The expression of a custom field's value (keys are the seed's own, never user input)."""
    if connection.vendor == "sqlite":
        return f"json_extract(custom_fields, '$.\"{key}\"')"  # as Django quotes it: the index matches this text
    return f"(custom_fields -> '{key}')"


def equals(key: str, text: str) -> tuple[str, list]:
    if connection.vendor == "sqlite":
        return f"{value(key)} = %s", [text]
    return f"{value(key)} = %s::jsonb", [f'"{text}"']


def greater(key: str, number: int) -> tuple[str, list]:
    if connection.vendor == "sqlite":
        return f"{value(key)} > %s", [number]
    return f"{value(key)} > %s::jsonb", [str(number)]


def _page(table: str, where: list[str], params: list, cond, owner: int | None, order: str) -> list:
    if cond[0]:
        where, params = [*where, cond[0]], [*params, *cond[1]]
    if owner is not None:
        where, params = [*where, "owner_id = %s"], [*params, owner]
    return _rows(f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {PAGE}", params)


def records(type_id: int, cond=("", []), order: str = "updated_at DESC, id DESC", owner: int | None = None) -> list:
    return _page("objects_customrecord", ["type_id = %s"], [type_id], cond, owner, order)


def record(type_id: int, pk: int) -> list:
    return _rows(
        "SELECT r.*, t.* FROM objects_customrecord r JOIN objects_objecttype t ON t.id = r.type_id "
        "WHERE r.id = %s AND r.type_id = %s",
        [pk, type_id],
    )


def contacts(cond=("", []), order: str = "updated_at DESC, id DESC", owner: int | None = None) -> list:
    """A page of contacts with what the API nests in each (tags, emails, phones)."""
    rows = _page("records_contact", ["1 = 1"], [], cond, owner, order)
    ids = _in([r[0] for r in rows])
    _rows(f"SELECT t.contact_id, g.id, g.name FROM records_contact_tags t JOIN records_tag g ON g.id = t.tag_id "
          f"WHERE t.contact_id IN ({ids})")  # fmt: skip
    _rows(f"SELECT * FROM records_contactemail WHERE contact_id IN ({ids}) ORDER BY is_primary DESC, id")
    _rows(f"SELECT * FROM records_contactphone WHERE contact_id IN ({ids}) ORDER BY is_primary DESC, id")
    return rows
