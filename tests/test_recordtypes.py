"""The record-type registry (crm.core.recordtypes): one declaration per type, and the API, web pages,
search, rules, imports and the timeline reading it instead of lists of their own."""

from dataclasses import replace

import pytest

from crm.automation import conditions
from crm.core import recordtypes
from crm.core.recordtypes import RecordField
from crm.dataio import mapping
from crm.records.api import timeline as api_timeline
from crm.records.api.routes import RESOURCES
from crm.records.models import Activity, Company, Contact, Deal, Lead, Task
from crm.search.registry import searchables
from crm.web import registry as web

BUILT_IN = {"company": Company, "contact": Contact, "lead": Lead, "deal": Deal, "activity": Activity, "task": Task}


def test_every_built_in_type_is_declared_once_with_its_model():
    declared = {rt.object_type: rt.model for rt in recordtypes.all_types()}
    assert {k: declared[k] for k in BUILT_IN} == BUILT_IN
    assert set(declared) - set(BUILT_IN) == {"gadget"}  # the test app's own type (tests/declared_app)
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
    assert set(searchables()) == {"company", "contact", "lead", "deal", "gadget"}
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
