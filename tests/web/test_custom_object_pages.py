"""Web pages of custom object types (crm/objects): list, record page, forms, related lists, menu and
search, read from the registry like the built-in types' pages, through the same services."""

import dataclasses
import re

import pytest

from crm.access.models import Profile
from crm.audit.models import ObjectChange
from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.customization.models import CustomField
from crm.objects import services
from crm.objects.models import CustomRecord
from crm.records.models import Activity, Task
from crm.web.facts import facts_context
from crm.web.forms import generic
from crm.web.registry import Kind
from tests.factories import CompanyFactory
from tests.objects.conftest import ALL, user_with

HTMX = {"HTTP_HX_REQUEST": "true"}
FIELDS = [
    {"key": "vin", "label": "VIN", "field_type": "text", "searchable": True},
    {"key": "seats", "label": "Seats", "field_type": "integer", "required": True},
    {"key": "fuel", "label": "Fuel", "field_type": "choice", "choices": ["diesel", "electric"]},
    {"key": "price", "label": "Price", "field_type": "money"},
    {"key": "operator", "label": "Operator", "field_type": "lookup", "target": "company"},
    {"key": "in_service", "label": "In service since", "field_type": "date"},
    {"key": "extras", "label": "Extras", "field_type": "multi_choice", "choices": ["hitch", "rack"]},
    {"key": "leased", "label": "Leased", "field_type": "boolean"},
    {"key": "booked", "label": "Booked for", "field_type": "datetime"},
]


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def vehicle(admin_user):
    data = {"key": "vehicle", "singular": "Vehicle", "plural": "Vehicles", "slug": "vehicles", "fields": FIELDS}
    return services.object_type_create(actor=admin_user, data=data)


@pytest.fixture
def clerk(vehicle):
    """Every action on vehicles, on notes and tasks; own records only."""
    perms = {"vehicle": ALL, "company": ["view"], "activity": ALL, "task": ALL}
    return user_with("clerk", perms)


@pytest.fixture
def other_clerk(vehicle):
    return user_with("other_clerk", {"vehicle": ALL, "company": ["view"]})


@pytest.fixture
def viewer(vehicle):
    return user_with("viewer", {"vehicle": ["view"], "company": ["view"]}, scope="all")


@pytest.fixture
def depot(clerk):
    return CompanyFactory(name="Depot Ltd", owner=clerk)


def make(actor, name="Van", **values):
    rt = recordtypes.by_slug("vehicles")
    return rt.create(actor=actor, data={"name": name, "seats": 2, **values}).obj


def test_menu_lists_custom_types_a_role_may_view(web, clerk, rep_a):
    assert 'href="/vehicles/"' in html(web(clerk).get("/"))
    assert 'href="/vehicles/"' not in html(web(rep_a).get("/"))  # a sales rep's role does not grant vehicles
    assert web(rep_a).get("/vehicles/").status_code == 403
    assert web(rep_a).get("/vehicles/new/").status_code == 403


def test_unknown_slugs_are_404_and_a_custom_slug_cannot_shadow_a_page(web, admin_user, clerk):
    assert web(clerk).get("/no-such-things/").status_code == 404
    assert web(clerk).get("/search/", {"q": "x"}).status_code == 200  # still the search page
    for slug in ("search", "board", "imports"):
        data = {"key": f"k_{slug}", "singular": "K", "plural": "Ks", "slug": slug}
        with pytest.raises(ValidationFailed):
            services.object_type_create(actor=admin_user, data=data)


def test_list_filters_sorts_searches_and_pages(web, clerk, monkeypatch):
    make(clerk, "Alpha van", seats=9, fuel="diesel", vin="VIN-A")
    make(clerk, "Beta car", seats=4, fuel="electric", vin="VIN-B")
    make(clerk, "Gamma van", seats=2, fuel="electric", vin="VIN-C")
    client = web(clerk)
    page = html(client.get("/vehicles/"))
    assert "Alpha van" in page and "Seats" in page and "Fuel" in page and "New vehicle" in page
    assert 'name="cf_fuel"' in page and 'name="name__contains"' in page  # the column filters

    page = html(client.get("/vehicles/", {"cf_fuel": "electric", "name__contains": "van"}))
    assert "Gamma van" in page and "Beta car" not in page and "Alpha van" not in page
    page = html(client.get("/vehicles/", {"sort": "-cf_seats"}))
    assert page.index("Alpha van") < page.index("Beta car") < page.index("Gamma van")
    page = html(client.get("/vehicles/", {"sort": "cf_seats"}))
    assert page.index("Gamma van") < page.index("Beta car") < page.index("Alpha van")
    page = html(client.get("/vehicles/", {"q": "beta"}))
    assert "Beta car" in page and "Alpha van" not in page
    assert client.get("/vehicles/", {"cf_nope": "1"}).status_code == 400  # a clear error, not a 500

    monkeypatch.setattr("crm.web.views.lists.PAGE_SIZE", 2)
    first = client.get("/vehicles/", {"sort": "name"})
    cursor = first.context["next_cursor"]
    assert [r.name for r in first.context["rows"]] == ["Alpha van", "Beta car"] and cursor
    second = client.get("/vehicles/", {"sort": "name", "cursor": cursor})
    assert [r.name for r in second.context["rows"]] == ["Gamma van"]


