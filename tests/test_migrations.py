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
    """Unapply access.0002 and the access migrations after it only. Other apps' migrations that depend
    on it for schema alone (an FK to Team, made in 0001) stay applied: unapplying them too would
    re-render every app's state, ~10 s for nothing."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    [leaf] = graph.leaf_nodes("access")
    chain = [n for n in reversed(graph.forwards_plan(leaf)) if n[0] == "access" and n[1] >= DATA_MIGRATION[1]]
    executor.migrate([("access", "0001_initial")], plan=[(graph.nodes[n], True) for n in chain])
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
        # The role as 0001 made it: today's model has columns (requires_two_factor, field_access) not there yet.
        OldRole = MigrationExecutor(connection).loader.project_state(("access", "0001_initial")).apps.get_model(
            "access", "Role"
        )
        OldRole.objects.all().delete()
        mine = OldRole.objects.create(name="Field sales", slug="sales-rep", scope="team", permissions=CUSTOM)
        renamed = OldRole.objects.create(name="Read-only", slug="auditors", scope="all", permissions={})

        migrate(latest)

        mine = Role.objects.get(pk=mine.pk)
        assert (mine.name, mine.scope, mine.permissions, mine.is_admin) == ("Field sales", "team", CUSTOM, False)
        renamed = Role.objects.get(pk=renamed.pk)
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


SEARCH_KINDS = ("search", "0003_search_kinds")


def _search_rows() -> list[tuple]:
    table, key = ("search_fts", "rowid") if connection.vendor == "sqlite" else ("search_document", "id")
    with connection.cursor() as cur:
        cur.execute(f"SELECT {key}, kind, object_id FROM {table} ORDER BY 1")
        text = cur.fetchall()
        cur.execute("SELECT id, kind, object_id, name_key FROM search_name ORDER BY 1")
        return [text, cur.fetchall()]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_search_rows_are_rekeyed_from_16_types_to_any_number():
    """Rows indexed as object_id * 16 + code come out as object_id << 20 | the type's number, found
    again. Contact 1's new key is contact 65536's old one: a one-step update would collide."""
    from crm.records.models import Contact
    from crm.search.models import SearchKind
    from crm.search.query import search
    from tests.factories import UserFactory

    latest = leaf_nodes()
    boss = UserFactory(username="boss", role="admin")
    ids = [1, 65536, 65537, 131072]  # 1 << 20 | 2 is 65536 * 16 + 2
    try:
        _unapply(*_records_after(SEARCH_KINDS), SEARCH_KINDS)  # the later search migrations first
        table, key = ("search_fts", "rowid") if connection.vendor == "sqlite" else ("search_document", "id")
        for pk in ids:
            # A contact and its index rows as the old code wrote them (contacts had code 2).
            Contact.objects.create(pk=pk, first_name="Ann", last_name=f"Zed{pk}", name=f"Ann Zed{pk}", owner=boss)
            with connection.cursor() as cur:
                cur.execute(f"INSERT INTO {table} ({key}, kind, object_id, body) VALUES (%s, 'contact', %s, %s)",
                            [pk * 16 + 2, pk, f"ann zed{pk}"])  # fmt: skip
                cur.execute("INSERT INTO search_name (id, kind, object_id, name_key) VALUES (%s, 'contact', %s, %s)",
                            [pk * 16 + 2, pk, f"ann zed{pk}"])  # fmt: skip
        migrate(latest)
        text, names = _search_rows()
        assert text == [((pk << 20) | 2, "contact", pk) for pk in ids]
        assert names == [((pk << 20) | 2, "contact", pk, f"ann zed{pk}") for pk in ids]
        assert dict(SearchKind.objects.values_list("object_type", "pk")) == {
            "company": 1,
            "contact": 2,
            "lead": 3,
            "deal": 4,
        }
        assert [c.pk for c in search(boss, "zed65537")["contact"]] == [65537]
        # New types number on from there (the search above may have numbered other searchable types,
        # how many depends on which the process has met: the four kept their numbers, that is the point).
        last = max(SearchKind.objects.values_list("pk", flat=True))
        assert last >= 4 and SearchKind.objects.create(object_type="vehicle").pk == last + 1
    finally:
        migrate(latest)


GENERIC_LINKS = ("records", "0004_generic_links")
LINK_TIMES = ("records", "0005_activitylink_occurred_at")


def _records_after(node) -> list:
    """The records migrations after ``node`` (newest first): unapplied before it, so a later one
    (a field's new choices) never stays applied on top of a missing table."""
    graph = MigrationExecutor(connection).loader.graph
    return [n for n in graph.backwards_plan(node) if n[0] == node[0] and n != node]


def _unapply(*nodes) -> None:
    """Unapply ``nodes``, in the order given (the later migration first)."""
    executor = MigrationExecutor(connection)
    executor.migrate([], plan=[(executor.loader.graph.nodes[node], True) for node in nodes])
    applied = MigrationExecutor(connection).loader.applied_migrations
    assert not any(node in applied for node in nodes)


def _columns(table: str, pk: int) -> tuple:
    with connection.cursor() as cur:
        cur.execute(f"SELECT company_id, contact_id, lead_id, deal_id FROM {table} WHERE id = %s", [pk])
        return cur.fetchone()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_activity_and_task_links_move_to_the_generic_link_tables_and_back():
    """Every per-type foreign key becomes a link row; the timeline reads the same; going back
    restores the columns."""
    from crm.records.models import Activity, Task
    from crm.records.timeline import timeline
    from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory, UserFactory

    latest = leaf_nodes()
    boss = UserFactory(username="boss", role="admin")
    acme, ann = CompanyFactory(owner=boss), ContactFactory(owner=boss)
    lead, deal = LeadFactory(owner=boss), DealFactory(owner=boss)
    now = "2026-01-02 03:04:05"
    try:
        _unapply(*_records_after(LINK_TIMES), LINK_TIMES, GENERIC_LINKS)
        with connection.cursor() as cur:
            # As the old code wrote them: one column per linked type.
            rows = ((1, acme.pk, ann.pk, None, deal.pk), (2, None, None, lead.pk, None), (3, None, None, None, None))
            for pk, company, contact, lead_id, deal_id in rows:
                cur.execute(
                    "INSERT INTO records_activity (id, version, created_at, updated_at, custom_fields, kind, subject, "
                    "body, occurred_at, direction, outcome, owner_id, company_id, contact_id, lead_id, deal_id) "
                    "VALUES (%s, 1, %s, %s, '{}', 'call', %s, '', %s, '', '', %s, %s, %s, %s, %s)",
                    [pk, now, now, f"Call {pk}", now, boss.pk, company, contact, lead_id, deal_id],
                )
            cur.execute(
                "INSERT INTO records_task (id, version, created_at, updated_at, custom_fields, title, description, "
                "status, priority, assignee_id, created_by_id, company_id, contact_id, lead_id, deal_id) "
                "VALUES (7, 1, %s, %s, '{}', 'Follow up', '', 'open', 'normal', %s, %s, NULL, %s, NULL, %s)",
                [now, now, boss.pk, boss.pk, ann.pk, deal.pk],
            )

        migrate(latest)

        def links(obj):
            return sorted((lk.record_type, lk.record_id) for lk in obj.links.all())

        assert links(Activity.objects.get(pk=1)) == sorted(
            [("company", acme.pk), ("contact", ann.pk), ("deal", deal.pk)]
        )
        assert links(Activity.objects.get(pk=2)) == [("lead", lead.pk)]
        assert links(Activity.objects.get(pk=3)) == []
        assert links(Task.objects.get(pk=7)) == sorted([("contact", ann.pk), ("deal", deal.pk)])
        copied = {lk.occurred_at for lk in Activity.objects.get(pk=1).links.all()}
        assert copied == {Activity.objects.get(pk=1).occurred_at}  # the timeline index's copy (0005)
        on_ann = [(e["kind"], e["object"].pk) for e in timeline(ann, boss) if e["kind"] != "change"]
        assert sorted(on_ann) == [("activity", 1), ("task", 7)]
        assert [e["object"].pk for e in timeline(lead, boss, kinds=("activity",))] == [2]

        _unapply(*_records_after(LINK_TIMES), LINK_TIMES, GENERIC_LINKS)
        assert _columns("records_activity", 1) == (acme.pk, ann.pk, None, deal.pk)
        assert _columns("records_activity", 2) == (None, None, lead.pk, None)
        assert _columns("records_task", 7) == (None, ann.pk, None, deal.pk)
    finally:
        migrate(latest)
