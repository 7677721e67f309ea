"""The column chooser of list pages (crm/web/columns.py): a user's columns per list, in their order, kept
for them and in the views they save; the record's name always first; hidden fields never shown."""

import re

import pytest

from crm.core.errors import ValidationFailed
from crm.web import columns
from crm.web.models import ListColumns, SavedView
from crm.web.views.lists import visible_columns

pytestmark = pytest.mark.django_db


def headers(html: str) -> list[str]:
    head = html.split("<thead>", 1)[1].split('<tr class="filterrow">', 1)[0]
    return [re.sub(r"<[^>]+>|[▲▼]", "", h).strip() for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', head, re.S)]


def test_the_chosen_columns_show_in_order_and_stay_for_the_user(web, rep_a, ada):
    client = web(rep_a)
    assert headers(client.get("/contacts/").content.decode())[:4] == ["Name", "Email", "Phone", "Company"]
    r = client.post("/contacts/columns/", {"cols": ["company", "email"], "next": "/contacts/?q=ada&cols=phone"})
    assert r.status_code == 302 and r["Location"] == "/contacts/?q=ada"  # a view's own columns are dropped
    assert ListColumns.objects.get(owner=rep_a, kind="contacts").columns == ["name", "company", "email"]
    html = client.get("/contacts/").content.decode()
    assert headers(html) == ["Name", "Company", "Email"]
    assert "Ada Lovelace" in html and "ada@acme.example" in html
    # the chooser lists the shown columns first, ticked, then the others
    chooser = html.split("data-col-list", 1)[1].split("</ol>", 1)[0]
    assert (
        chooser.index('value="company" checked')
        < chooser.index('value="email" checked')
        < chooser.index('value="phone">')
    )
    client.post("/contacts/columns/", {"reset": "1", "next": "/contacts/"})
    assert not ListColumns.objects.filter(owner=rep_a).exists()
    assert headers(client.get("/contacts/").content.decode())[:2] == ["Name", "Email"]


def test_a_saved_view_keeps_its_columns(web, rep_a, ada):
    client = web(rep_a)
    client.post("/contacts/columns/", {"cols": ["email"], "next": "/contacts/"})
    html = client.get("/contacts/?q=ada").content.decode()
    assert 'id="view-query" name="query" value="q=ada&amp;cols=name%2Cemail"' in html
    client.post("/contacts/views/", {"name": "Emails", "query": "q=ada&cols=name,email"})
    view = SavedView.objects.get(name="Emails")
    assert "cols=name%2Cemail" in view.query
    client.post("/contacts/columns/", {"reset": "1"})
    assert headers(client.get(f"/contacts/?{view.query}&view={view.pk}").content.decode()) == ["Name", "Email"]
    assert "Phone" in headers(client.get("/contacts/").content.decode())  # the user's own columns again


def test_unknown_columns_are_refused_and_the_name_stays_first(rep_a, readonly):
    from crm.access.policy import policy_for
    from crm.web.registry import kind

    available = visible_columns(kind("contacts"), policy_for(rep_a))
    with pytest.raises(ValidationFailed) as exc:
        columns.columns_save(actor=rep_a, kind_slug="contacts", keys=["email", "password"], available=available)
    assert exc.value.fields == {"cols": "No column password in this list."}
    saved = columns.columns_save(actor=rep_a, kind_slug="contacts", keys=["email", "name"], available=available)
    assert saved.columns == ["name", "email"]
    shown = columns.chosen("contacts", rep_a, available, "email,nonsense,email")
    assert [c.key for c in shown] == ["name", "email"]


def test_a_hidden_field_is_never_a_column_even_when_asked_for(web, rep_a, ada):
    from crm.access.models import Role
    from crm.access.policy import forget

    Role.objects.filter(pk=rep_a.profile.role_id).update(field_access={"contact": {"email": "hidden"}})
    forget(rep_a)
    html = web(rep_a).get("/contacts/?cols=name,email,phone").content.decode()
    assert headers(html) == ["Name", "Phone"] and "ada@acme.example" not in html
    r = web(rep_a).post("/contacts/columns/", {"cols": ["email"], "next": "/contacts/"}, follow=True)
    assert "No column email in this list." in r.content.decode()
    assert not ListColumns.objects.filter(owner=rep_a).exists()


def test_the_chooser_writes_the_change_log(rep_a):
    from crm.access.policy import policy_for
    from crm.audit.models import ObjectChange
    from crm.web.registry import kind

    available = visible_columns(kind("companies"), policy_for(rep_a))
    columns.columns_save(actor=rep_a, kind_slug="companies", keys=["city"], available=available)
    assert ObjectChange.objects.filter(object_type="list_columns", user=rep_a).count() == 1
