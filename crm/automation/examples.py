"""Built-in example rules for the demo: call the function from the demo command once data exists."""

from __future__ import annotations

from crm.access.models import Team
from crm.automation.models import Rule
from crm.automation.notifications import install_digest_schedule
from crm.automation.rules import rule_create
from crm.automation.system import automation_user


def examples(team: Team | None) -> list[dict]:
    assign = [{"type": "assign_owner", "strategy": "round_robin", "team_id": team.pk}] if team is not None else []
    return [
        {
            "name": "New lead: round-robin owner and a call within 1 hour",
            "object_type": "lead",
            "trigger_type": "created",
            "actions": [
                *assign,
                {"type": "create_task", "title": "Call {{name}} within 1 hour", "due_in_hours": 1, "priority": "high"},
            ],
        },
        {
            "name": "Deal moved to Proposal: follow up in 3 days",
            "object_type": "deal",
            "trigger_type": "stage_changed",
            "trigger": {"to_stage": "Proposal"},
            "actions": [{"type": "create_task", "title": "Follow up on the proposal for {{name}}", "due_in_days": 3}],
        },
        {
            "name": "Deal won: tell the team",
            "object_type": "deal",
            "trigger_type": "won",
            "actions": [{"type": "notify", "to": "team", "title": "Deal won: {{name}}", "body": "Amount {{amount}}"}],
        },
    ]


def install_examples(team: Team | None = None) -> list[Rule]:
    """Create the example rules (skipping any that exist by name) and the daily digest schedule."""
    actor = automation_user()
    team = team or Team.objects.order_by("id").first()
    created = []
    for data in examples(team):
        if not Rule.objects.filter(name=data["name"]).exists():
            created.append(rule_create(actor=actor, data=data))
    install_digest_schedule()
    return created