def test_saved_view_of_a_custom_list(web, clerk):
    make(clerk, "Alpha van", fuel="diesel")
    make(clerk, "Beta car", fuel="electric")
    client = web(clerk)
    r = client.post("/vehicles/views/", {"name": "Electric", "query": "cf_fuel=electric"})
    assert r.status_code == 302 and "cf_fuel=electric" in r["Location"]
    page = html(client.get(r["Location"]))
    assert "Electric" in page and "Beta car" in page and "Alpha van" not in page


def test_bulk_reassign_and_export(web, clerk, other_clerk):
    van = make(clerk, "Alpha van", vin="=HYPERLINK()")
    client = web(clerk)
    r = client.get("/vehicles/export/")
    body = b"".join(r.streaming_content).decode()
    assert r.status_code == 200 and "cf_vin" in body and "'=HYPERLINK()" in body
    r = client.post("/vehicles/bulk/", {"action": "assign", "owner": str(clerk.pk), "ids": [van.pk]})
    assert r.status_code == 302
    r = client.post("/vehicles/bulk/", {"action": "add_tag", "tag": "x", "ids": [van.pk]})
    assert r.status_code == 302  # no tags on vehicles: a message, nothing changed
    r = client.post("/vehicles/bulk/", {"action": "delete", "confirm": "yes", "ids": [van.pk]})
    assert r.status_code == 302 and not CustomRecord.objects.filter(pk=van.pk).exists()


def test_own_scope_lists_and_opens_only_own_records(web, clerk, other_clerk):
    mine, theirs = make(clerk, "Mine"), make(other_clerk, "Theirs")
    client = web(clerk)
    page = html(client.get("/vehicles/"))
    assert "Mine" in page and "Theirs" not in page
    assert client.get(f"/vehicles/{mine.pk}/").status_code == 200
    assert client.get(f"/vehicles/{theirs.pk}/").status_code == 404
    assert client.get(f"/vehicles/{theirs.pk}/edit/").status_code == 404


def test_a_record_of_another_type_is_not_found_under_this_slug(web, admin_user, clerk):
    data = {"key": "boat", "singular": "Boat", "plural": "Boats", "slug": "boats"}
    services.object_type_create(actor=admin_user, data=data)
    boat = recordtypes.by_slug("boats").create(actor=admin_user, data={"name": "Skiff"}).obj
    assert web(admin_user).get(f"/vehicles/{boat.pk}/").status_code == 404
    assert web(admin_user).get(f"/boats/{boat.pk}/").status_code == 200


def test_record_page_shows_formatted_values_and_timeline(web, clerk, depot):
    van = make(
        clerk,
        "Alpha van",
        vin="<b>VIN-1</b>",
        fuel="electric",
        price={"amount": "12000", "currency": "EUR"},
        operator=depot.pk,
        in_service="2024-03-05",
        extras=["hitch", "rack"],
        leased=True,
    )
    client = web(clerk)
    page = html(client.get(f"/vehicles/{van.pk}/"))
    assert re.search(r"<h1>(<[^>]+>)*Alpha van<", page)  # inside its inline-edit affordance
    assert "&lt;b&gt;VIN-1&lt;/b&gt;" in page  # escaped
    assert "€12,000" in page and "electric" in page and "Mar 5, 2024" in page
    assert f'<a href="/companies/{depot.pk}/">Depot Ltd</a>' in page
    assert '<span class="tag">hitch</span>' in page and "Yes" in page
    assert "Edit" in page and "Delete" in page and "Timeline" in page and 'id="quick-add"' in page

    r = client.post(f"/vehicles/{van.pk}/quick/activity/", {"kind": "note", "body": "Checked the tyres"})
    assert r.status_code == 302
    assert Activity.objects.filter(body="Checked the tyres").exists()
    assert "Checked the tyres" in html(client.get(f"/vehicles/{van.pk}/"))


