"""Tasks: one-click complete, overdue highlighting; the home page ("my day")."""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from crm.records.models import Task
from crm.records.services import activities, deals

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_complete_with_one_click(web, rep_a, call_task):
    r = web(rep_a).post(f"/tasks/{call_task.pk}/complete/", **HTMX)
    assert r.status_code == 200 and 'aria-label="Done"' in r.content.decode()
    call_task.refresh_from_db()
    assert call_task.status == "done" and call_task.completed_at


def test_complete_without_htmx_goes_back(web, rep_a, call_task):
    r = web(rep_a).post(f"/tasks/{call_task.pk}/complete/", {"next": "/tasks/?view=mine"})
    assert r.status_code == 302 and r["Location"] == "/tasks/?view=mine"
    r = web(rep_a).post(f"/tasks/{call_task.pk}/complete/", {"next": "https://evil.example/"})
    assert r["Location"] == "/tasks/"


def test_others_cannot_complete_my_task(web, rep_b, call_task):
    assert web(rep_b).post(f"/tasks/{call_task.pk}/complete/").status_code == 404
    assert Task.objects.get(pk=call_task.pk).status == "open"


def test_overdue_tasks_are_highlighted(web, rep_a):
    activities.task_create(actor=rep_a, data={"title": "Late one", "due_at": timezone.now() - dt.timedelta(days=2)})
    page = web(rep_a).get("/tasks/").content.decode()
    assert 'class="overdue"' in page


def test_home_shows_my_day(web, rep_a, rep_b, pipeline):
    now = timezone.now()
    activities.task_create(actor=rep_a, data={"title": "Overdue call", "due_at": now - dt.timedelta(days=1)})
    activities.task_create(actor=rep_a, data={"title": "Next week", "due_at": now + dt.timedelta(days=7)})
    activities.task_create(actor=rep_b, data={"title": "Not mine", "due_at": now})
    deals.deal_create(
        actor=rep_a,
        data={
            "name": "Closing soon",
            "amount": "100",
            "pipeline_id": pipeline.pk,
            "expected_close_date": timezone.localdate().isoformat(),
        },
    )
    page = web(rep_a).get("/").content.decode()
    assert "Overdue call" in page and "overdue" in page
    assert "Next week" not in page and "Not mine" not in page
    assert "Closing soon" in page


def test_home_shows_recent_activity_on_my_records(web, rep_a, ada):
    activities.activity_create(actor=rep_a, data={"kind": "call", "subject": "Checked in", "contact_id": ada.pk})
    assert "Checked in" in web(rep_a).get("/").content.decode()


def test_home_quick_task(web, rep_a):
    r = web(rep_a).post(
        "/tasks/new/", {"title": "From home", "priority": "normal", "status": "open", "assignee": rep_a.pk}
    )
    assert r.status_code == 302
    assert Task.objects.get(title="From home").assignee == rep_a


def test_task_list_has_one_click_complete(web, rep_a, call_task):
    client = web(rep_a)
    page = client.get("/tasks/").content.decode()
    assert f'hx-post="/tasks/{call_task.pk}/complete/?as=cell"' in page
    r = client.post(f"/tasks/{call_task.pk}/complete/?as=cell", **HTMX)
    assert r.status_code == 200 and 'aria-label="Done"' in r.content.decode()
    assert Task.objects.get(pk=call_task.pk).status == "done"


@pytest.mark.usefixtures("foreign_currencies")
def test_home_chart_totals_each_currency_apart(web, rep_a, pipeline):
    for name, amount, currency in (("Big", "12000", "USD"), ("Small", "1000", "EUR"), ("Other", "500", "USD")):
        data = {"name": name, "amount": amount, "currency": currency, "pipeline_id": pipeline.pk}
        deals.deal_create(actor=rep_a, data=data)
    html = web(rep_a).get("/").content.decode()
    assert "$12,500" in html and "€1,000" in html  # per currency in the chart's table
    assert "13,500" not in html and "13500" not in html  # never added across currencies
    data = json.loads(re.search(r'<script id="pipeline-data" type="application/json">(.*?)</script>', html).group(1))
    assert data["currencies"] == ["EUR", "USD"] and data["rows"][0]["totals"] == {"EUR": 1000.0, "USD": 12500.0}
