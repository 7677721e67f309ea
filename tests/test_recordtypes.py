"""The record-type registry (crm.core.recordtypes): one declaration per type, and the API, web pages,
search, rules, imports and the timeline reading it instead of lists of their own."""

from dataclasses import replace
from itertools import groupby

import pytest
from django.test import Client

from crm.automation import actions, conditions, jobs
from crm.core import recordtypes
from crm.core.errors import BadRequest
from crm.core.recordtypes import RecordField
from crm.dataio import duplicates, mapping
from crm.dataio.importers.records import DealImporter
from crm.records.api import timeline as api_timeline
from crm.records.api.routes import RESOURCES
from crm.records.models import Activity, Company, Contact, Deal, Lead, Task
from crm.search.registry import searchables
from crm.web import registry as web
from tests.factories import DealFactory

BUILT_IN = {"company": Company, "contact": Contact, "lead": Lead, "deal": Deal, "activity": Activity, "task": Task}


def test_every_built_in_type_is_declared_once_with_its_model():
    declared = {rt.object_type: rt.model for rt in recordtypes.all_types()}
    assert {k: declared[k] for k in BUILT_IN} == BUILT_IN
    # The test app's own type (tests/declared_app), the catalogue's (crm/products), orders (crm/orders)
    # quotes (crm/quotes) and invoices (crm/invoices).
    assert set(declared) - set(BUILT_IN) == {"gadget", "product", "price_book", "order", "quote", "invoice"}
    for rt in recordtypes.all_types():
        assert rt.model.object_type == rt.object_type  # the change log, events and search use this key
        assert recordtypes.by_slug(rt.slug) is rt and recordtypes.of(rt.model()) is rt


def test_a_second_declaration_of_a_type_or_slug_is_refused():
    contact = recordtypes.by_type("contact")
    with pytest.raises(ValueError, match="declared twice"):
        recordtypes.register(replace(contact, slug="people"))
    with pytest.raises(ValueError, match="declared twice"):
        recordtypes.register(replace(contact, object_type="person"))
    assert recordtypes.by_slug("people") is None and recordtypes.by_type("person") is None


def test_a_field_of_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        RecordField("size", "number")


def test_the_api_offers_exactly_the_declared_filters_and_sorts():
    assert set(RESOURCES) == {rt.slug for rt in recordtypes.all_types()}
    for rt in recordtypes.all_types():
        res = RESOURCES[rt.slug]
        assert res.model is rt.model and res.create is rt.create and res.delete is rt.delete
        assert {name: f.lookup for name, f in res.filters.items()} == {
            f.name: "record_id" if f.link else f.filter_lookup for f in rt.fields if f.filterable
        }
        assert {name for name, f in res.filters.items() if f.via} == {f.name for f in rt.fields if f.link}
        assert res.sorts == {f.name: f.order_by for f in rt.fields if f.sortable}
    assert RESOURCES["contacts"].filters["email"].lookup == "emails__email"  # a path, not the field name
    assert RESOURCES["contacts"].sorts["email"] == "email"


def test_web_pages_list_the_declared_listed_fields():
    assert set(web.kinds()) == {rt.slug for rt in recordtypes.all_types() if rt.pages}
    assert "activities" not in web.kinds()  # shown on timelines, no pages of their own
    contacts = web.kind("contacts")
    assert [c.key for c in contacts.columns] == [f.name for f in contacts.type.fields if f.listed]
    stage = next(c for c in contacts.columns if c.key == "lifecycle_stage")
    assert stage.filter == "lifecycle_stage" and ("customer", "Customer") in stage.choices  # a select
    name = next(c for c in contacts.columns if c.key == "name")
    assert (name.sort, name.filter) == ("name", "name__contains")
    assert web.slug_of_type("task") == "tasks" and web.slug_of_type("activity") is None


def test_search_rules_imports_and_timelines_read_the_declarations():
    assert set(searchables()) == {rt.object_type for rt in recordtypes.all_types() if rt.search}
    assert set(searchables()) == {
        "company",
        "contact",
        "lead",
        "deal",
        "gadget",
        "product",
        "order",
        "quote",
        "invoice",
    }
    assert conditions.models_by_type() == {rt.object_type: rt.model for rt in recordtypes.all_types() if rt.triggers}
    assert conditions.filter_fields("deal") == RESOURCES["deals"].filters
    assert set(api_timeline.MODELS) == {"companies", "contacts", "leads", "deals", "gadgets"}
    assert mapping.record_type("activities") == "activity"


def test_search_follows_a_declaration_added_and_removed():
    """The search registry is not a copy taken once: a type declared later is indexed, and gone when removed."""
    deal = recordtypes.by_type("deal")
    extra = replace(deal, object_type="deal_copy", slug="deal-copies")
    recordtypes.register(extra)
    try:
        assert "deal_copy" in searchables()
    finally:
        recordtypes.unregister("deal_copy")
    assert "deal_copy" not in searchables() and recordtypes.by_slug("deal-copies") is None