def test_lookup_to_a_hidden_record_shows_no_name(web, clerk, rep_a):
    hidden = CompanyFactory(name="Secret Co", owner=rep_a)
    van = make(clerk, "Van")
    # The service refuses a lookup its writer cannot see; one written by someone who could (an admin
    # before the record changed hands) stays.
    CustomRecord.objects.filter(pk=van.pk).update(custom_fields={"name": "Van", "seats": 2, "operator": hidden.pk})
    page = html(web(clerk).get(f"/vehicles/{van.pk}/"))
    assert "Secret Co" not in page and f"#{hidden.pk}" in page


def test_create_through_the_form_with_a_validation_error(web, clerk):
    client = web(clerk)
    form = html(client.get("/vehicles/new/"))
    assert 'name="cf_name"' in form and 'name="cf_seats"' in form and 'name="cf_price_0"' in form
    assert form.index('name="cf_name"') < form.index('name="owner"') < form.index('name="cf_seats"')

    r = client.post("/vehicles/new/", {"cf_name": "Van", "owner": str(clerk.pk)})
    assert r.status_code == 200 and r.context["form"].errors.get("cf_seats")
    assert not CustomRecord.objects.exists()

    data = {"cf_name": "Van", "cf_seats": "7", "cf_fuel": "diesel", "owner": str(clerk.pk)}
    r = client.post("/vehicles/new/", {**data, "cf_price_0": "10", "cf_price_1": "EUR"})
    van = CustomRecord.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/vehicles/{van.pk}/"
    assert van.name == "Van" and van.owner == clerk and van.custom_fields["seats"] == 7
    assert ObjectChange.objects.filter(object_type="vehicle", object_id=van.pk).exists()


def test_service_errors_land_on_their_fields(web, clerk, rep_a):
    hidden = CompanyFactory(name="Secret Co", owner=rep_a)
    data = {"cf_name": "Van", "cf_seats": "2", "cf_operator": str(hidden.pk), "owner": str(clerk.pk)}
    r = web(clerk).post("/vehicles/new/", data)
    assert r.status_code == 200 and r.context["form"].errors.get("cf_operator")


def test_edit_with_a_version_conflict_then_delete(web, clerk, other_clerk):
    van = make(clerk, "Van", seats=2)
    client = web(clerk)
    edit = html(client.get(f"/vehicles/{van.pk}/edit/"))
    assert 'value="Van"' in edit and 'name="version" value="1"' in edit
    recordtypes.by_slug("vehicles").update(van, actor=clerk, data={"seats": 3}, version=1)

    stale = {"cf_name": "Van 2", "cf_seats": "4", "owner": str(clerk.pk), "version": "1"}
    r = client.post(f"/vehicles/{van.pk}/edit/", stale)
    assert r.status_code == 409 and "Someone else changed" in html(r)
    van.refresh_from_db()
    assert van.name == "Van" and van.custom_fields["seats"] == 3

    r = client.post(f"/vehicles/{van.pk}/edit/", {**stale, "version": "2"})
    assert r.status_code == 302
    van.refresh_from_db()
    assert van.name == "Van 2" and van.custom_fields["seats"] == 4 and van.version == 3

    assert client.get(f"/vehicles/{van.pk}/delete/").status_code == 200
    r = client.post(f"/vehicles/{van.pk}/delete/", {"version": "3"})
    assert r.status_code == 302 and r["Location"] == "/vehicles/"
    assert not CustomRecord.objects.filter(pk=van.pk).exists()


def test_a_viewer_gets_no_edit_button_and_403_on_edit(web, clerk, viewer):
    van = make(clerk, "Van")
    client = web(viewer)
    page = html(client.get(f"/vehicles/{van.pk}/"))
    assert f"/vehicles/{van.pk}/edit/" not in page and f"/vehicles/{van.pk}/delete/" not in page
    assert client.get(f"/vehicles/{van.pk}/edit/").status_code == 403
    assert client.post(f"/vehicles/{van.pk}/delete/").status_code == 403
    assert client.get("/vehicles/new/").status_code == 403
    assert "New vehicle" not in html(client.get("/vehicles/"))


