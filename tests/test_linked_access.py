"""Seeing a record through a link is for reading only: a rep who sees a colleague's activity or task
because it is linked to the rep's own company may not change or delete it, through the API, the web
pages or a service called directly; feeds and lists show no record the user may not open."""

import pytest
from django.test import Client

from crm.core.errors import NotFound, PermissionDenied
from crm.records.models import Activity, Task
from crm.records.services import activities, companies, contacts


@pytest.fixture
def acme(rep_a):
    return companies.company_create(actor=rep_a, data={"name": "Acme Corp"}).obj


@pytest.fixture
def colleague_call(admin_user, rep_b, acme):
    """rep_b's call (another team), logged on rep_a's company."""
    data = {"kind": "call", "subject": "Pricing call", "company_id": acme.pk, "owner_id": rep_b.pk}
    return activities.activity_create(actor=admin_user, data=data).obj


@pytest.fixture
def colleague_task(admin_user, rep_b, acme):
    data = {"title": "Send the quote", "company_id": acme.pk, "assignee_id": rep_b.pk}
    return activities.task_create(actor=admin_user, data=data).obj


def test_a_linked_activity_is_readable_but_not_writable_through_the_api(api, rep_a, colleague_call):
    client = api(rep_a)
    assert client.get(f"/activities/{colleague_call.pk}").status_code == 200  # on my company's timeline
    assert client.patch(f"/activities/{colleague_call.pk}", {"subject": "Mine now"}).status_code == 403
    assert client.delete(f"/activities/{colleague_call.pk}").status_code == 403
    colleague_call.refresh_from_db()
    assert colleague_call.subject == "Pricing call" and colleague_call.version == 1


def test_services_refuse_a_write_the_caller_did_not_check(rep_a, rep_b, colleague_call, colleague_task):
    """A caller that forgets to check (a new view, a script) must not open a hole: the service checks."""
    with pytest.raises(PermissionDenied):
        activities.activity_update(colleague_call, actor=rep_a, data={"subject": "x"})
    with pytest.raises(PermissionDenied):
        activities.activity_delete(colleague_call, actor=rep_a)
    with pytest.raises(PermissionDenied):
        activities.task_complete(colleague_task, actor=rep_a)
    with pytest.raises(PermissionDenied):
        activities.task_delete(colleague_task, actor=rep_a)
    assert Activity.objects.filter(pk=colleague_call.pk).exists() and Task.objects.get().status == "open"
    # Its owner still may.
    activities.task_complete(colleague_task, actor=rep_b)
    assert Task.objects.get().status == "done"


def test_a_service_answers_not_found_for_a_record_the_actor_cannot_see(rep_a, rep_b):
    theirs = contacts.contact_create(actor=rep_b, data={"first_name": "Bo", "last_name": "Hidden"}).obj
    call = activities.activity_create(actor=rep_b, data={"kind": "call", "contact_id": theirs.pk}).obj
    with pytest.raises(NotFound):
        contacts.contact_update(theirs, actor=rep_a, data={"title": "CEO"})
    with pytest.raises(NotFound):
        activities.activity_delete(call, actor=rep_a)
    assert Activity.objects.filter(pk=call.pk).exists()


def test_the_team_manager_may_still_change_a_team_members_activity(manager, rep_a, acme):
    call = activities.activity_create(actor=rep_a, data={"kind": "call", "company_id": acme.pk}).obj
    saved = activities.activity_update(call, actor=manager, data={"outcome": "reached"})
    assert saved.obj.outcome == "reached"
    activities.activity_delete(saved.obj, actor=manager)
    assert not Activity.objects.filter(pk=call.pk).exists()


def test_web_pages_offer_no_edit_and_refuse_the_write(rep_a, colleague_task):
    client = Client()
    client.force_login(rep_a)
    page = client.get(f"/tasks/{colleague_task.pk}/")
    assert page.status_code == 200 and f"/tasks/{colleague_task.pk}/edit/" not in page.content.decode()
    assert client.get(f"/tasks/{colleague_task.pk}/edit/").status_code == 403
    assert client.post(f"/tasks/{colleague_task.pk}/delete/").status_code == 403
    assert Task.objects.filter(pk=colleague_task.pk).exists()


def test_home_feed_shows_no_record_the_user_may_not_open(admin_user, rep_a, rep_b, acme):
    hidden = contacts.contact_create(actor=rep_b, data={"first_name": "Zora", "last_name": "Secret"}).obj
    data = {"kind": "meeting", "subject": "Kick-off", "company_id": acme.pk, "contact_id": hidden.pk}
    activities.activity_create(actor=admin_user, data={**data, "owner_id": rep_a.pk})
    client = Client()
    client.force_login(rep_a)
    html = client.get("/").content.decode()
    assert "Kick-off" in html and "Acme Corp" in html  # on my company: listed, linked to the company
    assert "Zora" not in html and f"/contacts/{hidden.pk}/" not in html


def test_lists_show_no_linked_record_the_user_may_not_open(admin_user, rep_a, rep_b):
    theirs = companies.company_create(actor=rep_b, data={"name": "Hidden Industries"}).obj
    data = {"first_name": "Cy", "last_name": "Mine", "company_id": theirs.pk, "owner_id": rep_a.pk}
    contacts.contact_create(actor=admin_user, data=data)
    client = Client()
    client.force_login(rep_a)
    html = client.get("/contacts/").content.decode()
    assert "Mine" in html and "Hidden Industries" not in html  # the Company column stays empty
