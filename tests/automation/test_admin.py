"""Admin screens for automation: rules validated like the API, read-only logs, webhooks' secret, access."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crm.automation import rules
from crm.automation.models import Rule, RuleRun, Schedule, WebForm, WebhookDelivery, WebhookSubscription
from crm.records.models import Task
from tests.factories import LeadFactory, UserFactory

GOOD_ACTIONS = [{"type": "create_task", "title": "Call {{name}}"}]


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(root):
    return client_for(root)


def rule_post(**overrides):
    data = {
        "name": "New lead call",
        "description": "",
        "enabled": "on",
        "object_type": "lead",
        "trigger_type": "created",
        "trigger": "{}",
        "conditions": "{}",
        "actions": json.dumps(GOOD_ACTIONS),
        "_save": "Save",
    }
    return {**data, **overrides}


@pytest.fixture
def rule(root):
    return rules.rule_create(
        actor=root, data={"name": "Existing", "object_type": "lead", "trigger_type": "created", "actions": GOOD_ACTIONS}
    )


ADMIN_PAGES = [
    "/admin/automation/rule/",
    "/admin/automation/rule/add/",
    "/admin/automation/rulerun/",
    "/admin/automation/webhooksubscription/",
    "/admin/automation/webhooksubscription/add/",
    "/admin/automation/webhookdelivery/",
    "/admin/automation/webform/",
    "/admin/automation/webform/add/",
]


def test_pages_load_for_a_superuser(admin_client, rule):
    for url in [*ADMIN_PAGES, f"/admin/automation/rule/{rule.pk}/change/", f"/admin/automation/rule/{rule.pk}/test/"]:
        assert admin_client.get(url).status_code == 200, url
    assert "Automation" in admin_client.get("/admin/").content.decode()


def test_pages_refused_for_non_staff(rep_a, admin_user, rule):
    for user in (rep_a, admin_user):  # an admin role without is_staff does not reach /admin/ either
        client = client_for(user)
        for url in [*ADMIN_PAGES, f"/admin/automation/rule/{rule.pk}/test/"]:
            r = client.get(url)
            assert r.status_code == 302 and r["Location"].startswith("/admin/login/"), url


def test_staff_without_admin_role_cannot_manage_automation(rule):
    staff = UserFactory(username="staffer", role="sales-rep", is_staff=True)
    client = client_for(staff)
    assert client.get("/admin/automation/rule/").status_code == 403
    assert client.get(f"/admin/automation/rule/{rule.pk}/test/").status_code == 403
    assert "automation" not in client.get("/admin/").content.decode().lower()
    assert client.post("/admin/automation/rule/add/", rule_post()).status_code == 403
    assert Rule.objects.count() == 1


def test_add_a_valid_rule_goes_through_the_service(admin_client, root):
    r = admin_client.post("/admin/automation/rule/add/", rule_post())
    assert r.status_code == 302
    saved = Rule.objects.get(name="New lead call")
    assert saved.actions == GOOD_ACTIONS and saved.owner == root and saved.enabled
    r = admin_client.post(
        "/admin/automation/rule/add/",
        rule_post(name="Hourly", trigger_type="schedule", trigger='{"every_minutes": 60}'),
    )
    assert r.status_code == 302
    hourly = Rule.objects.get(name="Hourly")
    assert Schedule.objects.get(key=f"rule:{hourly.pk}").every_minutes == 60  # the service's schedule sync ran


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"actions": "[{not json"}, "actions", "Enter a valid JSON"),
        ({"actions": '{"type": "create_task"}'}, "actions", "Must be a list"),
        ({"actions": '[{"type": "explode"}]'}, "actions", "actions.0.type"),
        ({"actions": "[]"}, "actions", "at least one action"),
        ({"conditions": '{"none": []}'}, "conditions", "all"),
        ({"trigger_type": "won"}, "trigger_type", "Stage triggers are for deals"),
        ({"trigger_type": "schedule", "trigger": '{"cron": "nope"}'}, "trigger", "Not a valid cron"),
        ({"trigger": "[1, 2]"}, "trigger", "Must be a JSON object"),
        ({"object_type": "spaceship"}, "object_type", "Select a valid choice"),
    ],
)
def test_add_an_invalid_rule_is_a_form_error(admin_client, overrides, field, message):
    r = admin_client.post("/admin/automation/rule/add/", rule_post(**overrides))
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not Rule.objects.exists()


def test_change_a_rule(admin_client, rule):
    url = f"/admin/automation/rule/{rule.pk}/change/"
    actions = [{"type": "add_tag", "tag": "hot"}]
    r = admin_client.post(url, rule_post(name="Renamed", actions=json.dumps(actions)))
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "Renamed" and rule.actions == actions


def test_change_to_an_invalid_rule_changes_nothing(admin_client, rule):
    url = f"/admin/automation/rule/{rule.pk}/change/"
    r = admin_client.post(url, rule_post(name="Broken", actions='[{"type": "explode"}]'))
    assert r.status_code == 200 and "actions" in r.context["adminform"].form.errors
    rule.refresh_from_db()
    assert rule.name == "Existing" and rule.actions == GOOD_ACTIONS


def test_test_mode_reports_without_doing(admin_client, rule, rep_a):
    lead = LeadFactory(owner=rep_a, first_name="Ada")
    r = admin_client.post(f"/admin/automation/rule/{rule.pk}/test/", {"object_id": lead.pk})
    page = r.content.decode()
    assert r.status_code == 200 and "&quot;matched&quot;: true" in page and "create_task" in page
    assert not Task.objects.linked_to(lead).exists()  # test mode keeps nothing
    r = admin_client.post(f"/admin/automation/rule/{rule.pk}/test/", {"object_id": 999999})
    assert r.status_code == 200 and "No lead with id 999999" in r.content.decode()


def test_runs_and_deliveries_are_read_only(admin_client, rule, root):
    run = RuleRun.objects.create(rule=rule, object_type="lead", object_id=1, trigger="created", status="failed")
    assert admin_client.get("/admin/automation/rulerun/add/").status_code == 403
    page = admin_client.get(f"/admin/automation/rulerun/?rule__id__exact={rule.pk}&status__exact=failed")
    assert page.status_code == 200 and f"/admin/automation/rulerun/{run.pk}/change/" in page.content.decode()
    r = admin_client.post(f"/admin/automation/rulerun/{run.pk}/change/", {"status": "succeeded"})
    assert r.status_code == 403 or RuleRun.objects.get(pk=run.pk).status == "failed"
    assert RuleRun.objects.get(pk=run.pk).status == "failed"
    assert admin_client.get("/admin/automation/webhookdelivery/add/").status_code == 403


def test_webhook_secret_is_shown_once(admin_client, settings):
    data = {"name": "Zap", "url": "https://hooks.example.com/in", "event_types": '["deal.won"]', "object_types": "[]"}
    r = admin_client.post("/admin/automation/webhooksubscription/add/", {**data, "enabled": "on"}, follow=True)
    sub = WebhookSubscription.objects.get(name="Zap")
    assert sub.secret and sub.secret in r.content.decode() and sub.created_by.username == "root"
    page = admin_client.get(f"/admin/automation/webhooksubscription/{sub.pk}/change/").content.decode()
    assert sub.secret not in page
    WebhookDelivery.objects.create(subscription=sub, event_id="0" * 32, event_type="deal.won", payload={})
    log = admin_client.get(f"/admin/automation/webhookdelivery/?subscription__id__exact={sub.pk}").content.decode()
    assert "deal.won" in log and sub.secret not in log


def test_webhook_validated_like_the_api(admin_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    url = "/admin/automation/webhooksubscription/add/"
    base = {"name": "Bad", "event_types": "[]", "object_types": "[]"}
    r = admin_client.post(url, {**base, "url": "https://10.0.0.5/hook"})
    assert r.status_code == 200 and "url" in r.context["adminform"].form.errors
    r = admin_client.post(url, {**base, "url": "https://ok.example/hook", "event_types": '["deal.exploded"]'})
    assert r.status_code == 200 and "event_types" in r.context["adminform"].form.errors
    assert not WebhookSubscription.objects.exists()


def test_re_enabling_a_webhook_resets_its_failures(admin_client, root):
    sub = WebhookSubscription.objects.create(
        name="Tired", url="https://ok.example/h", enabled=False, consecutive_failures=5, disabled_reason="5 failures"
    )
    data = {"name": "Tired", "url": sub.url, "event_types": "[]", "object_types": "[]", "enabled": "on"}
    assert admin_client.post(f"/admin/automation/webhooksubscription/{sub.pk}/change/", data).status_code == 302
    sub.refresh_from_db()
    assert sub.enabled and sub.consecutive_failures == 0 and sub.disabled_reason == ""


def test_add_a_web_form(admin_client, team):
    data = {"slug": "contact-us", "name": "Contact us", "enabled": "on", "assign_team": team.pk}
    data |= {"lead_source": "web form", "success_message": "Thanks!"}
    assert admin_client.post("/admin/automation/webform/add/", data).status_code == 302
    assert WebForm.objects.get(slug="contact-us").assign_team == team


def test_delete_a_rule_removes_its_schedule(admin_client, root):
    hourly = rules.rule_create(
        actor=root,
        data={
            "name": "Hourly",
            "object_type": "lead",
            "trigger_type": "schedule",
            "trigger": {"every_minutes": 60},
            "actions": GOOD_ACTIONS,
        },
    )
    assert Schedule.objects.filter(key=f"rule:{hourly.pk}").exists()
    r = admin_client.post(f"/admin/automation/rule/{hourly.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not Rule.objects.filter(pk=hourly.pk).exists()
    assert not Schedule.objects.filter(key=f"rule:{hourly.pk}").exists()


def test_rule_actions_enable_and_disable(admin_client, rule):
    data = {"action": "disable", "_selected_action": [rule.pk]}
    assert admin_client.post("/admin/automation/rule/", data).status_code == 302
    rule.refresh_from_db()
    assert not rule.enabled


def test_admin_webhook_and_web_form_writes_are_in_the_change_log(admin_client, root, rep_a, team):
    from crm.audit.models import ObjectChange

    data = {"name": "Zap", "url": "https://hooks.example.com/in", "event_types": "[]", "object_types": "[]"}
    assert admin_client.post("/admin/automation/webhooksubscription/add/", data).status_code == 302
    sub = WebhookSubscription.objects.get(name="Zap")
    r = admin_client.post(f"/admin/automation/webhooksubscription/{sub.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302 and not WebhookSubscription.objects.exists()
    webhook_rows = ObjectChange.objects.filter(object_type="webhook", object_id=sub.pk).order_by("id")
    assert [(c.action, c.user_id) for c in webhook_rows] == [("create", root.pk), ("delete", root.pk)]
    assert sub.secret not in json.dumps([c.changes for c in webhook_rows])

    form = {"slug": "contact-us", "name": "Contact us", "enabled": "on", "lead_source": "web", "success_message": "Hi"}
    assert admin_client.post("/admin/automation/webform/add/", form).status_code == 302
    web_form = WebForm.objects.get(slug="contact-us")
    url = f"/admin/automation/webform/{web_form.pk}/change/"
    User.objects.filter(pk=rep_a.pk).update(is_active=False)
    r = admin_client.post(url, {**form, "owner": rep_a.pk, "name": "Renamed"})  # refused as the API refuses it
    assert r.status_code == 200 and "No active user" in str(r.context["adminform"].form.errors)
    assert WebForm.objects.get(pk=web_form.pk).name == "Contact us"
    User.objects.filter(pk=rep_a.pk).update(is_active=True)
    assert admin_client.post(url, {**form, "owner": rep_a.pk}).status_code == 302
    rows = ObjectChange.objects.filter(object_type="web_form", object_id=web_form.pk).order_by("id")
    assert [c.action for c in rows] == ["create", "update"]
    assert rows[1].changes == {"owner_id": [None, rep_a.pk]}