def test_company_page_lists_the_vehicles_pointing_at_it(web, clerk, other_clerk, depot, admin_user, viewer):
    mine = make(clerk, "My van", operator=depot.pk)
    CustomRecord.objects.create(
        type=mine.type, name="Their van", owner=other_clerk, custom_fields={"operator": depot.pk}
    )
    make(clerk, "Elsewhere")

    page = html(web(clerk).get(f"/companies/{depot.pk}/"))
    assert "<h2>Vehicles</h2>" in page and "My van" in page
    assert "Their van" not in page and "Elsewhere" not in page  # another's record stays hidden
    assert f"/vehicles/new/?cf_operator={depot.pk}" in page

    page = html(web(viewer).get(f"/companies/{depot.pk}/"))
    assert "My van" in page and "Their van" in page and "/vehicles/new/" not in page

    form = html(web(clerk).get("/vehicles/new/", {"cf_operator": depot.pk}))
    assert f'value="{depot.pk}"' in form  # "+ Add" starts a vehicle pointing at the company


def test_header_search_finds_a_custom_record(web, clerk, other_clerk):
    van = make(clerk, "Alpha van", vin="WVW123")
    make(other_clerk, "Hidden van", vin="WVW999")
    page = html(web(clerk).get("/search/", {"q": "WVW"}, **HTMX))
    assert "Vehicles" in page and f'href="/vehicles/{van.pk}/"' in page and "Hidden van" not in page


def test_archived_type_is_readable_but_not_writable(web, clerk, vehicle):
    van = make(clerk, "Van")
    vehicle.archived_at = vehicle.updated_at
    vehicle.save()
    client = web(clerk)
    assert 'href="/vehicles/"' not in html(client.get("/"))
    page = html(client.get("/vehicles/"))
    assert "Van" in page and "New vehicle" not in page
    assert client.get("/vehicles/new/").status_code == 403
    page = html(client.get(f"/vehicles/{van.pk}/"))
    assert "Archived" in page and f"/vehicles/{van.pk}/edit/" not in page


def test_history_shows_each_changed_value(web, clerk):
    van = make(clerk, "Van", seats=2, extras=["hitch"], price={"amount": "10", "currency": "EUR"})
    rt = recordtypes.by_slug("vehicles")
    rt.update(van, actor=clerk, data={"seats": 5, "extras": ["hitch", "rack"], "price": None}, version=1)
    page = html(web(clerk).get(f"/vehicles/{van.pk}/", {"show": "change"}))
    assert '<span class="f">seats</span>: <del>2</del> → <ins>5</ins>' in page
    # Values as the record page shows them (crm.web.facts.shown_value): choices as tags, money.
    hitch, rack = '<span class="tag">hitch</span>', '<span class="tag">rack</span>'
    assert f"<del>{hitch}</del> → <ins>{hitch} {rack}</ins>" in page and "<del>€10</del>" in page


def test_picker_offers_records_of_a_type_search_does_not_index(web, admin_user, other_clerk):
    data = {"key": "depot", "singular": "Depot", "plural": "Depots", "slug": "depots"}
    services.object_type_create(actor=admin_user, data=data)  # no searchable field: not in global search
    depot_clerk = user_with("depot_clerk", {"depot": ["view"]})
    rt = recordtypes.by_slug("depots")
    north = rt.create(actor=admin_user, data={"name": "North yard", "owner_id": depot_clerk.pk}).obj
    rt.create(actor=admin_user, data={"name": "North pier", "owner_id": other_clerk.pk})
    assert html(web(admin_user).get("/pick/depot/", {"q": "north"})).count("data-pick-id") == 2
    page = html(web(depot_clerk).get("/pick/depot/", {"q": "north"}))
    assert page.count("data-pick-id") == 1 and f'data-pick-id="{north.pk}"' in page  # own scope
    assert web(other_clerk).get("/pick/depot/", {"q": "north"}).content.count(b"data-pick-id") == 0  # no role
    assert web(admin_user).get("/pick/nonsense/", {"q": "x"}).status_code == 404


