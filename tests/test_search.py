"""Global search on the configured backend (run the suite on SQLite and on PostgreSQL to cover both)."""

import pytest
from django.db import connection

from crm.records.models import Contact
from crm.records.services.companies import company_create, company_delete, company_update
from crm.records.services.contacts import contact_create, contact_delete, contact_update
from crm.records.services.deals import deal_create
from crm.records.services.leads import lead_create
from crm.search import index
from crm.search.backends import backend
from crm.search.query import search

pytestmark = pytest.mark.django_db


def names(user, q, kind="contact", **kw):
    return [str(o) for o in search(user, q, **kw).get(kind, [])]


def indexed_ids(object_type, word):
    """Object ids the index itself matches (no visibility filter): proves index rows, not just joins."""
    sql, params = backend().match_sql(object_type, [word])
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {row[0] for row in cur.fetchall()}


@pytest.fixture
def people(rep_a):
    make = lambda **d: contact_create(actor=rep_a, data=d).obj  # noqa: E731
    return {
        "ann": make(first_name="Ann", last_name="Lee", email="ann.lee@acme.com", phone="(202) 555-0100"),
        "jose": make(first_name="José", last_name="Núñez", email="jn@globex.io"),
        "bob": make(first_name="Bob", last_name="Stone", title="Head of Planning"),
    }


def test_prefix_of_a_name(rep_a, people):
    assert names(rep_a, "Le") == ["Ann Lee"]
    assert names(rep_a, "an le") == ["Ann Lee"]  # every word must match, each as a prefix
    assert names(rep_a, "ann stone") == []


def test_an_email(rep_a, people):
    assert names(rep_a, "ann.lee@acme.com") == ["Ann Lee"]
    assert names(rep_a, "globex") == ["José Núñez"]


@pytest.mark.parametrize("typed", ["2025550100", "(202) 555-0100", "202-555-0100", "+1 202 555 0100", "5550100"])
def test_a_phone_typed_as_people_type_it(rep_a, people, typed):
    assert names(rep_a, typed) == ["Ann Lee"]


def test_a_national_number_with_a_trunk_zero(rep_a, settings):
    settings.DEFAULT_PHONE_REGION = "GB"
    contact_create(actor=rep_a, data={"first_name": "Nigel", "phone": "020 7946 0958"})
    for typed in ["020 7946 0958", "+44 20 7946 0958", "0044 20 7946 0958", "9460958"]:
        assert names(rep_a, typed) == ["Nigel"], typed
    assert names(rep_a, "000 0000") == []


def test_accents_are_ignored_both_ways(rep_a, people):
    assert names(rep_a, "jose") == ["José Núñez"]
    assert names(rep_a, "NUNEZ") == ["José Núñez"]
    contact_create(actor=rep_a, data={"first_name": "Francois", "last_name": "Pére"})
    assert names(rep_a, "françois") == ["Francois Pére"]


def test_exact_name_first_then_name_prefix_then_other_matches(rep_a):
    for first, last in [("Ann", "Lee"), ("Lee", "Ann"), ("Lee", ""), ("Aaron", "Leeds")]:
        contact_create(actor=rep_a, data={"first_name": first, "last_name": last})
    # "Lee" (exact), "Lee Ann" (name starts with it), then the rest by name.
    assert names(rep_a, "lee") == ["Lee", "Lee Ann", "Aaron Leeds", "Ann Lee"]


def test_exact_company_name_ranks_first(rep_a):
    for name in ["Acme Holdings", "Big Acme", "Acme"]:
        company_create(actor=rep_a, data={"name": name})
    assert names(rep_a, "ACME", "company") == ["Acme", "Acme Holdings", "Big Acme"]


def test_hidden_records_are_never_returned(rep_a, rep_b, support, people):
    contact_create(actor=rep_b, data={"first_name": "Ann", "last_name": "Secret", "email": "ann@hidden.com"})
    lead_create(actor=rep_a, data={"last_name": "Annabel"})
    assert names(rep_a, "ann") == ["Ann Lee"]
    assert names(rep_b, "ann") == ["Ann Secret"]
    assert names(rep_b, "hidden") == ["Ann Secret"]
    assert names(rep_b, "acme") == []
    # A support agent may not view leads at all: none come back, whatever matches.
    assert names(support, "annabel", "lead") == []
    assert names(rep_a, "annabel", "lead") == ["Annabel"]


def test_types_and_limit(rep_a, pipeline):
    company_create(actor=rep_a, data={"name": "Orion Labs"})
    deal_create(actor=rep_a, data={"name": "Orion renewal"})
    for i in range(4):
        contact_create(actor=rep_a, data={"first_name": "Orion", "last_name": f"Member{i}"})
    found = search(rep_a, "orion", types=["deal", "company"])
    assert set(found) == {"deal", "company"}
    assert len(search(rep_a, "orion", limit=2)["contact"]) == 2


def test_the_index_follows_updates(rep_a, people):
    ann = people["ann"]
    contact_update(ann, actor=rep_a, data={"first_name": "Zelda", "email": "zelda@initech.com", "phone": None})
    assert names(rep_a, "zelda") == ["Zelda Lee"]
    assert names(rep_a, "initech") == ["Zelda Lee"]
    assert names(rep_a, "ann") == []
    assert names(rep_a, "acme") == []
    assert names(rep_a, "2025550100") == []


def test_the_index_follows_company_renames_and_domains(rep_a):
    company = company_create(actor=rep_a, data={"name": "Globex", "domains": ["globex.com"]}).obj
    company_update(company, actor=rep_a, data={"name": "Umbrella", "domains": ["umbrella.io"]})
    assert names(rep_a, "umbrella", "company") == ["Umbrella"]
    assert names(rep_a, "globex", "company") == []
    assert indexed_ids("company", "globex") == set()


