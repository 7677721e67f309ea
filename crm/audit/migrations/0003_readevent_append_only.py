"""The read audit is append-only at the database level too: triggers refuse UPDATE and DELETE on
audit_readevent, whatever the client (the app, the admin, a SQL shell).

Two ways through, both narrow:
- a user being deleted: the row's user_id may go to NULL when nothing else changes (the FK's SET_NULL;
  user_name keeps who it was);
- a maintenance flush (Django's `flush`, which the tests run after each transactional test): allowed
  only while crm.audit.reads.maintenance() marks it — PostgreSQL: the session setting
  crm.audit_maintenance = 'on' (TRUNCATE, which flush uses, is refused otherwise); SQLite: a row in the
  one-purpose table audit_maintenance (not a Django model, so flush never empties it).
A table rebuild by a later migration on SQLite drops these triggers: such a migration must re-create them.
"""

from django.db import migrations

REFUSED = "read audit is append-only"
COLUMNS = ("id", "time", "user_name", "action", "object_type", "object_id", "count", "detail", "request_id", "source")

SQLITE_FORWARD = [
    "CREATE TABLE audit_maintenance (flush integer NOT NULL)",
    f"""CREATE TRIGGER audit_readevent_no_update BEFORE UPDATE ON audit_readevent
    WHEN NOT (NEW.user_id IS NULL AND OLD.user_id IS NOT NULL AND {" AND ".join(f"NEW.{c} IS OLD.{c}" for c in COLUMNS)})
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
    f"""CREATE TRIGGER audit_readevent_no_delete BEFORE DELETE ON audit_readevent
    WHEN NOT EXISTS (SELECT 1 FROM audit_maintenance)
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_readevent_no_delete",
    "DROP TRIGGER IF EXISTS audit_readevent_no_update",
    "DROP TABLE IF EXISTS audit_maintenance",
]

POSTGRES_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION audit_readevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('crm.audit_maintenance', true) = 'on' THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL AND OLD.user_id IS NOT NULL
           AND (to_jsonb(NEW) - 'user_id') = (to_jsonb(OLD) - 'user_id') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{REFUSED}' USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER audit_readevent_no_update BEFORE UPDATE ON audit_readevent
    FOR EACH ROW EXECUTE FUNCTION audit_readevent_append_only()""",
    """CREATE TRIGGER audit_readevent_no_delete BEFORE DELETE ON audit_readevent
    FOR EACH ROW EXECUTE FUNCTION audit_readevent_append_only()""",
    """CREATE TRIGGER audit_readevent_no_truncate BEFORE TRUNCATE ON audit_readevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_readevent_append_only()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_readevent_no_truncate ON audit_readevent",
    "DROP TRIGGER IF EXISTS audit_readevent_no_delete ON audit_readevent",
    "DROP TRIGGER IF EXISTS audit_readevent_no_update ON audit_readevent",
    "DROP FUNCTION IF EXISTS audit_readevent_append_only()",
]

SQL = {"sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD), "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD)}


def _run(schema_editor, forward: bool):
    statements = SQL.get(schema_editor.connection.vendor)
    if statements is None:
        raise RuntimeError(f"No append-only triggers for {schema_editor.connection.vendor}: the read audit needs them.")
    for sql in statements[0 if forward else 1]:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_readevent")]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: _run(schema_editor, True),
            lambda apps, schema_editor: _run(schema_editor, False),
        ),
    ]
