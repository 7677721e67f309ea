"""Web-to-lead: JSON and HTML form posts, round-robin owner, honeypot, per-IP rate limit, rules."""

import pytest
from django.db.models import Q
from django.test import Client

from crm.automation import rules
from crm.automation.models import WebForm
from crm.records.models import Lead, Task

pytestmark = pytest.mark.django_db
URL = "/api/v1/automation/forms/contact-us"


@pytest.fixture
def form(team, reps):
    return WebForm.objects.create(slug="contact-us", name="Contact us", assign_team=team, lead_source="website")


def post_json(client, data, ip="203.0.113.5"):
    return client.post(f"{URL}/submit", data, content_type="application/json", REMOTE_ADDR=ip)


def test_json_submission_creates_leads_round_robin(form, reps, rep_a):
    client = Client()
    owners = []
    for i in range(4):
        r = post_json(client, {"first_name": "Web", "last_name": f"Visitor{i}", "email": f"v{i}@example.org"})
        assert r.status_code == 201, r.content
        owners.append(Lead.objects.get(pk=r.json()["lead_id"]).owner_id)
    members = sorted(u.pk for u in [rep_a, *reps])
    assert owners == members
    lead = Lead.objects.get(email="v0@example.org")
    assert lead.source == "website"


def test_honeypot_and_missing_contact_details_are_refused(form):
    client = Client()
    r = post_json(client, {"last_name": "Bot", "email": "bot@example.org", "nickname": "http://spam"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "spam"
    r = post_json(client, {"last_name": "NoWay"})
    assert r.status_code == 422 and "email" in r.json()["error"]["fields"]
    r = client.post(f"{URL}/submit", "[1]", content_type="application/json")
    assert r.status_code == 422
    assert not Lead.objects.exists()


def test_rate_limit_per_ip(form):
    client = Client()
    for i in range(5):
        assert post_json(client, {"email": f"a{i}@example.org"}).status_code == 201
    r = post_json(client, {"email": "again@example.org"})
    assert r.status_code == 429 and r.json()["error"]["code"] == "throttled"
    assert post_json(client, {"email": "other@example.org"}, ip="198.51.100.7").status_code == 201
    assert Lead.objects.count() == 6


def test_embeddable_html_form_posts_without_csrf_or_login(form):
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"{URL}/embed")
    assert page.status_code == 200 and "X-Frame-Options" not in page.headers
    html = page.content.decode()
    assert 'name="email"' in html and 'name="nickname"' in html
    r = client.post(f"{URL}/submit", {"first_name": "Html", "email": "html@example.org"}, REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 201 and "Thank you" in r.content.decode()
    assert Lead.objects.filter(email="html@example.org").exists()
    r = client.post(f"{URL}/submit", {"first_name": "Html"}, REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 422 and "email" in r.content.decode()
    assert Client().get("/api/v1/automation/forms/nope/embed").status_code == 404


def test_submission_triggers_rules(form, admin_user, commit):
    rules.rule_create(
        actor=admin_user,
        data={
            "name": "web lead",
            "object_type": "lead",
            "trigger_type": "form_submitted",
            "trigger": {"form": "contact-us"},
            "actions": [{"type": "create_task", "title": "Call {{name}} within 1 hour", "due_in_hours": 1}],
        },
    )
    with commit():
        r = post_json(Client(), {"first_name": "Rule", "last_name": "Fired", "email": "r@example.org"})
    task = Task.objects.get(Task.linked_q("lead", Q(record_id=r.json()["lead_id"])))
    assert (
        task.title == "Call Rule Fired within 1 hour"
        and task.assignee_id == Lead.objects.get(pk=task.linked_ids("lead")[0]).owner_id
    )


def test_forms_api_is_for_admins(api, admin_user, rep_a, team):
    r = api(admin_user).post("/automation/forms", {"slug": "demo", "name": "Demo", "assign_team_id": team.pk})
    assert r.status_code == 201
    assert api(admin_user).post("/automation/forms", {"slug": "demo", "name": "Again"}).status_code == 422
    assert api(rep_a).get("/automation/forms").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner_id": 999_999}, "owner_id"),  # the foreign key failed only at commit: a 500
        ({"owner_id": 2**70}, "owner_id"),  # past a 64-bit key: the driver overflowed
        ({"assign_team_id": 999_999}, "assign_team_id"),
        ({"slug": "not a slug!"}, "slug"),
        ({"slug": "s" * 51}, "slug"),  # PostgreSQL: value too long
        ({"name": ""}, "name"),
        ({"name": "Nul\x00"}, "name"),  # PostgreSQL refuses NUL in text
        ({"lead_source": "x" * 101}, "lead_source"),
    ],
)
def test_form_create_refuses_bad_values_naming_the_field(api, admin_user, body, field):
    r = api(admin_user).post("/automation/forms", {"slug": "demo", "name": "Demo", **body})
    assert r.status_code == 422, r.content
    assert list(r.json()["error"]["fields"]) == [field]
    assert not WebForm.objects.exists()


def test_form_create_takes_an_active_owner(api, admin_user, rep_a):
    r = api(admin_user).post("/automation/forms", {"slug": "demo", "name": "Demo", "owner_id": rep_a.pk})
    assert r.status_code == 201 and WebForm.objects.get(slug="demo").owner == rep_a
    rep_a.is_active = False
    rep_a.save()
    r = api(admin_user).post("/automation/forms", {"slug": "demo2", "name": "Demo", "owner_id": rep_a.pk})
    assert r.status_code == 422 and "owner_id" in r.json()["error"]["fields"]


def test_web_form_writes_are_in_the_change_log(api, admin_user, rep_a, team):
    from crm.audit.models import ObjectChange
    from crm.automation import webforms

    r = api(admin_user).post("/automation/forms", {"slug": "demo", "name": "Demo", "assign_team_id": team.pk})
    form = WebForm.objects.get(pk=r.json()["id"])
    form = webforms.webform_update(form, actor=admin_user, data={"owner_id": rep_a.pk, "assign_team_id": None})
    webforms.webform_delete(form, actor=admin_user)
    rows = list(ObjectChange.objects.filter(object_type="web_form", object_id=form.pk).order_by("id"))
    assert [row.action for row in rows] == ["create", "update", "delete"]
    assert [row.source for row in rows] == ["api", "system", "system"]
    assert rows[0].changes["slug"] == [None, "demo"] and rows[0].user_id == admin_user.pk
    assert rows[1].changes == {"owner_id": [None, rep_a.pk], "assign_team_id": [team.pk, None]}
    assert rows[2].changes["slug"] == ["demo", None]
    assert not WebForm.objects.exists()


def test_web_form_services_refuse_non_admins_and_write_nothing(form, rep_a, manager):
    from crm.audit.models import ObjectChange
    from crm.automation import webforms
    from crm.core.errors import PermissionDenied

    for actor in (rep_a, manager):
        with pytest.raises(PermissionDenied):
            webforms.webform_create(actor=actor, data={"slug": "mine", "name": "Mine"})
        with pytest.raises(PermissionDenied):
            webforms.webform_update(form, actor=actor, data={"owner_id": actor.pk})
        with pytest.raises(PermissionDenied):
            webforms.webform_delete(form, actor=actor)
    assert list(WebForm.objects.values_list("slug", "owner_id")) == [("contact-us", None)]
    assert not ObjectChange.objects.filter(object_type="web_form").exists()
