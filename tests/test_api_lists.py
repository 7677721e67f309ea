"""Lists: cursor pagination returns every visible row exactly once in the asked order; filters and ?q=."""

import datetime as dt
import decimal

import pytest

from crm.audit.models import ObjectChange
from crm.customization.models import CustomField
from crm.records.models import Contact, Task
from tests.test_api_helpers import make


def walk(client, path: str, **params) -> list[int]:
    """All ids of a list, following ``next`` with pages of 3."""
    ids, cursor = [], None
    for _ in range(100):
        r = client.get(path, {**params, "limit": 3, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.content
        body = r.json()
        assert 1 <= len(body["items"]) <= 3 or not ids and not body["items"], body
        ids += [row["id"] for row in body["items"]]
        cursor = body["next"]
        if cursor is None:
            return ids
    raise AssertionError("more than 100 pages")


def expected_order(rows: list[tuple], descending: bool) -> list[int]:
    """ids of (id, value) rows ordered by value (nulls last either way), then id in the same direction."""
    present = sorted((r for r in rows if r[1] is not None), key=lambda r: (r[1], r[0]), reverse=descending)
    nulls = sorted((r for r in rows if r[1] is None), key=lambda r: r[0], reverse=descending)
    return [r[0] for r in present + nulls]


@pytest.fixture
def rank(db):
    return CustomField.objects.create(object_type="deal", key="rank", label="Rank", field_type="integer")


@pytest.fixture
def deals(rep_a, rep_b, pipeline, rank):
    """Deals with tied names and amounts, NULL amounts and dates, and missing or null ranks."""
    day = dt.date(2030, 1, 1)
    specs = [
        ("beta", "100", 3, 2),
        ("alpha", None, None, 1),
        ("beta", "50", 1, None),
        ("alpha", "100", 2, 5),
        ("gamma", None, 3, 2),
        ("alpha", "25", "missing", None),
        ("beta", "100", 1, 3),
        ("delta", "7.5", None, None),
    ]
    rows = []
    for name, amount, rank_value, days in specs:
        extra = {
            "amount": decimal.Decimal(amount) if amount else None,
            "expected_close_date": day + dt.timedelta(days=days) if days else None,
        }
        if rank_value != "missing":
            extra["custom_fields"] = {"rank": rank_value}
        rows.append(make("deals", rep_a, name, **extra))
    make("deals", rep_b, "alpha", amount=decimal.Decimal(100))  # not rep_a's: never listed for rep_a
    return rows


SORTS = {
    "name": lambda d: d.name,
    "amount": lambda d: d.amount,
    "expected_close_date": lambda d: d.expected_close_date,
    "cf_rank": lambda d: d.custom_fields.get("rank"),
    "id": lambda d: d.pk,
}


def test_walking_all_pages_returns_each_visible_row_once_in_order(deals, api, rep_a):
    client, problems = api(rep_a), []
    for sort in [*SORTS, *[f"-{s}" for s in SORTS]]:
        key = SORTS[sort.lstrip("-")]
        ids = walk(client, "/deals", sort=sort)
        want = expected_order([(d.pk, key(d)) for d in deals], sort.startswith("-"))
        if ids != want:
            problems.append(f"sort={sort}: got {ids}, want {want}")
    assert not problems, "\n".join(problems)


def test_pages_follow_filters_and_an_empty_list_has_no_cursor(deals, api, rep_a):
    client = api(rep_a)
    ids = walk(client, "/deals", sort="-amount", name="alpha")
    assert ids == expected_order([(d.pk, d.amount) for d in deals if d.name == "alpha"], True)
    assert client.get("/deals", {"name": "nobody"}).json() == {"items": [], "next": None}
    r = client.get("/deals", {"limit": 8, "sort": "name"})
    assert len(r.json()["items"]) == 8 and r.json()["next"] is None


def test_default_sorts_walk_too(api, rep_a, pipeline):
    for i in range(7):
        make("tasks", rep_a, f"T{i}", due_at=f"2030-01-0{1 + i % 3}T10:00:00Z" if i % 4 else None)
        make("contacts", rep_a, f"C{i}")
    client = api(rep_a)
    assert sorted(walk(client, "/tasks")) == sorted(Task.objects.values_list("pk", flat=True))
    tasks = walk(client, "/tasks")
    assert tasks == expected_order([(t.pk, t.due_at) for t in Task.objects.all()], False)
    assert walk(client, "/contacts") == expected_order([(c.pk, c.updated_at) for c in Contact.objects.all()], True)


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
def people(rep_a, rep_b, db):
    CustomField.objects.create(object_type="contact", key="score", label="Score", field_type="integer")
    acme = make("companies", rep_a, "Acme")
    made = {
        "ann": make(
            "contacts",
            rep_a,
            "Annabel",
            last_name="Smith",
            emails=[{"email": "ann@example.com"}, {"email": "annabel@example.com", "kind": "home"}],
            phone="+1 202 555 0100",
            city="Paris",
            lifecycle_stage="lead",
            tags=["vip"],
            company_id=acme.pk,
            custom_fields={"score": 5},
        ),
        "bob": make(
            "contacts",
            rep_a,
            "Bob",
            email="bob@corpmail.com",
            city="paris",
            lifecycle_stage="customer",
            custom_fields={"score": 12},
        ),
        "cy": make("contacts", rep_a, "Cyril", city="Rome", lifecycle_stage="other", tags=["VIP", "new"]),
        "dee": make("contacts", rep_a, "Dee", phone="+44 20 7946 0958", custom_fields={"score": 1}),
    }
    # rep_b's twin of Ann matches every filter below but must never show up for rep_a.
    make(
        "contacts",
        rep_b,
        "Annabel",
        email="ann@example.com",
        phone="+1 202 555 0100",
        city="Paris",
        lifecycle_stage="lead",
        tags=["vip"],
        custom_fields={"score": 5},
    )
    return made


CONTACT_FILTERS = [
    ({"city": "PARIS"}, {"ann", "bob"}),
    ({"city__ne": "Rome"}, {"ann", "bob", "dee"}),
    ({"lifecycle_stage__in": "lead,customer"}, {"ann", "bob"}),
    ({"name__contains": "nab"}, {"ann"}),
    ({"email__contains": "@corpmail"}, {"bob"}),
    ({"company__isnull": "true"}, {"bob", "cy", "dee"}),
    ({"company__isnull": "false"}, {"ann"}),
    ({"city__isnull": "true"}, {"dee"}),
    ({"tag": "vip"}, {"ann", "cy"}),
    ({"tag": "new"}, {"cy"}),
    ({"tag__in": "vip,new"}, {"ann", "cy"}),  # cy has both tags: still listed once
    ({"email__contains": "example.com"}, {"ann"}),  # ann has two matching emails
    ({"tag__ne": "vip"}, {"bob", "dee"}),
    ({"cf_score": "5"}, {"ann"}),
    ({"cf_score__gt": "4"}, {"ann", "bob"}),
    ({"cf_score__lt": "5"}, {"dee"}),
    ({"cf_score__in": "1,12"}, {"bob", "dee"}),
    ({"cf_score__isnull": "true"}, {"cy"}),
    ({"city": "Paris", "cf_score__gte": "10"}, {"bob"}),
    ({"q": "Anna"}, {"ann"}),
    ({"q": "ann@example.com"}, {"ann"}),
    ({"q": "2025550100"}, {"ann"}),
    ({"q": "5550100"}, {"ann"}),
    ({"q": "+442079460958"}, {"dee"}),
    ({"q": "corpmail"}, {"bob"}),
    ({"q": "zzz"}, set()),
    ({"q": "!!!"}, set()),
]


def test_contact_filters_and_search(people, api, rep_a):
    client, problems = api(rep_a), []
    for query, names in CONTACT_FILTERS:
        r = client.get("/contacts", query)
        ids = [row["id"] for row in r.json()["items"]] if r.status_code == 200 else [r.status_code]
        got = set(ids) if len(ids) == len(set(ids)) else f"duplicates: {ids}"
        if got != {people[n].pk for n in names}:
            problems.append(f"{query}: got {got}, want {sorted(names)}")
    assert not problems, "\n".join(problems)


def test_number_date_and_id_filters_on_deals(deals, api, rep_a):
    client = api(rep_a)

    def ids(**query):
        r = client.get("/deals", {**query, "limit": 200})
        assert r.status_code == 200, r.content
        return {row["id"] for row in r.json()["items"]}

    def where(pred):
        return {d.pk for d in deals if pred(d)}

    assert ids(amount__gt="25", amount__lt="100") == where(lambda d: d.amount and 25 < d.amount < 100)
    assert ids(amount="100.00") == where(lambda d: d.amount == 100)
    assert ids(amount__isnull="true") == where(lambda d: d.amount is None)
    assert ids(amount__gte="7.5") == where(lambda d: d.amount is not None and d.amount >= decimal.Decimal("7.5"))
    assert ids(expected_close_date__lt="2030-01-03") == where(
        lambda d: d.expected_close_date and d.expected_close_date < dt.date(2030, 1, 3)
    )
    assert ids(expected_close_date__isnull="false") == where(lambda d: d.expected_close_date)
    assert ids(cf_rank__gte="2") == where(lambda d: (d.custom_fields.get("rank") or 0) >= 2)
    assert ids(id__in=f"{deals[0].pk},{deals[1].pk},987654") == {deals[0].pk, deals[1].pk}
    assert ids(created_at__gte="2000-01-01") == where(lambda d: True)
    assert ids(created_at__lt="2000-01-01T00:00:00+02:00") == set()
    assert ids(status="open", name="ALPHA") == where(lambda d: d.name == "alpha")


def test_change_log_pages_walk_newest_first(api, rep_a, rep_b):
    for i in range(5):
        contact = make("contacts", rep_a, f"C{i}")
        make("contacts", rep_b, f"Hidden {i}")
    client = api(rep_a)
    client.patch(f"/contacts/{contact.pk}", {"title": "CEO"})
    ids = walk(client, "/changes")
    mine = ObjectChange.objects.filter(user=rep_a).order_by("-time", "-id")
    assert ids == list(mine.values_list("pk", flat=True)) and len(ids) == 6
    assert walk(client, "/changes", action="update") == [mine[0].pk]
