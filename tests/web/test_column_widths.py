"""Column widths of list pages (crm/web/column_widths.py): kept per user, per list and per view of it;
checked (columns the role sees, sane pixels, views the user sees); logged; gone with their view."""

import json
import re

import pytest

from crm.audit.models import ObjectChange
from crm.web.models import ColumnWidths, SavedView

pytestmark = pytest.mark.django_db


def table_widths(html: str) -> tuple[dict, str]:
    tag = re.search(r"<table class=\"records listtable[^>]*>", html).group(0)
    raw = re.search(r'data-widths="([^"]*)"', tag).group(1).replace("&quot;", '"')
    return json.loads(raw), re.search(r'data-widths-view="([^"]*)"', tag).group(1)


def test_widths_are_kept_per_user_and_list(web, rep_a, rep_b, ada):
    client = web(rep_a)
    assert table_widths(client.get("/contacts/").content.decode()) == ({}, "")
    r = client.post("/contacts/widths/", {"view": "", "widths": "name:260,email:140"})
    assert r.status_code == 204
    assert table_widths(client.get("/contacts/").content.decode()) == ({"name": 260, "email": 140}, "")
    assert table_widths(web(rep_b).get("/contacts/").content.decode())[0] == {}  # another user
    assert table_widths(client.get("/companies/").content.decode())[0] == {}  # another list
    assert table_widths(client.get("/contacts/?view=mine").content.decode()) == ({}, "mine")  # a view
    client.post("/contacts/widths/", {"view": "", "widths": "name:300"})  # replaces what was kept
    assert ColumnWidths.objects.get(owner=rep_a, kind="contacts", view="").widths == {"name": 300}
    assert ObjectChange.objects.filter(object_type="column_widths", user=rep_a).count() == 2


def test_a_saved_view_has_its_own_widths_per_member(web, rep_a, manager, ada):
    view = SavedView.objects.create(owner=rep_a, kind="contacts", name="Team", query="q=ada", shared=True)
    for user, px in ((rep_a, 200), (manager, 420)):
        assert web(user).post("/contacts/widths/", {"view": str(view.pk), "widths": f"name:{px}"}).status_code == 204
    url = f"/contacts/?q=ada&view={view.pk}"
    assert table_widths(web(rep_a).get(url).content.decode()) == ({"name": 200}, str(view.pk))
    assert table_widths(web(manager).get(url).content.decode()) == ({"name": 420}, str(view.pk))
    assert table_widths(web(rep_a).get("/contacts/").content.decode())[0] == {}  # the list keeps its own
    web(rep_a).post(f"/views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert not ColumnWidths.objects.filter(view=str(view.pk)).exists()  # gone with the view, for everyone


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"widths": "password:200"}, "No column password in this list."),
        ({"widths": "name:5"}, "A column is 40 to 1200 pixels wide (name is not)."),
        ({"widths": "name:99999"}, "A column is 40 to 1200 pixels wide (name is not)."),
        ({"widths": "name:wide"}, "'name:wide' is not column:pixels."),
        ({"widths": "name:200", "view": "999999"}, "No view '999999' of this list."),
        ({"widths": "name:200", "view": "month"}, "No view 'month' of this list."),  # a deals view only
    ],
)
def test_bad_widths_are_refused_by_name_and_nothing_is_kept(web, rep_a, data, message):
    r = web(rep_a).post("/contacts/widths/", data)
    assert r.status_code == 400 and r.json() == {"error": message}
    assert not ColumnWidths.objects.exists()


def test_another_users_private_view_is_refused(web, rep_a, rep_b):
    view = SavedView.objects.create(owner=rep_b, kind="contacts", name="Mine", query="", shared=False)
    r = web(rep_a).post("/contacts/widths/", {"view": str(view.pk), "widths": "name:200"})
    assert r.status_code == 400 and not ColumnWidths.objects.exists()


def test_a_hidden_field_keeps_no_width(web, rep_a, ada):
    from crm.access.models import Role
    from crm.access.policy import forget

    web(rep_a).post("/contacts/widths/", {"widths": "name:200,email:150"})
    Role.objects.filter(pk=rep_a.profile.role_id).update(field_access={"contact": {"email": "hidden"}})
    forget(rep_a)
    assert table_widths(web(rep_a).get("/contacts/").content.decode())[0] == {"name": 200}
    assert web(rep_a).post("/contacts/widths/", {"widths": "email:150"}).status_code == 400


def test_reset_from_the_column_chooser_goes_back_to_the_list(web, rep_a, readonly, ada):
    client = web(rep_a)
    client.post("/contacts/widths/", {"widths": "name:200"})
    assert "Reset widths" in client.get("/contacts/").content.decode()
    r = client.post("/contacts/widths/", {"reset": "1", "view": "", "next": "/contacts/?q=ada"})
    assert r.status_code == 302 and r["Location"] == "/contacts/?q=ada"
    assert not ColumnWidths.objects.exists()
    assert "Reset widths" not in client.get("/contacts/").content.decode()
    # a read-only user keeps widths too (a preference, not a change to records)
    assert web(readonly).post("/contacts/widths/", {"widths": "name:200"}).status_code == 204


def test_signed_out_or_without_the_list_nothing_is_kept(web, rep_a):
    from crm.access.models import Role
    from crm.access.policy import forget

    assert web(None).post("/contacts/widths/", {"widths": "name:200"}).status_code == 302  # to sign in
    role = Role.objects.get(pk=rep_a.profile.role_id)
    role.permissions = {k: v for k, v in role.permissions.items() if k != "contact"}
    role.save()
    forget(rep_a)
    assert web(rep_a).post("/contacts/widths/", {"widths": "name:200"}).status_code == 403
    assert not ColumnWidths.objects.exists()
