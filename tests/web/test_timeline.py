"""Quick-add of notes, calls, meetings and tasks on a record page, and the timeline filter."""

from crm.records.models import Activity, Task
from crm.records.services import activities
from tests.factories import links_of

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_log_a_call_with_htmx_updates_the_timeline(web, rep_a, ada, acme):
    r = web(rep_a).post(
        f"/contacts/{ada.pk}/quick/activity/",
        {"kind": "call", "subject": "Discovery call", "duration_minutes": "15", "outcome": "Connected"},
        **HTMX,
    )
    assert r.status_code == 200
    call = Activity.objects.get(subject="Discovery call")
    assert call.kind == "call" and links_of(call) == {"contact": [ada.pk], "company": [acme.pk]} and call.owner == rep_a
    page = r.content.decode()
    assert 'id="timeline" hx-swap-oob="true"' in page and "Discovery call" in page and "15 min" in page
    # It shows on the company's timeline too.
    assert "Discovery call" in web(rep_a).get(f"/companies/{acme.pk}/").content.decode()


def test_quick_add_errors_come_back_on_the_form(web, rep_a, ada):
    r = web(rep_a).post(f"/contacts/{ada.pk}/quick/activity/", {"kind": "note"}, **HTMX)
    assert r.status_code == 422
    assert "Write a subject or a note." in r.content.decode()
    assert not Activity.objects.exists()


def test_quick_add_without_htmx_redirects_back(web, rep_a, big_deal):
    r = web(rep_a).post(f"/deals/{big_deal.pk}/quick/activity/", {"kind": "meeting", "body": "Kick-off"})
    assert r.status_code == 302 and r["Location"] == f"/deals/{big_deal.pk}/"
    assert Activity.objects.get(body="Kick-off").linked_ids("deal") == [big_deal.pk]


def test_quick_add_a_task(web, rep_a, lead_x):
    r = web(rep_a).post(f"/leads/{lead_x.pk}/quick/task/", {"title": "Qualify budget", "priority": "high"}, **HTMX)
    assert r.status_code == 200
    task = Task.objects.get(title="Qualify budget")
    assert links_of(task) == {"lead": [lead_x.pk]} and task.assignee == rep_a and task.priority == "high"


def test_quick_add_on_a_hidden_record_is_404(web, rep_b, ada):
    r = web(rep_b).post(f"/contacts/{ada.pk}/quick/activity/", {"kind": "note", "body": "x"}, **HTMX)
    assert r.status_code == 404
    assert not Activity.objects.exists()


def test_read_only_user_sees_no_quick_add_and_cannot_post(web, readonly, ada):
    assert 'id="quick-add"' not in web(readonly).get(f"/contacts/{ada.pk}/").content.decode()
    r = web(readonly).post(f"/contacts/{ada.pk}/quick/activity/", {"kind": "note", "body": "x"}, **HTMX)
    assert r.status_code == 403
    assert not Activity.objects.exists()


def test_timeline_filter_by_type(web, rep_a, ada):
    activities.activity_create(actor=rep_a, data={"kind": "call", "subject": "A call", "contact_id": ada.pk})
    activities.activity_create(actor=rep_a, data={"kind": "note", "subject": "A note", "contact_id": ada.pk})
    page = web(rep_a).get(f"/contacts/{ada.pk}/timeline/", {"show": "call"}).content.decode()
    assert "A call" in page and "A note" not in page and "Created by" not in page
    page = web(rep_a).get(f"/contacts/{ada.pk}/timeline/", {"show": "change"}).content.decode()
    assert "Created by rep_a" in page and "A call" not in page


def test_timeline_shows_changes_with_before_and_after(web, rep_a, ada):
    from crm.records.services import contacts

    contacts.contact_update(ada, actor=rep_a, data={"title": "Analyst"})
    page = web(rep_a).get(f"/contacts/{ada.pk}/").content.decode()
    assert "Updated by rep_a" in page and "<ins>Analyst</ins>" in page
