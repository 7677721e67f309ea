"""Each sortable value key of a custom type has an expression index while a field keeps it, and the
list sorted by that value reads its page from the index (the plan names it) on both databases."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.customization import services as field_services
from crm.objects import indexes, services
from crm.objects.models import CustomRecord
from tests.conftest import Api

pytestmark = pytest.mark.django_db
FIELDS = [
    {"key": "seats", "label": "Seats", "field_type": "integer"},
    {"key": "fuel", "label": "Fuel", "field_type": "choice", "choices": ["petrol", "electric"]},
    {"key": "extras", "label": "Extras", "field_type": "multi_choice", "choices": ["tow", "roof"]},
    {"key": "price", "label": "Price", "field_type": "money"},
    {"key": "notes", "label": "Notes", "field_type": "long_text"},
]


def make(boss, key="vehicle", fields=FIELDS):
    data = {"key": key, "singular": key.title(), "plural": f"{key.title()}s", "slug": f"{key}s", "fields": fields}
    return services.object_type_create(actor=boss, data=data)


def indexed() -> set[str]:
    """The keys that have an index now."""
    with connection.cursor() as cursor:
        return {k for k in ("name", "seats", "fuel", "extras", "price", "notes", "places") if indexes.exists(cursor, k)}


def field(object_type, key):
    return field_services.CustomField.objects.get(object_type=object_type.key, key=key)


def test_sortable_fields_get_an_index_and_lose_it_with_the_field_or_the_type(boss):
    vehicle = make(boss)
    assert indexed() == {"seats", "fuel"}  # not a list, an amount with its currency, prose
    field_services.custom_field_delete(field(vehicle, "fuel"), actor=boss)
    assert indexed() == {"seats"}
    services.object_type_delete(vehicle, actor=boss)
    assert indexed() == set()


def test_a_key_shared_by_two_types_keeps_its_index_until_the_last_field_goes(boss):
    vehicle = make(boss)
    boat = make(boss, "boat", [{"key": "seats", "label": "Seats", "field_type": "decimal"}])
    services.object_type_delete(vehicle, actor=boss)
    assert indexed() == {"seats"}
    services.object_type_delete(boat, actor=boss)
    assert indexed() == set()


def test_a_field_that_changes_key_or_type_moves_or_drops_its_index(boss):
    vehicle = make(boss)
    field_services.custom_field_update(field(vehicle, "seats"), actor=boss, data={"key": "places"})
    assert indexed() == {"places", "fuel"}
    field_services.custom_field_update(field(vehicle, "fuel"), actor=boss, data={"field_type": "long_text"})
    assert indexed() == {"places"}


def test_a_field_of_a_built_in_type_gets_none(boss):
    data = {"object_type": "contact", "key": "seats", "label": "Seats", "field_type": "integer"}
    field_services.custom_field_create(actor=boss, data=data)
    assert indexed() == set()


def test_the_data_migration_indexes_the_fields_that_exist(boss):
    make(boss)
    with connection.cursor() as cursor:
        for key in ("seats", "fuel"):
            cursor.execute(indexes.drop_sql(key))
    migration = importlib.import_module("crm.objects.migrations.0003_value_sort_indexes")
    # Django's schema editor refuses to open inside a test's transaction on SQLite; the migration
    # uses only its connection.
    migration.create(apps, SimpleNamespace(connection=connection))
    assert indexed() == {"seats", "fuel"}


def list_query(boss, sort: str) -> str:
    """The SQL of the page query of GET /objects/vehicles?sort=..., as it ran."""
    with CaptureQueriesContext(connection) as ctx:
        r = Api(boss).get("/objects/vehicles", {"sort": sort, "limit": 5})
    assert r.status_code == 200, r.content
    [sql] = [q["sql"] for q in ctx.captured_queries if "ORDER BY" in q["sql"] and "objects_customrecord" in q["sql"]]
    return sql


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A few hundred rows: PostgreSQL would rather read them all. Take away the alternatives
            # (a full scan, a sort) to see whether the index matches the query at all.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("EXPLAIN " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.parametrize("sort", ["-seats", "seats"])
def test_the_list_sorted_by_a_value_reads_the_index(boss, sort):
    vehicle = make(boss)
    CustomRecord.objects.bulk_create(
        CustomRecord(type=vehicle, name=f"v{i}", custom_fields={"seats": i % 40} if i % 7 else {}) for i in range(300)
    )
    first = plan(list_query(boss, sort))
    assert "cr_v_seats" in first, first
    assert "TEMP B-TREE" not in first and "Sort" not in first, first  # no sort of the match set
    # A next page seeks in the index too (the cursor's (value, id) is a range of it).
    r = Api(boss).get("/objects/vehicles", {"sort": sort, "limit": 5})
    with CaptureQueriesContext(connection) as ctx:
        Api(boss).get("/objects/vehicles", {"sort": sort, "limit": 5, "cursor": r.json()["next"]})
    [sql] = [q["sql"] for q in ctx.captured_queries if "ORDER BY" in q["sql"] and "objects_customrecord" in q["sql"]]
    later = plan(sql)
    assert "cr_v_seats" in later and "TEMP B-TREE" not in later and "Sort" not in later, later


def test_a_field_added_in_the_transaction_that_wrote_records(boss):
    """PostgreSQL refuses CREATE INDEX while that transaction's foreign-key checks are pending."""
    vehicle = make(boss, fields=[])
    CustomRecord.objects.create(type=vehicle, name="Van", owner=boss)
    data = {"object_type": "vehicle", "key": "seats", "label": "Seats", "field_type": "integer"}
    field_services.custom_field_create(actor=boss, data=data)
    assert indexed() == {"seats"}
    CustomRecord.objects.create(type=vehicle, name="Bus", owner=boss, custom_fields={"seats": 40})
    field_services.custom_field_delete(field(vehicle, "seats"), actor=boss, confirm=True)
    assert indexed() == set()
