"""A custom type's search rows follow its definition: turning a field's ``searchable`` on makes existing
records findable by its values, turning it off (or deleting the last searchable field) removes them,
a changed name field renames the hits; a large type is reindexed by a job."""

import pytest
from django.db import connection

from crm.automation import jobs
from crm.automation.models import Job
from crm.customization.models import CustomField
from crm.customization.services import custom_field_create, custom_field_delete, custom_field_update
from crm.objects import services
from crm.objects.records import record_create
from crm.search import reindex
from crm.search.backends import backend
from tests.automation.conftest import IMMEDIATE
from tests.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def vehicle(boss):
    fields = [
        {"key": "plate", "label": "Plate", "field_type": "text"},
        {"key": "model", "label": "Model", "field_type": "text"},
    ]
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": fields}
    return services.object_type_create(actor=boss, data=data)


@pytest.fixture
def commit(django_capture_on_commit_callbacks, settings):
    """Run a block, then its on-commit callbacks (the reindex, jobs run in-process), as a commit would."""
    settings.TASKS = IMMEDIATE
    return lambda: django_capture_on_commit_callbacks(execute=True)


def found(user, q) -> list[str]:
    r = Api(user).get("/search", {"q": q})
    assert r.status_code == 200, r.content
    return [hit["name"] for hit in r.json().get("vehicle", [])]


def rows_of_type() -> list:
    sql, params = backend().match_sql("vehicle", ["van"])
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def field(key) -> CustomField:
    return CustomField.objects.get(object_type="vehicle", key=key)


def test_toggling_searchable_reindexes_existing_records(boss, vehicle, commit):
    record_create(actor=boss, object_type=vehicle, data={"name": "Blue van", "plate": "KX-204"})
    assert found(boss, "kx 204") == [] and found(boss, "blue") == []  # no searchable field: not indexed

    with commit():
        custom_field_update(field("plate"), actor=boss, data={"searchable": True})
    assert found(boss, "kx 204") == ["Blue van"] and found(boss, "blue") == ["Blue van"]

    with commit():
        custom_field_update(field("plate"), actor=boss, data={"searchable": False})
    assert found(boss, "kx 204") == [] and found(boss, "blue") == []
    assert rows_of_type() == []


def test_adding_and_deleting_the_last_searchable_field(boss, vehicle, commit):
    record_create(actor=boss, object_type=vehicle, data={"name": "Blue van", "model": "Transit"})
    with commit():
        custom_field_update(field("model"), actor=boss, data={"searchable": True})
    with commit():
        custom_field_create(
            actor=boss,
            data={
                "object_type": "vehicle",
                "key": "colour",
                "label": "Colour",
                "field_type": "text",
                "searchable": True,
            },
        )
    assert found(boss, "transit") == ["Blue van"]
    with commit():
        custom_field_delete(field("colour"), actor=boss)
    assert found(boss, "transit") == ["Blue van"]  # another field is still searchable
    with commit():
        custom_field_delete(field("model"), actor=boss, confirm=True)  # the type's last searchable field
    assert found(boss, "blue") == [] and rows_of_type() == []


def test_a_new_name_field_renames_the_hits(boss, vehicle, commit):
    record_create(actor=boss, object_type=vehicle, data={"name": "Blue van", "model": "Transit", "plate": "KX"})
    with commit():
        custom_field_update(field("plate"), actor=boss, data={"searchable": True})
    assert found(boss, "blue") == ["Blue van"]
    with commit():
        services.object_type_update(vehicle, actor=boss, data={"name_field": "model"})
    assert found(boss, "transit") == ["Transit"] and found(boss, "blue") == []


def test_a_large_type_is_reindexed_by_a_job(boss, vehicle, commit, monkeypatch):
    monkeypatch.setattr(reindex, "INLINE_RECORDS", 1)
    for name in ("Blue van", "Red van"):
        record_create(actor=boss, object_type=vehicle, data={"name": name, "plate": "KX"})
    with commit():
        custom_field_update(field("plate"), actor=boss, data={"searchable": True})
    job = Job.objects.get(kind="search.reindex")
    assert job.payload == {"object_type": "vehicle"}
    jobs.run_due()
    assert sorted(found(boss, "van")) == ["Blue van", "Red van"]
