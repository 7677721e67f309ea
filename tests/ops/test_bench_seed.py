"""The benchmark seed at scale `tiny`: the counts, the integrity, and the data as the app sees it."""

import pytest
from django.db import connection

from crm.bench.scales import SCALES
from crm.bench.seed import seed
from crm.core import recordtypes
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
