"""The built-in roles data migration is safe to run on a database that already holds data."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.access.builtin_roles import BUILTIN_ROLES
from crm.access.models import Role

DATA_MIGRATION = ("access", "0002_builtin_roles")
CUSTOM = {"contact": ["view"], "deal": ["view", "change"]}


def migrate(targets):
    MigrationExecutor(connection).migrate(targets)  # a new executor reads what is applied now


def migrate_access_back_to_0001():
    """Unapply access.0002 only. Migrations that depend on it for schema alone (an FK to Team, made in
    0001) stay applied: unapplying them too would re-render every app's state, ~10 s for nothing."""
    executor = MigrationExecutor(connection)
    migration = executor.loader.graph.nodes[DATA_MIGRATION]
    executor.migrate([("access", "0001_initial")], plan=[(migration, True)])
    assert DATA_MIGRATION not in MigrationExecutor(connection).loader.applied_migrations


def leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


# serialized_rollback like every transactional test here: the flush after a plain one re-creates
# content types, which then collide with the next serialized test's restore.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_builtin_roles_migration_keeps_existing_roles_and_adds_missing_ones():
    latest = leaf_nodes()
    try:
        migrate_access_back_to_0001()
        Role.objects.all().delete()
        mine = Role.objects.create(name="Field sales", slug="sales-rep", scope="team", permissions=CUSTOM)
        renamed = Role.objects.create(name="Read-only", slug="auditors", scope="all", permissions={})

        migrate(latest)

        mine.refresh_from_db()
        assert (mine.name, mine.scope, mine.permissions, mine.is_admin) == ("Field sales", "team", CUSTOM, False)
        renamed.refresh_from_db()
        assert (renamed.slug, renamed.permissions) == ("auditors", {})  # same name: the admin's own, kept
        slugs = set(Role.objects.values_list("slug", flat=True))
        expected = {spec["slug"] for spec in BUILTIN_ROLES} - {"read-only"} | {"auditors"}
        assert slugs == expected
        admin = Role.objects.get(slug="admin")
        assert admin.is_admin and admin.scope == "all"
        manager_deal = Role.objects.get(slug="sales-manager").permissions["deal"]
        assert manager_deal == ["view", "add", "change", "delete", "export"]
    finally:
        migrate(latest)  # leave the schema fully migrated for the tests after this one

    applied = MigrationExecutor(connection).loader.applied_migrations
    assert all(node in applied for node in latest)
