"""Assignment rules take records that arrive without an owner; one someone owns keeps its owner
unless the rule says "reassign_owned", and then the previous owner is told where it went."""

import pytest

from crm.automation import rules
from crm.automation.examples import examples
from crm.automation.models import Notification, RuleRun, RunStatus
from crm.core.errors import ValidationFailed
from crm.records.models import Lead
from crm.records.services.leads import lead_create

pytestmark = pytest.mark.django_db


def assign_rule(admin, team, **options):
    action = {"type": "assign_owner", "strategy": "round_robin", "team_id": team.pk, **options}
    data = {"name": "assign", "object_type": "lead", "trigger_type": "created", "actions": [action]}
    return rules.rule_create(actor=admin, data=data)


def new_lead(user, commit, **data):
    with commit():
        pk = lead_create(actor=user, data={"last_name": "Doe", **data}).obj.pk
    return Lead.objects.get(pk=pk)  # as the rule left it, after the commit


def test_a_lead_the_rep_created_stays_theirs(admin_user, team, reps, rep_a, commit):
    assign_rule(admin_user, team)
    lead = new_lead(rep_a, commit)
    assert lead.owner == rep_a
    run = RuleRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED
    assert run.log[0]["result"]["kept"] == "The record already has an owner."
    assert not Notification.objects.exists()


def test_a_lead_without_an_owner_is_assigned(admin_user, team, reps, rep_a, commit):
    assign_rule(admin_user, team)
    lead = new_lead(admin_user, commit, owner_id=None)  # as an API call with "owner_id": null
    assert lead.owner_id in {u.pk for u in [rep_a, *reps]}
    assert Notification.objects.filter(user_id=lead.owner_id, title__startswith="Assigned to you").exists()


def test_the_rule_option_reassigns_owned_records_and_tells_the_previous_owner(
    admin_user, team, reps, rep_a, rep_b, commit
):
    assign_rule(admin_user, team, reassign_owned=True)
    lead = new_lead(rep_b, commit, first_name="Ann")  # rep_b is not in the team: it goes to a member
    assert lead.owner_id != rep_b.pk
    note = Notification.objects.get(user=rep_b)
    new_owner = lead.owner.get_full_name() or lead.owner.get_username()
    assert note.title == f"Lead “Ann Doe” was assigned to {new_owner} by rule “assign”."
    assert (note.object_type, note.object_id) == ("lead", lead.pk)


def test_the_option_is_a_boolean(admin_user, team):
    with pytest.raises(ValidationFailed) as exc:
        assign_rule(admin_user, team, reassign_owned="yes")
    assert "reassign_owned" in str(exc.value.fields)


def test_the_demo_rule_keeps_the_default(team):
    action = examples(team)[0]["actions"][0]
    assert action["type"] == "assign_owner" and "reassign_owned" not in action


def test_the_api_takes_the_option(api, admin_user, team):
    action = {"type": "assign_owner", "strategy": "round_robin", "team_id": team.pk, "reassign_owned": True}
    body = {"name": "all", "object_type": "lead", "trigger_type": "created", "actions": [action]}
    r = api(admin_user).post("/automation/rules", body)
    assert r.status_code == 201, r.content
    assert r.json()["actions"][0]["reassign_owned"] is True
    bad = {**body, "name": "bad", "actions": [{**action, "reassign_owned": "yes"}]}
    assert api(admin_user).post("/automation/rules", bad).status_code == 422
