"""Lists and details cost a fixed number of queries, whatever the number of rows (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.test_api_helpers import KINDS, make

# Related rows the output reads (tags, domains, emails, phones, deal contacts, participants), so an
# unprefetched relation shows up as one query per row.
RICH = {
    "companies": lambda ctx: {"tags": ["a", "b"], "domains": ["x.com", "y.com"]},
    "contacts": lambda ctx: {
        "tags": ["a"],
        "emails": [{"email": "p@x.com"}, {"email": "q@x.com"}],
        "phones": [{"number": "+12025550100"}],
        "company_id": ctx["company"].pk,
    },
    "leads": lambda ctx: {"tags": ["a", "b"], "email": "l@x.com"},
    "deals": lambda ctx: {"tags": ["a"], "contacts": [{"contact_id": ctx["contact"].pk}], "amount": "10"},
    "activities": lambda ctx: {"participant_ids": [ctx["contact"].pk], "contact_id": ctx["contact"].pk},
    "tasks": lambda ctx: {"contact_id": ctx["contact"].pk, "due_at": "2030-01-01T10:00:00Z"},
}


def queries(client, path, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(path, params or {})
    assert r.status_code == 200, r.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("kind", KINDS)
def test_list_and_detail_query_counts_do_not_grow_with_rows(kind, api, manager, rep_a, pipeline):
    """As a team manager (the scope with the most complex visibility filter)."""
    ctx = {"company": make("companies", rep_a, "Base"), "contact": make("contacts", rep_a, "Base")}

    def add(n):
        for i in range(n):
            make(kind, rep_a, f"Row {i}", **RICH[kind](ctx))

    add(3)
    client = api(manager)
    client.get("/me")  # the token's first use is recorded once; keep it out of the counts
    first = make(kind, rep_a, "First", **RICH[kind](ctx))
    lists = [(f"/{kind}", {}), (f"/{kind}", {"limit": 2}), (f"/{kind}", {"sort": "-id", "id__gt": "0"})]
    detail = f"/{kind}/{first.pk}"
    before = [queries(client, p, q) for p, q in lists] + [queries(client, detail)]
    add(20)
    after = [queries(client, p, q) for p, q in lists] + [queries(client, detail)]
    assert after == before, (before, after)
    assert max(before) <= 12, before  # a handful: auth, policy, the page, one per prefetched relation
    assert len(client.get(f"/{kind}", {"limit": 200}).json()["items"]) >= 24
