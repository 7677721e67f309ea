"""List pages: visibility, column filters (custom fields too), sort, search, paging, saved views."""

import pytest

from crm.customization.models import CustomField
from crm.records.services import companies
from crm.web.models import SavedView
from tests.factories import CompanyFactory


def names(response) -> str:
    return response.content.decode()


def test_list_shows_only_records_the_user_may_see(web, rep_a, rep_b, acme):
    companies.company_create(actor=rep_b, data={"name": "Bravo Hidden"})
    html = names(web(rep_a).get("/companies/"))
    assert "Acme Corp" in html and "Bravo Hidden" not in html


def test_manager_sees_the_team(web, manager, acme):
    assert "Acme Corp" in names(web(manager).get("/companies/"))


def test_role_without_view_permission_gets_403(web, support):
    assert web(support).get("/leads/").status_code == 403
    assert "Leads" not in names(web(support).get("/"))  # and no nav link


def test_column_filter_and_text_search(web, rep_a, acme):
    companies.company_create(actor=rep_a, data={"name": "Globex", "city": "Lyon"})
    html = names(web(rep_a).get("/companies/", {"city__contains": "lyo"}))
    assert "Globex" in html and "Acme Corp" not in html
    html = names(web(rep_a).get("/companies/", {"q": "acme"}))
    assert "Acme Corp" in html and "Globex" not in html


def test_unknown_filter_is_a_clear_400(web, rep_a):
    r = web(rep_a).get("/companies/", {"nonsense": "1"})
    assert r.status_code == 400
    assert "Unknown filter" in names(r)


def test_custom_field_column_and_filter(web, rep_a):
    CustomField.objects.create(object_type="company", key="region", label="Region", field_type="text")
    companies.company_create(actor=rep_a, data={"name": "North Co", "custom_fields": {"region": "North"}})
    companies.company_create(actor=rep_a, data={"name": "South Co", "custom_fields": {"region": "South"}})
    html = names(web(rep_a).get("/companies/", {"cf_region__contains": "nor"}))
    assert 'aria-label="Filter by Region"' in html
    assert "North Co" in html and "South Co" not in html


def test_sort_by_name_descending(web, rep_a):
    for name in ("Alpha", "Beta", "Gamma"):
        companies.company_create(actor=rep_a, data={"name": name})
    html = names(web(rep_a).get("/companies/", {"sort": "-name"}))
    assert html.index("Gamma") < html.index("Beta") < html.index("Alpha")


def test_cursor_pagination_without_a_count(web, rep_a):
    CompanyFactory.create_batch(55, owner=rep_a)
    client = web(rep_a)
    first = client.get("/companies/", {"sort": "name"})
    assert first.context["next_cursor"]
    assert len(first.context["rows"]) == 50
    second = client.get("/companies/", {"sort": "name", "cursor": first.context["next_cursor"]})
    assert len(second.context["rows"]) == 5
    assert not {c.pk for c in first.context["rows"]} & {c.pk for c in second.context["rows"]}
    assert second.context["next_cursor"] is None


def test_builtin_view_my_open_deals(web, rep_a, big_deal):
    html = names(web(rep_a).get("/deals/"))
    assert "My open deals" in html and "Closing this month" in html


def test_save_a_shared_view_and_the_team_sees_it(web, rep_a, manager, rep_b):
    r = web(rep_a).post(
        "/deals/views/", {"name": "Big ones", "query": "amount__gte=10000&sort=-amount", "shared": "on"}
    )
    assert r.status_code == 302
    view = SavedView.objects.get(name="Big ones")
    assert view.query == "amount__gte=10000&sort=-amount" and view.shared
    assert "Big ones" in names(web(manager).get("/deals/"))
    assert "Big ones" not in names(web(rep_b).get("/deals/"))


def test_only_the_owner_deletes_a_view(web, rep_a, manager):
    view = SavedView.objects.create(owner=rep_a, kind="deals", name="Mine", query="", shared=True)
    assert web(manager).post(f"/views/{view.pk}/delete/").status_code == 404
    assert web(rep_a).post(f"/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_empty_state_invites_to_add(web, rep_a):
    html = names(web(rep_a).get("/companies/"))
    assert "No companies yet" in html and "/companies/new/" in html


def test_read_only_user_gets_no_new_button(web, readonly, acme):
    html = names(web(readonly).get("/companies/"))
    assert "Acme Corp" in html and "New company" not in html


@pytest.mark.parametrize("slug", ["companies", "contacts", "leads", "deals", "tasks"])
def test_every_list_renders(web, admin_user, acme, ada, big_deal, lead_x, call_task, slug):
    r = web(admin_user).get(f"/{slug}/")
    assert r.status_code == 200
    assert r.context["rows"]


def test_unknown_pages_are_404(web, rep_a):
    assert web(rep_a).get("/widgets/").status_code == 404
    assert web(rep_a).get("/board/", {"pipeline": "999"}).status_code == 404
    assert web(rep_a).get("/companies/999999/").status_code == 404


def test_htmx_filtering_returns_the_page_for_hx_select(web, rep_a, acme):
    r = web(rep_a).get("/companies/", {"name__contains": "acm"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and 'id="results"' in r.content.decode()


def test_saving_a_view_needs_a_name(web, rep_a):
    r = web(rep_a).post("/deals/views/", {"name": " ", "query": "status=open"}, follow=True)
    assert "Give the view a name." in r.content.decode()
    assert not SavedView.objects.exists()


def test_filters_of_a_saved_view_survive_in_the_filter_form(web, rep_a):
    page = names(web(rep_a).get("/leads/", {"status__in": "new,working", "view": "mine"}))
    assert '<input type="hidden" name="status__in" value="new,working">' in page
