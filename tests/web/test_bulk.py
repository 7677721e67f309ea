"""Bulk actions on list rows (all-or-nothing) and CSV export."""

from crm.records.models import Company
from crm.records.services import companies


def test_bulk_assign_owner(web, manager, rep_a, acme):
    other = companies.company_create(actor=rep_a, data={"name": "Other"}).obj
    r = web(manager).post("/companies/bulk/", {"action": "assign", "owner": manager.pk, "ids": [acme.pk, other.pk]})
    assert r.status_code == 302
    assert set(Company.objects.values_list("owner_id", flat=True)) == {manager.pk}


def test_bulk_add_and_remove_tag(web, rep_a, acme):
    client = web(rep_a)
    client.post("/companies/bulk/", {"action": "add_tag", "tag": "Key account", "ids": [acme.pk]})
    assert [t.name for t in acme.tags.all()] == ["Key account"]
    client.post("/companies/bulk/", {"action": "remove_tag", "tag": "key account", "ids": [acme.pk]})
    assert not acme.tags.exists()


def test_bulk_is_all_or_nothing(web, rep_a, rep_b, acme):
    hidden = companies.company_create(actor=rep_b, data={"name": "Hidden"}).obj
    client = web(rep_a)
    r = client.post("/companies/bulk/", {"action": "add_tag", "tag": "x", "ids": [acme.pk, hidden.pk]}, follow=True)
    assert "Nothing was changed" in r.content.decode()
    assert not acme.tags.exists()


def test_bulk_delete_asks_first(web, manager, acme):
    client = web(manager)
    r = client.post("/companies/bulk/", {"action": "delete", "ids": [acme.pk], "next": "/companies/"})
    assert r.status_code == 200 and "Delete this company?" in r.content.decode()
    assert Company.objects.filter(pk=acme.pk).exists()
    r = client.post("/companies/bulk/", {"action": "delete", "confirm": "yes", "ids": [acme.pk]})
    assert r.status_code == 302 and not Company.objects.filter(pk=acme.pk).exists()


def test_bulk_without_rows_explains(web, rep_a):
    r = web(rep_a).post("/companies/bulk/", {"action": "assign"}, follow=True)
    assert "at least one row" in r.content.decode()


def test_export_needs_the_export_permission(web, rep_a, acme):
    assert web(rep_a).get("/companies/export/").status_code == 403


def test_export_csv_of_the_filtered_list(web, manager, rep_a, acme):
    companies.company_create(actor=rep_a, data={"name": "=HYPERLINK(evil)"})
    r = web(manager).get("/companies/export/", {"name__contains": "acme"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    body = b"".join(r.streaming_content).decode()
    assert "Acme Corp" in body and "HYPERLINK" not in body
    r = web(manager).get("/companies/export/")
    assert "'=HYPERLINK(evil)" in b"".join(r.streaming_content).decode()


def test_export_neutralizes_tab_and_carriage_return_formula_starts(web, manager, rep_a, acme):
    companies.company_create(actor=rep_a, data={"name": "Tab Co", "industry": "\t=cmd"})
    body = b"".join(web(manager).get("/companies/export/").streaming_content).decode()
    assert "'\t=cmd" in body
