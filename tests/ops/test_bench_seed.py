"""The benchmark seed at scale `tiny`: the counts, the integrity, the data as the app sees it, and the
custom-object figures (their floors return what the API returns; the figures run in process)."""

import math
import time

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from crm.access.models import ApiToken
from crm.bench import object_figures
from crm.bench import object_floors as floors
from crm.bench.scales import SCALES
from crm.bench.seed import seed
from crm.core import recordtypes
from crm.customization.validation import clean_custom_fields
from crm.objects.models import CustomRecord, ObjectType
from crm.records.models import (
    Activity,
    ActivityLink,
    Company,
    Contact,
    Deal,
    DealStatus,
    Lead,
    Pipeline,
    StageChange,
    TaskLink,
)
from crm.search import index as search_index
from crm.search.backends import backend

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
TINY = SCALES["tiny"]


def _index_rows() -> list[tuple]:
    table = "search_fts" if connection.vendor == "sqlite" else "search_document"
    key = "rowid" if connection.vendor == "sqlite" else "id"
    with connection.cursor() as cur:
        cur.execute(f"SELECT {key}, kind, object_id, body FROM {table} ORDER BY {key}")
        text = [tuple(r) for r in cur.fetchall()]
        cur.execute("SELECT id, kind, object_id, name_key FROM search_name ORDER BY id")
        return text + [tuple(r) for r in cur.fetchall()]


def test_seed_at_scale_tiny(api):
    """One seed (it is the slow part), then each property of it in turn."""
    try:
        seeded = seed(TINY)
        _check_counts_and_skew(seeded)
        _check_foreign_keys()
        _check_search_index_is_what_the_app_would_write()
        _check_the_api_works_on_seeded_data(api)
        _check_custom_records(api)
        _check_object_floors_return_what_the_api_returns(api)
        _check_object_figures()
    finally:
        backend().clear()  # the index tables are not Django models: the test flush leaves them


def _check_counts_and_skew(seeded):
    assert Contact.objects.count() == TINY.contacts
    assert Company.objects.count() == TINY.companies
    assert Deal.objects.count() == TINY.deals
    assert Activity.objects.count() == TINY.activities
    assert Lead.objects.count() == TINY.leads
    assert seeded["rows"] == sum(seeded["tables"].values())
    board = Pipeline.objects.get(name="Board")
    assert Deal.objects.filter(pipeline=board, status=DealStatus.OPEN).count() == TINY.board_open_deals
    # Every deal has its stage history, ending in the stage it is in.
    assert StageChange.objects.values("deal").distinct().count() == TINY.deals
    last = StageChange.objects.order_by("-changed_at", "-id").filter(deal_id=1).first()
    assert last.to_stage_id == Deal.objects.get(pk=1).stage_id
    # Skew: the busiest owner holds far more contacts than the quietest one.
    owners = set(Contact.objects.values_list("owner_id", flat=True))
    counts = [Contact.objects.filter(owner_id=o).count() for o in owners]
    assert max(counts) > 5 * min(counts)
    assert Contact.objects.filter(custom_fields__region__isnull=False).exists()


def _check_foreign_keys():
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA foreign_key_check")
            assert cur.fetchall() == []
    else:
        assert not Contact.objects.exclude(company_id=None).filter(company__isnull=True).exists()
    # Generic links have no foreign key to check: each must name an existing record of its type.
    for link in (ActivityLink, TaskLink):
        rows = link.objects.all()
        assert rows.exists()
        for object_type in set(rows.values_list("record_type", flat=True)):
            model = recordtypes.by_type(object_type).model
            dangling = rows.filter(record_type=object_type).exclude(record_id__in=model.objects.values("pk"))
            assert not dangling.exists(), (link, object_type)


def _check_search_index_is_what_the_app_would_write():
    """The bulk path writes the index text itself; rebuilding through the registry gives the same rows."""
    written = _index_rows()
    assert len(written) == 2 * (TINY.contacts + TINY.companies + TINY.leads + TINY.deals)  # text and name rows
    search_index.rebuild()
    assert _index_rows() == written


def _check_the_api_works_on_seeded_data(api):
    from django.contrib.auth.models import User

    client = api(User.objects.get(username="bench-admin"))
    contact = Contact.objects.get(pk=7)
    r = client.get("/search", {"q": contact.email})
    assert r.status_code == 200 and [h["id"] for h in r.json()["contact"]] == [7]
    r = client.patch("/contacts/7", {"title": "Chief Benchmark Officer"})  # custom fields re-validate
    assert r.status_code == 200, r.content
    r = client.get(f"/sales/pipelines/{Pipeline.objects.get(name='Board').pk}/board")
    assert sum(c["count"] for c in r.json()["columns"]) == TINY.board_open_deals
    r = client.get("/contacts/1/timeline")
    assert r.status_code == 200 and len(r.json()) == 50  # contact 1 has the most activities


