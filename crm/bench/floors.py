"""The raw-SQL floors: for each API figure, the SQL that returns the same data, run directly on the
same database from the benchmark process. API time / floor time is the cost of everything between
the HTTP socket and the database (parsing, auth, permissions, ORM, serialization)."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from crm.search.backends import backend as search_backend
from crm.search.registry import fold, row_key

DEAL_CARD = "id, name, amount, currency, owner_id, company_id, expected_close_date, probability, stage_changed_at"
SEARCH_TABLES = {
    "company": "records_company",
    "contact": "records_contact",
    "lead": "records_lead",
    "deal": "records_deal",
}


def _rows(sql: str, params=()) -> list:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _in(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids) or "NULL"


def deal_list(owner_id: int, stage_id: int) -> list:
    deals = _rows(
        "SELECT * FROM records_deal WHERE owner_id = %s AND stage_id = %s ORDER BY updated_at DESC, id DESC LIMIT 51",
        [owner_id, stage_id],
    )
    ids = _in([r[0] for r in deals])
    _rows(f"SELECT t.deal_id, g.id, g.name FROM records_deal_tags t JOIN records_tag g ON g.id = t.tag_id "
          f"WHERE t.deal_id IN ({ids})")  # fmt: skip
    _rows(f"SELECT * FROM records_dealcontact WHERE deal_id IN ({ids})")
    return deals


def contact_detail(pk: int) -> list:
    row = _rows("SELECT * FROM records_contact WHERE id = %s", [pk])
    _rows("SELECT t.contact_id, g.id, g.name FROM records_contact_tags t JOIN records_tag g ON g.id = t.tag_id "
          "WHERE t.contact_id = %s", [pk])  # fmt: skip
    _rows("SELECT * FROM records_contactemail WHERE contact_id = %s ORDER BY is_primary DESC, id", [pk])
    _rows("SELECT * FROM records_contactphone WHERE contact_id = %s ORDER BY is_primary DESC, id", [pk])
    return row


def contact_timeline(pk: int) -> list:
    acts = _rows(
        "SELECT a.*, u.username FROM records_activitylink l JOIN records_activity a ON a.id = l.activity_id "
        "LEFT JOIN auth_user u ON u.id = a.owner_id WHERE l.record_type = 'contact' AND l.record_id = %s "
        "ORDER BY l.occurred_at DESC, l.activity_id DESC LIMIT 50",
        [pk],
    )
    _rows(
        "SELECT t.*, u.username FROM records_tasklink l JOIN records_task t ON t.id = l.task_id "
        "LEFT JOIN auth_user u ON u.id = t.assignee_id WHERE l.record_type = 'contact' AND l.record_id = %s "
        "ORDER BY t.created_at DESC LIMIT 50",
        [pk],
    )
    _rows(
        "SELECT * FROM audit_objectchange WHERE object_type = 'contact' AND object_id = %s "
        "ORDER BY time DESC, id DESC LIMIT 50",
        [pk],
    )
    return acts


def search(q: str) -> list:
    """What crm.search.query.search runs for an admin: per type the name-prefix range of the
    search_name index; for the types where that gives fewer than 10, the text matches' best names
    from search_name, then their records."""
    words = fold(q).split()[:8]
    folded = " ".join(words)
    upper = folded[:-1] + chr(ord(folded[-1]) + 1)
    found, short = [], {}
    for object_type, table in SEARCH_TABLES.items():
        top = _rows(
            f"SELECT t.* FROM search_name s JOIN {table} t ON t.id = s.object_id WHERE s.kind = %s "
            f"AND s.name_key >= %s AND s.name_key < %s ORDER BY s.name_key, t.id LIMIT 10",
            [object_type, folded, upper],
        )
        found += top
        if len(top) < 10:
            short[object_type] = 10 - len(top)
    for kind, need in short.items():
        rows_sql, params = search_backend().match_rows_sql(kind, words, phrase="@" in q)
        ids = _rows(
            f"SELECT object_id FROM search_name WHERE id IN ({rows_sql}) AND (name_key < %s OR name_key >= %s) "
            f"ORDER BY name_key, object_id LIMIT 40",
            [*params, folded, upper],
        )
        if ids:
            rows = {
                r[0]: r for r in _rows(f"SELECT * FROM {SEARCH_TABLES[kind]} WHERE id IN ({_in([r[0] for r in ids])})")
            }
            found += [rows[i] for (i,) in ids if i in rows][:need]
    return found


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _index_row(pk: int, body: str, name_key: str) -> None:
    key = row_key("contact", pk)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO search_name(id, kind, object_id, name_key) VALUES (%s, 'contact', %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET name_key = EXCLUDED.name_key",
            [key, pk, name_key],
        )
        if connection.vendor == "sqlite":
            cur.execute("DELETE FROM search_fts WHERE rowid = %s", [key])
            cur.execute(
                "INSERT INTO search_fts(rowid, kind, object_id, body) VALUES (%s, 'contact', %s, %s)",
                [key, pk, body],
            )
        else:
            cur.execute(
                "INSERT INTO search_document(id, kind, object_id, body) VALUES (%s, 'contact', %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
                [key, pk, body],
            )


def _change(pk: int, action: str, changes: str, now) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO audit_objectchange (time, user_name, action, object_type, object_id, object_repr, "
            "changes, source) VALUES (%s, 'bench', %s, 'contact', %s, 'floor', %s, 'api')",
            [now, action, pk, changes],
        )


def contact_create(first: str, last: str, email: str, owner_id: int) -> int:
    now = _now()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO records_contact (version, created_at, updated_at, custom_fields, street, city, region, "
            "postal_code, country, first_name, last_name, name, title, email, phone, lifecycle_stage, source, "
            "email_opt_in, email_opt_in_source, owner_id) VALUES (1, %s, %s, '{}', '', '', '', '', '', %s, %s, "
            "%s, '', %s, '', '', '', %s, '', %s) RETURNING id",
            [now, now, first, last, f"{first} {last}", email, False, owner_id],
        )
        pk = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO records_contactemail (email, kind, is_primary, contact_id) VALUES (%s, 'work', %s, %s)",
            [email, True, pk],
        )
        _index_row(pk, f"{fold(first)} {fold(last)} {fold(email)}", fold(f"{first} {last}"))
        _change(pk, "create", '{"name": [null, "x"]}', now)
    return pk


def contact_update(pk: int, title: str) -> None:
    now = _now()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT * FROM records_contact WHERE id = %s", [pk])  # the service re-reads under lock
        cur.execute(
            "UPDATE records_contact SET title = %s, version = version + 1, updated_at = %s WHERE id = %s",
            [title, now, pk],
        )
        cur.execute("SELECT name, email FROM records_contact WHERE id = %s", [pk])
        name, email = cur.fetchone()
        _index_row(pk, f"{fold(name)} {fold(title)} {fold(email)}", fold(name))
        _change(pk, "update", '{"title": ["a", "b"]}', now)


def board(pipeline_id: int, stage_ids: list[int], cards: int = 20) -> list:
    totals = _rows(
        "SELECT stage_id, currency, COUNT(*), SUM(amount), SUM(amount * probability) FROM records_deal "
        "WHERE pipeline_id = %s GROUP BY stage_id, currency",
        [pipeline_id],
    )
    for stage_id in stage_ids:
        _rows(
            f"SELECT {DEAL_CARD} FROM records_deal WHERE pipeline_id = %s AND stage_id = %s "
            f"ORDER BY stage_changed_at DESC, id DESC LIMIT %s",
            [pipeline_id, stage_id, cards + 1],
        )
    return totals


def forecast() -> list:
    return _rows(
        "SELECT expected_close_date, currency, COUNT(*), SUM(amount), SUM(amount * probability) FROM records_deal "
        "WHERE status = 'open' GROUP BY expected_close_date, currency"
    )


def funnel() -> list:
    return _rows("SELECT to_stage_id, COUNT(DISTINCT deal_id) FROM records_stagechange GROUP BY to_stage_id")
