"""Workflow rules end to end in one process: triggers, conditions, actions, history, guard rails."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.automation import actions, engine, jobs, rules
from crm.automation.models import Job, JobStatus, Notification, Rule, RuleRun, RunStatus
from crm.mail.models import OutgoingEmail
from crm.records.models import Activity, Lead, Task
from crm.records.services.deals import deal_create, deal_move_stage
from crm.records.services.leads import lead_create, lead_update

pytestmark = pytest.mark.django_db


def make_rule(admin, **data):
    base = {"name": "r", "object_type": "lead", "trigger_type": "created", "actions": []}
    return rules.rule_create(actor=admin, data={**base, **data})


def new_lead(user, commit, **data):
    with commit():
        return lead_create(actor=user, data={"last_name": "Doe", **data}).obj


def test_api_manages_rules_for_admins_only(api, admin_user, rep_a):
    body = {
        "name": "Follow up",
        "object_type": "lead",
        "trigger_type": "created",
        "actions": [{"type": "create_task", "title": "Call {{name}}"}],
    }
    assert api(rep_a).post("/automation/rules", body).status_code == 403
    r = api(admin_user).post("/automation/rules", body)
    assert r.status_code == 201, r.content
    rule_id = r.json()["id"]
    r = api(admin_user).patch(f"/automation/rules/{rule_id}", {"enabled": False})
    assert r.json()["enabled"] is False
    assert api(admin_user).delete(f"/automation/rules/{rule_id}").status_code == 204


def test_invalid_rules_get_clear_field_errors(api, admin_user):
    r = api(admin_user).post(
        "/automation/rules",
        {
            "name": "bad",
            "object_type": "lead",
            "trigger_type": "created",
            "conditions": {
                "all": [{"field": "nope", "op": "eq", "value": 1}, {"field": "score", "op": "gt", "value": "x"}]
            },
            "actions": [{"type": "create_task"}, {"type": "explode"}],
        },
    )
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]
    assert {"conditions.all.0", "conditions.all.1"} <= set(fields)
    r = api(admin_user).post(
        "/automation/rules",
        {"name": "bad", "object_type": "lead", "trigger_type": "created", "actions": [{"type": "explode"}]},
    )
    assert r.status_code == 422 and "actions.0.type" in r.json()["error"]["fields"]
    r = api(admin_user).post(
        "/automation/rules",
        {"name": "x", "object_type": "lead", "trigger_type": "won", "actions": [{"type": "add_tag", "tag": "a"}]},
    )
    assert r.status_code == 422 and "trigger_type" in r.json()["error"]["fields"]


def test_created_trigger_runs_create_task_through_services(admin_user, rep_a, commit):
    rule = make_rule(
        admin_user,
        actions=[{"type": "create_task", "title": "Call {{name}} within 1 hour", "due_in_hours": 1}],
    )
    lead = new_lead(rep_a, commit, first_name="Ann")
    task = Task.objects.linked_to(lead).get()
    assert task.title == "Call Ann Doe within 1 hour"
    assert task.assignee == rep_a  # the record's owner
    assert abs((task.due_at - timezone.now()).total_seconds() - 3600) < 120
    change = ObjectChange.objects.get(object_type="task", object_id=task.pk)
    assert change.source == "automation" and change.user_name == "automation"
    run = RuleRun.objects.get(rule=rule)
    assert run.status == RunStatus.SUCCEEDED and run.log[0]["result"]["task_id"] == task.pk


def test_conditions_all_and_any_in_sql(admin_user, rep_a, commit):
    make_rule(
        admin_user,
        conditions={
            "all": [{"field": "status", "op": "equals", "value": "new"}],
            "any": [{"field": "source", "op": "eq", "value": "web"}, {"field": "score", "op": "greater", "value": 50}],
        },
        actions=[{"type": "add_tag", "tag": "hot"}],
    )
    web = new_lead(rep_a, commit, source="web")
    scored = new_lead(rep_a, commit, score=80)
    cold = new_lead(rep_a, commit, source="fair", score=10)
    assert [t.name for t in web.tags.all()] == ["hot"]
    assert [t.name for t in scored.tags.all()] == ["hot"]
    assert not cold.tags.exists()
    assert RuleRun.objects.get(object_id=cold.pk).status == RunStatus.SKIPPED


def test_condition_operators_empty_in_contains_and_custom_fields(admin_user, rep_a, commit):
    from crm.customization.models import CustomField

    CustomField.objects.create(object_type="lead", key="region", label="Region", field_type="text")
    make_rule(
        admin_user,
        conditions={
            "all": [
                {"field": "email", "op": "is_empty"},
                {"field": "status", "op": "in_list", "value": ["new", "working"]},
                {"field": "company_name", "op": "contains", "value": "acme"},
                {"field": "cf_region", "op": "eq", "value": "emea"},
            ]
        },
        actions=[{"type": "add_tag", "tag": "match"}],
    )
    yes = new_lead(rep_a, commit, company_name="ACME Inc", custom_fields={"region": "emea"})
    no = new_lead(rep_a, commit, company_name="ACME Inc", custom_fields={"region": "apac"})
    assert yes.tags.filter(name="match").exists()
    assert not no.tags.exists()


def test_field_changed_from_to(admin_user, rep_a, commit):
    make_rule(
        admin_user,
        trigger_type="field_changed",
        trigger={"field": "status", "from": "new", "to": "working"},
        actions=[{"type": "create_activity", "kind": "note", "subject": "Started working {{name}}"}],
    )
    lead = new_lead(rep_a, commit)
    with commit():
        lead_update(lead, actor=rep_a, data={"title": "CTO"})
    assert not Activity.objects.linked_to(lead).exists()
    with commit():
        lead_update(lead, actor=rep_a, data={"status": "working"})
    assert Activity.objects.linked_to(lead).get().subject == "Started working Doe"


def test_changed_operator_as_a_condition(admin_user, rep_a, commit):
    make_rule(
        admin_user,
        trigger_type="updated",
        conditions={"all": [{"field": "score", "op": "changed"}]},
        actions=[{"type": "add_tag", "tag": "rescored"}],
    )
    lead = new_lead(rep_a, commit)
    with commit():
        lead_update(lead, actor=rep_a, data={"title": "VP"})
    assert not lead.tags.exists()
    with commit():
        lead_update(lead, actor=rep_a, data={"score": 5})
    assert lead.tags.filter(name="rescored").exists()


def test_two_rules_ping_ponging_stop_at_the_depth_limit(admin_user, rep_a, commit, settings):
    settings.AUTOMATION_MAX_DEPTH = 4
    for a, b in (("working", "nurturing"), ("nurturing", "working")):
        make_rule(
            admin_user,
            name=f"{a}->{b}",
            trigger_type="field_changed",
            trigger={"field": "status", "to": a},
            actions=[{"type": "update_fields", "fields": {"status": b}}],
        )
    lead = new_lead(rep_a, commit)
    with commit():
        lead_update(lead, actor=rep_a, data={"status": "working"})
    assert RuleRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 4
    blocked = RuleRun.objects.get(status=RunStatus.BLOCKED)
    assert "Loop protection" in blocked.error
    assert not Job.objects.filter(status=JobStatus.PENDING).exists()


def test_a_rule_retriggering_itself_is_stopped(admin_user, rep_a, commit, settings):
    settings.AUTOMATION_MAX_DEPTH = 3
    make_rule(
        admin_user,
        trigger_type="updated",
        actions=[{"type": "create_task", "title": "t"}, {"type": "update_fields", "fields": {"score": None}}],
        conditions={"all": [{"field": "score", "op": "is_not_empty"}]},
    )
    lead = new_lead(rep_a, commit)
    with commit():
        lead_update(lead, actor=rep_a, data={"score": 1})
    # The rule clears the score, so its own update does not match again: one run, no loop.
    assert RuleRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 1
    assert RuleRun.objects.filter(status=RunStatus.SKIPPED).count() == 1


def test_round_robin_assignment_and_notification(admin_user, team, reps, rep_a, commit):
    make_rule(admin_user, actions=[{"type": "assign_owner", "strategy": "round_robin", "team_id": team.pk}])
    members = sorted([rep_a, *reps], key=lambda u: u.pk)
    owners = [Lead.objects.get(pk=new_lead(admin_user, commit, owner_id=None).pk).owner_id for _ in range(5)]
    assert owners == [u.pk for u in members] + [members[0].pk]
    assert Notification.objects.filter(user=members[1], kind="assignment").count() == 1


def test_load_balanced_and_territory_assignment(admin_user, rep_a, rep_b, commit, lead_of):
    lead_of()
    lead_of()  # rep_a already has two open leads
    make_rule(
        admin_user,
        name="balance",
        conditions={"all": [{"field": "source", "op": "eq", "value": "balance"}]},
        actions=[{"type": "assign_owner", "strategy": "load_balanced", "user_ids": [rep_a.pk, rep_b.pk]}],
    )
    make_rule(
        admin_user,
        name="territory",
        conditions={"all": [{"field": "source", "op": "eq", "value": "expo"}]},
        actions=[
            {
                "type": "assign_owner",
                "strategy": "territory",
                "field": "company_name",
                "map": {"DE Corp": rep_b.pk},
                "default": rep_a.pk,
            }
        ],
    )

    def lead(**data):  # arriving without an owner, as the rules assign only those
        return Lead.objects.get(pk=new_lead(admin_user, commit, owner_id=None, **data).pk)

    assert lead(source="balance").owner == rep_b
    assert lead(source="expo", company_name="de corp").owner == rep_b
    assert lead(source="expo", company_name="US Inc").owner == rep_a


def test_deal_stage_triggers_move_and_won_notifies_team(admin_user, manager, rep_a, pipeline, commit):
    proposal = pipeline.stages.get(name="Proposal")
    won = pipeline.stages.get(name="Won")
    make_rule(
        admin_user,
        object_type="deal",
        trigger_type="stage_changed",
        trigger={"to_stage": "Proposal"},
        actions=[{"type": "create_task", "title": "Follow up on {{name}}", "due_in_days": 3}],
    )
    make_rule(
        admin_user,
        object_type="deal",
        trigger_type="won",
        actions=[{"type": "notify", "to": "team", "title": "Won: {{name}}", "email": True}],
    )
    with commit():
        deal = deal_create(actor=rep_a, data={"name": "Big", "pipeline_id": pipeline.pk}).obj
    assert not Task.objects.linked_to(deal).exists()
    with commit():
        deal_move_stage(deal, proposal, actor=rep_a)
    assert Task.objects.linked_to(deal).get().title == "Follow up on Big"
    with commit():
        deal_move_stage(deal, won, actor=rep_a)
    notified = set(Notification.objects.filter(title="Won: Big").values_list("user__username", flat=True))
    assert notified == {"manager", "rep_a"}
    mailed = OutgoingEmail.objects.filter(notification=True, subject="Won: Big")  # through the outbox (crm/mail)
    assert {m.to[0] for m in mailed} == {"manager@example.com", "rep_a@example.com"}


def test_move_stage_convert_lead_and_webhook_actions(admin_user, rep_a, pipeline, commit):
    from crm.automation.models import WebhookDelivery, WebhookSubscription

    sub = WebhookSubscription.objects.create(name="s", url="https://example.com/hook", event_types=["form.submitted"])
    make_rule(
        admin_user,
        trigger_type="field_changed",
        trigger={"field": "status", "to": "qualified"},
        actions=[
            {"type": "convert_lead", "deal_name": "{{company_name}} deal"},
            {"type": "webhook", "subscription_id": sub.pk},
        ],
    )
    lead = new_lead(rep_a, commit, company_name="Initech", email="bob@initech.example")
    with commit():
        lead_update(lead, actor=rep_a, data={"status": "qualified"})
    lead.refresh_from_db()
    assert lead.converted_at and lead.converted_deal.name == "Initech deal"
    assert WebhookDelivery.objects.get(subscription=sub, event_type="rule.action").payload["object_id"] == lead.pk
    rule = make_rule(
        admin_user,
        object_type="deal",
        trigger_type="updated",
        trigger={},
        conditions={"all": [{"field": "name", "op": "eq", "value": "move me"}]},
        actions=[{"type": "move_stage", "stage_id": pipeline.stages.get(name="Proposal").pk}],
    )
    with commit():
        deal = deal_create(actor=rep_a, data={"name": "x", "pipeline_id": pipeline.pk}).obj
        from crm.records.services.deals import deal_update

        deal_update(deal, actor=rep_a, data={"name": "move me"})
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    # Its own move is an update too: the rule runs again one level deeper, finds nothing to move, and stops.
    runs = RuleRun.objects.filter(rule=rule, status=RunStatus.SUCCEEDED).order_by("id")
    assert [r.depth for r in runs] == [0, 1]


def test_wait_then_continue(admin_user, rep_a, commit, tick):
    rule = make_rule(
        admin_user,
        actions=[
            {"type": "add_tag", "tag": "step1"},
            {"type": "wait", "hours": 2},
            {"type": "create_task", "title": "Second touch for {{name}}"},
        ],
    )
    lead = new_lead(rep_a, commit)
    run = RuleRun.objects.get(rule=rule)
    assert run.status == RunStatus.WAITING and lead.tags.filter(name="step1").exists()
    assert not Task.objects.linked_to(lead).exists()
    with commit():
        tick(timezone.now() + dt.timedelta(hours=1))
    assert not Task.objects.linked_to(lead).exists()
    with commit():
        tick(timezone.now() + dt.timedelta(hours=2, minutes=1))
        jobs.run_due(now=timezone.now() + dt.timedelta(hours=2, minutes=1))
    assert Task.objects.linked_to(lead).get().title == "Second touch for Doe"
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and [e["type"] for e in run.log] == ["add_tag", "wait", "create_task"]


def test_a_failing_action_keeps_the_users_change_and_records_the_error(admin_user, rep_a, commit):
    rule = make_rule(
        admin_user,
        actions=[{"type": "add_tag", "tag": "first"}, {"type": "update_fields", "fields": {"status": "bogus"}}],
    )
    lead = new_lead(rep_a, commit, first_name="Kept")
    assert Lead.objects.get(pk=lead.pk).first_name == "Kept"
    run = RuleRun.objects.get(rule=rule)
    assert run.status == RunStatus.FAILED and "status" in run.log[-1]["fields"]
    assert not lead.tags.exists()  # the run is all-or-nothing: the first action was rolled back too


def test_unexpected_errors_are_retried_with_backoff(admin_user, rep_a, commit, monkeypatch):
    calls = []
    real = actions.ACTIONS["add_tag"]

    def flaky(ctx, params):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("mail server down")
        return real[1](ctx, params)

    monkeypatch.setitem(actions.ACTIONS, "add_tag", (real[0], flaky))
    rule = make_rule(admin_user, actions=[{"type": "add_tag", "tag": "x"}])
    lead = new_lead(rep_a, commit)
    run = RuleRun.objects.get(rule=rule)
    assert run.status == RunStatus.RETRYING and "mail server down" in run.error
    job = Job.objects.get(kind="rule.run")
    assert job.status == JobStatus.PENDING and job.run_at > timezone.now() + dt.timedelta(seconds=20)
    with commit():
        assert jobs.run_due(now=job.run_at) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.attempts == 2
    assert RuleRun.objects.filter(rule=rule).count() == 1 and lead.tags.filter(name="x").exists()


def test_test_mode_reports_without_doing(api, admin_user, rep_a, commit):
    rule = make_rule(
        admin_user,
        enabled=False,
        conditions={"all": [{"field": "source", "op": "eq", "value": "web"}]},
        actions=[
            {"type": "create_task", "title": "Call {{name}}"},
            {"type": "notify", "to": "owner", "title": "New lead"},
            {"type": "wait", "days": 1},
            {"type": "add_tag", "tag": "t"},
        ],
    )
    lead = new_lead(rep_a, commit, source="web")
    before = (Task.objects.count(), Notification.objects.count())
    r = api(admin_user).post(f"/automation/rules/{rule.pk}/test", {"object_id": lead.pk})
    assert r.status_code == 200, r.content
    report = r.json()
    assert report["matched"] is True and report["conditions"][0]["result"] is True
    assert [a["type"] for a in report["actions"]] == ["create_task", "notify", "wait", "add_tag"]
    assert report["actions"][0]["result"]["title"] == "Call Doe"
    assert report["actions"][1]["result"]["notified"] == [rep_a.pk]
    assert (Task.objects.count(), Notification.objects.count()) == before
    assert not lead.tags.exists() and not RuleRun.objects.exists()
    assert api(admin_user).post(f"/automation/rules/{rule.pk}/test", {"object_id": 999999}).status_code == 404


def test_run_history_per_rule_and_per_record(api, admin_user, rep_a, rep_b, commit):
    rule = make_rule(admin_user, actions=[{"type": "add_tag", "tag": "t"}])
    lead = new_lead(rep_a, commit)
    r = api(admin_user).get(f"/automation/rules/{rule.pk}/runs")
    assert r.json()[0]["status"] == "succeeded" and r.json()[0]["trigger"] == "record.created"
    r = api(rep_a).get("/automation/runs", {"object_type": "lead", "object_id": lead.pk})
    assert r.status_code == 200 and [x["rule_id"] for x in r.json()] == [rule.pk]
    assert api(rep_b).get("/automation/runs", {"object_type": "lead", "object_id": lead.pk}).status_code == 404


def test_date_relative_rule_fires_once_per_record(admin_user, rep_a, pipeline, commit, tick):
    rule = make_rule(
        admin_user,
        object_type="deal",
        trigger_type="date",
        trigger={"field": "expected_close_date", "offset_days": -30},
        actions=[{"type": "create_task", "title": "Renewal coming for {{name}}"}],
    )
    today = timezone.now().date()
    with commit():
        soon = deal_create(
            actor=rep_a,
            data={
                "name": "soon",
                "pipeline_id": pipeline.pk,
                "expected_close_date": str(today + dt.timedelta(days=20)),
            },
        ).obj
        later = deal_create(
            actor=rep_a,
            data={
                "name": "later",
                "pipeline_id": pipeline.pk,
                "expected_close_date": str(today + dt.timedelta(days=60)),
            },
        ).obj
    Rule.objects.filter(pk=rule.pk).update(created_at=timezone.now() - dt.timedelta(days=15))
    with commit():
        assert tick()["date_rules"] == 1
    with commit():
        assert tick()["date_rules"] == 0
    assert Task.objects.linked_to(soon).count() == 1 and not Task.objects.linked_to(later).exists()
    with commit():  # 31 days later the other deal is due (catch-up, once)
        assert tick(timezone.now() + dt.timedelta(days=31))["date_rules"] == 1
        jobs.run_due(now=timezone.now() + dt.timedelta(days=31))
    assert Task.objects.linked_to(later).count() == 1


def test_task_overdue_trigger(admin_user, rep_a, commit, tick):
    from crm.records.services.activities import task_create

    make_rule(
        admin_user,
        object_type="task",
        trigger_type="task_overdue",
        actions=[{"type": "notify", "to": "owner", "title": "Overdue: {{title}}"}],
    )
    with commit():
        task_create(actor=rep_a, data={"title": "Send quote", "due_at": timezone.now() + dt.timedelta(hours=1)})
    with commit():
        tick(timezone.now() + dt.timedelta(hours=2))
        tick(timezone.now() + dt.timedelta(hours=3))
        jobs.run_due(now=timezone.now() + dt.timedelta(hours=3))
    assert list(Notification.objects.values_list("title", flat=True)) == ["Overdue: Send quote"]


def test_recurring_rule_sweeps_matching_records_once_per_due_time(admin_user, rep_a, commit, tick, lead_of):
    stale = lead_of(status="working")
    lead_of(status="new")
    rule = make_rule(
        admin_user,
        trigger_type="schedule",
        trigger={"every_minutes": 60},
        conditions={"all": [{"field": "status", "op": "eq", "value": "working"}]},
        actions=[{"type": "create_task", "title": "Check in with {{name}}"}],
    )
    later = timezone.now() + dt.timedelta(minutes=61)
    with commit():
        tick(later)
        tick(later)  # a second worker's tick at the same time fires nothing more
        for _ in range(3):
            jobs.run_due(now=later)
    assert [t.linked_ids("lead") for t in Task.objects.all()] == [[stale.pk]]
    assert RuleRun.objects.filter(rule=rule, trigger="schedule").count() == 1


def test_engine_skips_disabled_rule_continuations(admin_user, rep_a, commit, tick):
    rule = make_rule(admin_user, actions=[{"type": "wait", "minutes": 5}, {"type": "add_tag", "tag": "late"}])
    lead = new_lead(rep_a, commit)
    rules.rule_update(rule, actor=admin_user, data={"enabled": False})
    with commit():
        jobs.run_due(now=timezone.now() + dt.timedelta(minutes=6))
    assert RuleRun.objects.get(rule=rule).status == RunStatus.SKIPPED and not lead.tags.exists()
    assert engine  # the engine module is what runs these jobs


def test_install_examples_is_idempotent_and_works(team, rep_a, pipeline, commit):
    from crm.automation.examples import install_examples
    from crm.automation.models import Schedule

    assert len(install_examples()) == 3
    assert install_examples() == []
    assert Schedule.objects.filter(key="digest.daily").exists()
    from tests.factories import UserFactory

    boss = UserFactory(username="boss2", role="admin")
    lead = new_lead(boss, commit, owner_id=None)  # the example rule assigns leads without an owner
    task = Task.objects.linked_to(lead).get()
    assert task.title.startswith("Call") and Lead.objects.get(pk=lead.pk).owner == rep_a
