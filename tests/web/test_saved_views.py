"""Saved views are written by their service: only the owner changes or deletes one, and every write
is in the change log."""

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from crm.web import saved_views
from crm.web.models import SavedView

pytestmark = pytest.mark.django_db


def log_of(view_pk) -> list[ObjectChange]:
    return list(ObjectChange.objects.filter(object_type="saved_view", object_id=view_pk).order_by("id"))


def make(actor, name="Big ones", shared=True, query="amount__gte=10000"):
    view, created = saved_views.saved_view_create(
        actor=actor, kind="deals", data={"name": name, "query": query, "shared": shared}
    )
    assert created
    return view


def test_create_update_and_delete_are_logged(rep_a):
    view = make(rep_a)
    [created] = log_of(view.pk)
    assert created.action == "create" and created.user == rep_a and created.object_repr == "Big ones"
    assert created.changes["query"] == [None, "amount__gte=10000"] and created.changes["owner_id"] == [None, rep_a.pk]

    saved_views.saved_view_update(view, actor=rep_a, data={"query": "amount__gte=50000", "shared": False})
    updated = log_of(view.pk)[-1]
    assert updated.action == "update"
    assert updated.changes == {"query": ["amount__gte=10000", "amount__gte=50000"], "shared": [True, False]}

    saved_views.saved_view_delete(view, actor=rep_a)
    deleted = log_of(view.pk)[-1]
    assert deleted.action == "delete" and deleted.changes["name"] == ["Big ones", None]
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_saving_the_same_name_again_replaces_the_owners_view(rep_a, manager):
    view = make(rep_a)
    again, created = saved_views.saved_view_create(
        actor=rep_a, kind="deals", data={"name": "Big ones", "query": "sort=-amount"}
    )
    assert not created and again.pk == view.pk and again.query == "sort=-amount"
    assert [e.action for e in log_of(view.pk)] == ["create", "update"]
    theirs, created = saved_views.saved_view_create(actor=manager, kind="deals", data={"name": "Big ones"})
    assert created and theirs.pk != view.pk  # a teammate's view of the same name is theirs, not a change of ours
    assert SavedView.objects.get(pk=view.pk).query == "sort=-amount"


def test_another_user_cannot_change_or_delete_a_view(rep_a, manager, rep_b):
    view = make(rep_a)  # shared: the manager sees it in the deals list, but it is not theirs
    for other in (manager, rep_b):
        with pytest.raises(NotFound):
            saved_views.saved_view_update(view, actor=other, data={"name": "Hijacked"})
        with pytest.raises(NotFound):
            saved_views.saved_view_delete(view, actor=other)
        with pytest.raises(NotFound):
            saved_views.get_managed(actor=other, pk=view.pk)
    stored = SavedView.objects.get(pk=view.pk)
    assert stored.name == "Big ones" and stored.owner == rep_a
    assert [e.action for e in log_of(view.pk)] == ["create"]


def test_invalid_views_are_refused_and_not_logged(rep_a, support):
    with pytest.raises(ValidationFailed) as exc:
        saved_views.saved_view_create(actor=rep_a, kind="deals", data={"name": "Long", "query": "q=" + "x" * 2000})
    assert "query" in exc.value.fields
    with pytest.raises(ValidationFailed):
        saved_views.saved_view_create(actor=rep_a, kind="widgets", data={"name": "Nope"})
    with pytest.raises(PermissionDenied):  # support agents may not see leads, so no lead views either
        saved_views.saved_view_create(actor=support, kind="leads", data={"name": "Leads"})
    assert not SavedView.objects.exists() and not ObjectChange.objects.filter(object_type="saved_view").exists()


def test_the_web_pages_write_through_the_service(web, rep_a, manager):
    r = web(rep_a).post("/deals/views/", {"name": "Mine", "query": "status=open", "shared": "on"})
    assert r.status_code == 302
    view = SavedView.objects.get(name="Mine")
    assert web(manager).post(f"/views/{view.pk}/delete/").status_code == 404
    assert web(rep_a).post(f"/views/{view.pk}/delete/").status_code == 302
    entries = log_of(view.pk)
    assert [(e.action, e.user, e.source) for e in entries] == [("create", rep_a, "web"), ("delete", rep_a, "web")]