def _same_name_deals(user) -> duplicates.Pairs:
    """A finder of the test's own: deals with the very same name."""
    pairs = duplicates.Pairs()
    rows = Deal.objects.restrict(user).order_by("name", "pk").values_list("name", "pk")
    for _, group in groupby(rows, key=lambda r: r[0]):
        first, *rest = [pk for _, pk in group]
        for pk in rest:
            pairs.add(first, pk, "name", 100)
    return pairs


def _no_merge(survivor, other, *, actor, choices):
    raise BadRequest("This test's deals are not merged.")


SAME_NAME_DEALS = duplicates.DuplicateSpec(_same_name_deals, _no_merge, ("name", "amount"), ("owner",))


def _redeclared(rt) -> None:
    """Replace a declared type by ``rt`` (same key and slug), keeping the declaration order."""
    declared = recordtypes.declared_types()
    for old in declared:
        recordtypes.unregister(old.object_type)
    for old in declared:
        recordtypes.register(rt if old.object_type == rt.object_type else old)


def test_duplicates_and_merge_follow_the_declarations(api, manager):
    """A type declared with a duplicate spec gets the API's and the web's duplicates routes; a type
    without one is refused, with the types that have one read from the registry."""
    one, two = DealFactory(name="Big deal", owner=manager, amount=10), DealFactory(name="Big deal", owner=manager)
    browser = Client()
    browser.force_login(manager)
    refused = api(manager).get("/duplicates/deals")
    assert refused.status_code == 400 and refused.json()["error"]["fields"]["type"] == "companies or contacts."
    assert browser.get("/duplicates/deals/").status_code == 404
    deal = recordtypes.by_type("deal")
    _redeclared(replace(deal, duplicates="tests.test_recordtypes.SAME_NAME_DEALS"))
    try:
        (item,) = api(manager).get("/duplicates/deals").json()["items"]
        assert (item["a"]["id"], item["b"]["id"], item["score"]) == (one.pk, two.pk, 50)
        refused = api(manager).get("/duplicates/leads")
        assert refused.json()["error"]["fields"]["type"] == "companies, contacts or deals."
        assert browser.post("/duplicates/deals/").status_code == 302
        jobs.run_due()
        page = browser.get("/duplicates/deals/").content.decode()
        assert f"/duplicates/deals/merge/{one.pk}/{two.pk}/" in page and 'href="/duplicates/contacts/"' in page
        merge_page = browser.get(f"/duplicates/deals/merge/{one.pk}/{two.pk}/").content.decode()
        assert "Amount" in merge_page and "Big deal" in merge_page
        assert 'href="/duplicates/deals/"' in browser.get("/duplicates/contacts/").content.decode()
    finally:
        _redeclared(deal)
    assert api(manager).get("/duplicates/deals").status_code == 400
    assert 'href="/duplicates/deals/"' not in browser.get("/duplicates/contacts/").content.decode()


def test_the_types_with_tags_are_those_declaring_them():
    """``tags`` on a declaration: its records have a tags relation and a tag filter, and rules may tag them."""
    tagged = {rt.object_type for rt in recordtypes.all_types() if rt.tags}
    assert tagged == {"company", "contact", "lead", "deal"}
    for rt in recordtypes.all_types():
        has_tags = any(f.name == "tags" for f in rt.model._meta.get_fields())
        assert has_tags == rt.tags == ("tag" in {f.name for f in rt.fields}), rt.object_type
        refused = actions.check_add_tag(rt.object_type, {"tag": "hot"})
        assert refused == ({} if rt.tags else {"type": f"A {rt.object_type} has no tags."})
    deal = recordtypes.by_type("deal")
    _redeclared(replace(deal, tags=False))
    try:
        assert actions.check_add_tag("deal", {"tag": "hot"}) == {"type": "A deal has no tags."}
    finally:
        _redeclared(deal)


class SpelledDeals(DealImporter):
    """An importer of the test's own: the deal's spellings plus one."""

    synonyms = {**DealImporter.synonyms, "amount": [*DealImporter.synonyms["amount"], "kohle"]}


def test_import_header_spellings_are_the_declared_importers(db):
    assert mapping.suggest("deals", ["Deal - Title", "Kohle"]) == {"Deal - Title": "name", "Kohle": ""}
    deal = recordtypes.by_type("deal")
    _redeclared(replace(deal, importer="tests.test_recordtypes.SpelledDeals"))
    try:
        assert mapping.suggest("deals", ["Deal - Title", "Kohle"]) == {"Deal - Title": "name", "Kohle": "amount"}
    finally:
        _redeclared(deal)
    assert mapping.targets("tasks") == {"owner": mapping.targets("contacts")["owner"]}  # no importer: the owner only