def test_the_index_follows_deletes(rep_a, admin_user, people):
    company = company_create(actor=rep_a, data={"name": "Vandelay"}).obj
    company_pk, contact_pk = company.pk, people["bob"].pk
    assert indexed_ids("company", "vandelay") == {company_pk}
    company_delete(company, actor=admin_user)  # a rep's role may not delete
    contact_delete(people["bob"], actor=admin_user)
    assert names(rep_a, "vandelay", "company") == []
    assert indexed_ids("company", "vandelay") == set()
    assert contact_pk not in indexed_ids("contact", "stone")


def test_rebuild_restores_a_lost_index(rep_a, people):
    backend().clear()
    assert names(rep_a, "ann") == []
    assert index.rebuild() == Contact.objects.count()
    assert names(rep_a, "ann") == ["Ann Lee"]


@pytest.mark.parametrize("q", ["", "   ", "!!!", "-- ; ' \"", "___", "*", "()", "@.@", "…", "^:+", "(-)", "+"])
def test_a_query_of_only_punctuation_returns_nothing(rep_a, people, q):
    assert not any(search(rep_a, q).values())


@pytest.mark.parametrize("types", [None, "deal,company"])
def test_a_query_of_only_punctuation_answers_the_shape_of_no_hits(api, rep_a, people, types):
    client = api(rep_a)
    params = {"types": types} if types else {}
    no_hits = client.get("/search", {"q": "zzzzqx", **params})
    r = client.get("/search", {"q": "!!!", **params})
    assert r.status_code == no_hits.status_code == 200
    assert r.json() == no_hits.json() and r.json()  # one empty list per type searched, not {}
    assert all(v == [] for v in r.json().values())
    assert set(r.json()) == ({"deal", "company"} if types else set(search(rep_a, "zzzzqx")))


@pytest.mark.parametrize(
    "q", ['"ann', "ann*", "ann OR bob", "NEAR(ann bob)", "ann AND", "ann:lee", "ann & lee | !bob", "'; drop table x"]
)
def test_query_syntax_of_the_engines_is_plain_text(rep_a, people, q):
    found = search(rep_a, q)  # no error from FTS5 or to_tsquery
    assert all(isinstance(v, list) for v in found.values())
    assert names(rep_a, '"ann*') == ["Ann Lee"]


def _name_key(object_type, pk):
    with connection.cursor() as cur:
        cur.execute("SELECT name_key FROM search_name WHERE kind = %s AND object_id = %s", [object_type, pk])
        return [r[0] for r in cur.fetchall()]


def test_name_ranking_uses_the_folded_name(rep_a):
    for first, last in [("Ana", "Jose"), ("José", "Núñez"), ("Jose", "")]:
        contact_create(actor=rep_a, data={"first_name": first, "last_name": last})
    # Exact folded name, then folded names starting with the query, then the other matches.
    assert names(rep_a, "JOSE") == ["Jose", "José Núñez", "Ana Jose"]
    assert names(rep_a, "jose nu") == ["José Núñez"]


def test_the_name_index_follows_renames_and_deletes(rep_a, admin_user, people):
    bob = people["bob"]
    assert _name_key("contact", bob.pk) == ["bob stone"]
    contact_update(bob, actor=rep_a, data={"first_name": "Zoë"})
    assert _name_key("contact", bob.pk) == ["zoe stone"]
    assert names(rep_a, "zoe") == ["Zoë Stone"]
    contact_delete(bob, actor=admin_user)
    assert _name_key("contact", bob.pk) == []
    backend().clear()
    index.rebuild()
    assert _name_key("contact", people["jose"].pk) == ["jose nunez"]


def test_an_email_matches_its_words_in_that_order(rep_a, people):
    assert names(rep_a, "lee@acme") == ["Ann Lee"]
    assert names(rep_a, "ann.lee@acm") == ["Ann Lee"]  # the last word may be cut short
    assert names(rep_a, "acme@lee") == []
    assert names(rep_a, "acme lee") == ["Ann Lee"]  # without an "@", the words in any order


def test_typos_are_tolerated_when_nothing_matches_on_postgresql(rep_a, people):
    if connection.vendor != "postgresql":
        pytest.skip("trigram similarity is a PostgreSQL feature")
    assert names(rep_a, "stonne") == ["Bob Stone"]
    assert names(rep_a, "2025550109") == []  # a number one digit off is another number
    contact_create(actor=rep_a, data={"first_name": "Stonne"})
    assert names(rep_a, "stonne") == ["Stonne"]  # an exact match hides the near ones


def test_matches_hidden_behind_many_invisible_ones_are_found(rep_a, rep_b):
    # The best 40 candidates by name belong to rep_b: rep_a's one match comes from the full match set.
    for i in range(45):
        contact_create(actor=rep_b, data={"first_name": f"Aa{i:02d}", "last_name": "Hidden"})
    contact_create(actor=rep_a, data={"first_name": "Zz", "last_name": "Hidden"})
    assert names(rep_a, "hidden") == ["Zz Hidden"]
    assert names(rep_b, "hidden", limit=3) == ["Aa00 Hidden", "Aa01 Hidden", "Aa02 Hidden"]


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Chloé MÜLLER-Łukasz", "chloe muller łukasz"),  # Ł is a letter of its own, not L with a mark
        ("שָׁלוֹם", "שלום"),  # Hebrew points are combining marks too
        ("Ελληνικά", "ελληνικα"),
        ("ﬁne_print", "fine print"),  # the ligature decomposes; "_" separates words
    ],
)
def test_fold_drops_every_combining_mark_and_keeps_letters_of_any_script(text, folded):
    from crm.search.registry import fold

    assert fold(text) == folded
