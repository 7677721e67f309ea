"""A write counter for the memo's fingerprint (crm/forecast/memo.py), raised by database triggers.

The fingerprint used to aggregate the deal table (count, sum of versions, latest update) on every
forecast read: 0.9 s at 300,000 deals, and blind to writes that bypass the version (``QuerySet.update``,
raw SQL, bulk loads). Triggers on the tables the forecast learns from see every write, whatever
wrote it — services, bulk moves, imports, merges, erasure, the benchmark loaders, raw SQL — so the
fingerprint reads a few counter rows (``Generation``) instead.

- SQLite: a row trigger per table and operation raises slot 0 in the writing transaction (SQLite
  serializes writers, so one row costs no concurrency).
- PostgreSQL: raising one row in every writing transaction would make concurrent writers queue on it,
  and a writer holding it while waiting for a deal row locked by another could deadlock. So the raise
  is a *deferred* constraint trigger: it runs at commit, after every statement of the transaction,
  and raises the slot ``txid % SLOTS`` once per transaction (a transaction-local setting remembers
  it); a transaction holds the slot only while committing. Until then an immediate statement trigger
  marks the transaction (``forecast.pending`` = its id and a count of its writing statements), which
  the fingerprint includes, so a transaction reads its own writes afresh too, each one (and tests,
  which run inside one transaction, see them).
  TRUNCATE raises at once (no row triggers for it).
"""

from __future__ import annotations

from django.db import connection

SLOTS = 64
# Everything a forecast, its remembered history, its period groups or the backtest is computed from.
TABLES = (
    "records_deal",
    "records_stagechange",
    "records_stage",
    "forecast_dealcategory",
    "forecast_stagecategory",
    "money_exchangerate",
    "predict_dealscore",
)

_PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION forecast_generation_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- this transaction's id and how many of its statements wrote: each write changes it
  PERFORM set_config('forecast.pending', txid_current()::text || ':' ||
    (COALESCE(NULLIF(split_part(current_setting('forecast.pending', true), ':', 2), ''), '0')::bigint + 1)::text,
    true);
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION forecast_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('forecast.bumped', true) IS DISTINCT FROM txid_current()::text THEN
    PERFORM set_config('forecast.bumped', txid_current()::text, true);
    INSERT INTO forecast_generation (slot, value) VALUES (txid_current() % {slots}, 1)
      ON CONFLICT (slot) DO UPDATE SET value = forecast_generation.value + 1;
  END IF;
  RETURN NULL;
END $$;
"""


def _pg_statements(existing: set[tuple[str, str]]) -> list[str]:
    out = [_PG_FUNCTIONS.format(slots=SLOTS)]
    for table in TABLES:
        out += [
            f"CREATE TRIGGER forecast_gen_pending AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION forecast_generation_pending()",
            f"CREATE CONSTRAINT TRIGGER forecast_gen_bump AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION forecast_generation_bump()",
            f"CREATE TRIGGER forecast_gen_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION forecast_generation_bump()",
        ]
    return [sql for sql in out if _pg_trigger(sql) not in existing]


def _pg_trigger(sql: str) -> tuple[str, str] | None:
    """(trigger, table) a CREATE TRIGGER statement makes; None for the functions."""
    words = sql.split()
    if "TRIGGER" not in words:
        return None
    return words[words.index("TRIGGER") + 1], words[words.index("ON") + 1]


def _sqlite_statements() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS forecast_gen_{table}_{op.lower()} AFTER {op} ON {table} BEGIN "
        "INSERT INTO forecast_generation (slot, value) VALUES (0, 1) "
        "ON CONFLICT (slot) DO UPDATE SET value = value + 1; END"
        for table in TABLES
        for op in ("INSERT", "UPDATE", "DELETE")
    ]


def install(schema_editor) -> None:
    """The triggers, those missing only (the migration that adds the table, and after every migrate:
    on SQLite a migration that alters a table copies it into a new one, which drops its triggers).
    A trigger adds its counter row when missing (a flushed table included)."""
    ensure(schema_editor.connection)


def ensure(conn=connection) -> None:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'forecast_gen_%%'")
            statements = _pg_statements({tuple(row) for row in cursor.fetchall()})
        else:
            statements = _sqlite_statements()
        for sql in statements:
            cursor.execute(sql)


def installed(conn=connection) -> int:
    """How many of the triggers exist (tests: every one, after any migration)."""
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE 'forecast_gen_%%'")
        else:
            cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'forecast_gen_%'")
        return cursor.fetchone()[0]


def migrated(sender, using="default", **kwargs) -> None:
    """``post_migrate``: the triggers a migration may have dropped are made again."""
    from django.db import connections

    if "forecast_generation" in connections[using].introspection.table_names():
        ensure(connections[using])


def uninstall(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            for name in ("forecast_gen_pending", "forecast_gen_bump", "forecast_gen_truncate"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS forecast_generation_pending()")
        schema_editor.execute("DROP FUNCTION IF EXISTS forecast_generation_bump()")
    else:
        for table in TABLES:
            for op in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS forecast_gen_{table}_{op}")


def current() -> tuple:
    """The counters (and, on PostgreSQL, this transaction's mark when it has written): changes with
    every committed write to ``TABLES``, and within a transaction with its own writes."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT COALESCE(current_setting('forecast.pending', true), ''), "
                "(SELECT string_agg(value::text, ',' ORDER BY slot) FROM forecast_generation)"
            )
        else:
            cursor.execute("SELECT group_concat(value, ',') FROM (SELECT value FROM forecast_generation ORDER BY slot)")
        return tuple(cursor.fetchone())