def _check_custom_records(api):
    """As many subscriptions as contacts, each with values the field validation accepts as they are."""
    subscription = ObjectType.objects.get(key="subscription")
    records = CustomRecord.objects.filter(type=subscription)
    assert records.count() == TINY.custom_records == TINY.contacts
    for record in records.order_by("pk")[:50]:
        assert record.name == record.custom_fields["name"]
        cleaned = clean_custom_fields("subscription", dict(record.custom_fields), current=None, prefix="")
        assert cleaned == record.custom_fields
    assert 0.1 < records.filter(custom_fields__plan="gold").count() / TINY.custom_records < 0.2
    client = api(User.objects.get(username="bench-admin"))
    r = client.patch("/objects/subscriptions/3", {"values": {"seats": 7}})  # through the record service
    assert r.status_code == 200, r.content
    assert r.json()["values"]["mrr"] == CustomRecord.objects.get(pk=3).custom_fields["mrr"]


def _api_ids(client, path: str) -> list[int]:
    r = client.get(path)
    assert r.status_code == 200, r.content
    return [item["id"] for item in r.json()["items"]]


def _check_object_floors_return_what_the_api_returns(api):
    """Each floor is the SQL of the same page: the same ids in the same order."""
    p = object_figures.params(10)
    admin, rep = api(User.objects.get(username="bench-admin")), api(p.rep)
    t, base = p.type_id, "/objects/subscriptions"
    since = ("created_at > %s", [f"{p.since} 00:00:00"])
    pairs = [
        (admin, f"{base}?limit=50", floors.records(t)),
        (admin, f"{base}?plan=gold&limit=50", floors.records(t, floors.equals("plan", "gold"))),
        (admin, f"{base}?seats__gt=40&limit=50", floors.records(t, floors.greater("seats", 40))),
        (admin, f"{base}?sort=-seats&limit=50", floors.records(t, order=f"{floors.value('seats')} DESC, id DESC")),
        (rep, f"{base}?limit=50", floors.records(t, owner=p.rep.pk)),
        (admin, "/contacts?limit=50", floors.contacts()),
        (admin, "/contacts?lifecycle_stage=customer&limit=50", floors.contacts(("lifecycle_stage = %s", ["customer"]))),
        (admin, f"/contacts?created_at__gt={p.since}&limit=50", floors.contacts(since)),
        (admin, "/contacts?sort=-name&limit=50", floors.contacts(order="name DESC, id DESC")),
        (rep, "/contacts?limit=50", floors.contacts(owner=p.rep.pk)),
    ]
    for client, path, rows in pairs:
        assert _api_ids(client, path) == [r[0] for r in rows[:50]], path
    assert floors.record(t, p.records[0])[0][0] == p.records[0]
    # The rep sees their own subscriptions only, and has some.
    assert set(CustomRecord.objects.filter(pk__in=_api_ids(rep, base)).values_list("owner_id", flat=True)) == {p.rep.pk}


class InProcess:
    """The runner's client interface over Django's test client (no gunicorn in a unit test)."""

    def __init__(self, user):
        self.client, self.auth = Client(), f"Bearer {ApiToken.issue(user)[1]}"

    def call(self, method, path, body=None):
        started = time.perf_counter()
        response = self.client.generic(method, path, headers={"Authorization": self.auth})
        return response.status_code, (time.perf_counter() - started) * 1000, response.content


def _check_object_figures():
    p = object_figures.params(5)
    figures = object_figures.figures(InProcess(User.objects.get(username="bench-admin")), InProcess(p.rep), p, 3)
    names = [f.name for f in figures]
    for label in ("list, first page", "filter on a value", "range filter", "sort on a value", "list as a rep"):
        assert any(n.startswith(f"contacts: {label}") for n in names), label
        assert any(n.startswith(f"subscriptions: {label}") for n in names), label
    assert "subscriptions: detail" in names
    for f in figures:
        assert f.errors == 0 and f.group == "objects", f.name
        assert len(f.api_ms) == len(f.floor_ms) == 3
        assert all(0 < ms < 60_000 and math.isfinite(ms) for ms in f.api_ms + f.floor_ms), f.name
        assert f.as_dict()["ratio_p50"] > 0
