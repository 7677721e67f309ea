"""Sorting custom records by a value: rows with a value by (value, id), then the empty ones (missing key,
JSON null) by id, across pages whose boundary falls anywhere, the switch between the two included."""

import pytest

from crm.objects import services
from crm.objects.models import CustomRecord
from tests.conftest import Api

pytestmark = pytest.mark.django_db
BASE = "/objects/vehicles"
FIELDS = [
    {"key": "seats", "label": "Seats", "field_type": "integer"},
    {"key": "model", "label": "Model", "field_type": "text"},
    {"key": "eco", "label": "Eco", "field_type": "boolean"},
]
# (seats, model, eco) per record; None is a JSON null, "-" a missing key.
ROWS = [(4, "b", True), ("-", "-", "-"), (2, "a", False), (None, None, None), (4, "b", False), (9, "c", True),
        ("-", "a", "-"), (2, None, True), (None, "-", None)]  # fmt: skip


@pytest.fixture
def records(boss):
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": FIELDS}
    vehicle = services.object_type_create(actor=boss, data=data)
    made = []
    for i, row in enumerate(ROWS):
        values = {key: value for key, value in zip(("seats", "model", "eco"), row, strict=True) if value != "-"}
        made.append(CustomRecord.objects.create(type=vehicle, name=f"r{i}", custom_fields=values))
    return made


def expected(records, key: str, descending: bool) -> list[int]:
    full = [r for r in records if r.custom_fields.get(key) is not None]
    empty = [r for r in records if r.custom_fields.get(key) is None]
    full.sort(key=lambda r: (r.custom_fields[key], r.pk), reverse=descending)
    empty.sort(key=lambda r: r.pk, reverse=descending)
    return [r.pk for r in full + empty]


def walk(api: Api, sort: str, limit: int) -> list[int]:
    ids, cursor = [], None
    while True:
        r = api.get(BASE, {"sort": sort, "limit": limit} | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.content
        ids += [item["id"] for item in r.json()["items"]]
        cursor = r.json()["next"]
        if not cursor:
            return ids


@pytest.mark.parametrize("key", ["seats", "model", "eco"])
@pytest.mark.parametrize("descending", [False, True])
def test_every_page_size_gives_the_same_order(records, boss, key, descending):
    want = expected(records, key, descending)
    sort = f"-{key}" if descending else key
    for limit in range(1, len(ROWS) + 1):
        assert walk(Api(boss), sort, limit) == want, limit


@pytest.mark.parametrize("descending", [False, True])
def test_a_page_ending_exactly_at_the_last_value(records, boss, descending):
    """Five records have seats: the first page ends on the last of them, the next one starts the empty
    rows at their first (the cursor carries the value, so phase one is asked again and is exhausted)."""
    sort = "-seats" if descending else "seats"
    want = expected(records, "seats", descending)
    first = Api(boss).get(BASE, {"sort": sort, "limit": 5}).json()
    assert [i["id"] for i in first["items"]] == want[:5] and first["next"]
    assert all(i["values"].get("seats") is not None for i in first["items"])
    second = Api(boss).get(BASE, {"sort": sort, "limit": 5, "cursor": first["next"]}).json()
    assert [i["id"] for i in second["items"]] == want[5:] and second["next"] is None
    # One short of the switch: the second page holds the last value and then the empty rows.
    first = Api(boss).get(BASE, {"sort": sort, "limit": 4}).json()
    second = Api(boss).get(BASE, {"sort": sort, "limit": 4, "cursor": first["next"]}).json()
    assert [i["id"] for i in second["items"]] == want[4:8] and second["next"]


def test_a_cursor_of_another_sort_is_refused(records, boss):
    first = Api(boss).get(BASE, {"sort": "seats", "limit": 6}).json()
    r = Api(boss).get(BASE, {"sort": "-seats", "limit": 6, "cursor": first["next"]})
    assert r.status_code == 400 and "cursor" in r.json()["error"]["fields"]