def test_list_cells_are_formatted_and_name_only_visible_records(web, clerk, rep_a, depot, monkeypatch):
    hidden = CompanyFactory(name="Secret Co", owner=rep_a)
    make(clerk, "Van", seats=3, price={"amount": "9.5", "currency": "EUR"}, operator=depot.pk)
    bus = make(clerk, "Bus", seats=40)
    CustomRecord.objects.filter(pk=bus.pk).update(custom_fields={"name": "Bus", "seats": 40, "operator": hidden.pk})
    columns = [c.label for c in web(clerk).get("/vehicles/").context["columns"]]
    assert columns == ["Name", "Owner", "Updated", "VIN", "Seats", "Fuel", "Price"]  # the first 4 values

    monkeypatch.setattr("crm.web.views.lists.RUN_TIME_VALUE_COLUMNS", 5)
    page = html(web(clerk).get("/vehicles/"))
    assert "€9.50" in page and f'<a href="/companies/{depot.pk}/">Depot Ltd</a>' in page
    assert "Secret Co" not in page and f"#{hidden.pk}" in page


def test_quick_add_task_and_times_in_the_users_zone(web, clerk):
    Profile.objects.filter(user=clerk).update(time_zone="Asia/Tokyo")
    van = make(clerk, "Van", booked="2024-03-05T23:30:00+00:00")
    client = web(clerk)
    assert "Mar 6 2024, 08:30" in html(client.get(f"/vehicles/{van.pk}/"))

    r = client.post(f"/vehicles/{van.pk}/quick/task/", {"title": "Book the service", "priority": "normal"})
    assert r.status_code == 302
    task = Task.objects.get(title="Book the service")
    assert list(task.linked_ids("vehicle")) == [van.pk]
    assert "Book the service" in html(client.get(f"/vehicles/{van.pk}/"))


def test_related_list_is_capped_with_a_link_to_the_filtered_list(web, clerk, depot):
    for i in range(11):
        make(clerk, f"Van {i:02}", operator=depot.pk)
    make(clerk, "Elsewhere")
    client = web(clerk)
    page = html(client.get(f"/companies/{depot.pk}/"))
    assert "Van 10" in page and "Van 00" not in page  # newest first, ten of them
    see_all = f"/vehicles/?cf_operator={depot.pk}"
    assert f'href="{see_all}">See all' in page
    rows = client.get(see_all).context["rows"]
    assert len(rows) == 11 and "Elsewhere" not in [r.name for r in rows]


def test_a_declared_type_without_a_form_of_its_own_gets_one_from_its_fields(rep_a):
    """A type declared in code without ``form``: its editable fields, the owner and its custom fields."""
    company = recordtypes.by_type("company")
    gizmo = dataclasses.replace(company, object_type="gizmo", slug="gizmos", form="")
    CustomField.objects.create(object_type="gizmo", key="colour", label="Colour", field_type="text", required=True)
    form_class = generic.form_class(gizmo)
    assert form_class is generic.form_class(gizmo)  # built once
    form = form_class({"name": "G1", "size": "bogus", "owner": str(rep_a.pk)}, user=rep_a)
    assert not form.is_valid() and {"size", "cf_colour"} <= set(form.errors)
    names = list(form_class(user=rep_a).fields)
    assert names.index("name") < names.index("owner") < names.index("cf_colour")
    assert "id" not in names and "updated_at" not in names and "tag" not in names
    form = form_class({"name": "G1", "size": "1-10", "owner": str(rep_a.pk), "cf_colour": "red"}, user=rep_a)
    assert form.is_valid(), form.errors
    data = form.to_data()
    assert data["name"] == "G1" and data["size"] == "1-10" and data["owner_id"] == rep_a.pk
    assert data["custom_fields"] == {"colour": "red"}
    assert generic.form_class(company).__name__ == "CompanyForm"  # the declaration's own


def test_a_declared_type_without_a_facts_template_shows_its_own_fields(rep_a):
    gizmo = dataclasses.replace(recordtypes.by_type("company"), object_type="gizmo", slug="gizmos", form="")
    acme = CompanyFactory(name="Acme", industry="Tools", owner=rep_a)
    context = facts_context(Kind(gizmo), acme, rep_a)
    assert context["facts_template"].origin.template_name == "web/facts/generic.html"
    assert ("Name", "Acme") in context["own_values"] and ("Industry", "Tools") in context["own_values"]
    assert "Owner" not in dict(context["own_values"])  # the template shows it
    company = facts_context(Kind(recordtypes.by_type("company")), acme, rep_a)
    assert company["facts_template"].origin.template_name == "web/facts/companies.html"
    assert company["own_values"] == []
