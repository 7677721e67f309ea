from crm.automation.models.inbound import InboundHit, WebForm
from crm.automation.models.jobs import Job, JobStatus, Schedule
from crm.automation.models.notifications import Notification, NotificationPreference, TaskReminder
from crm.automation.models.rules import AssignmentCursor, Rule, RuleFiring, RuleRun, RunStatus
from crm.automation.models.webhooks import WebhookDelivery, WebhookSubscription

__all__ = [
    "AssignmentCursor",
    "InboundHit",
    "Job",
    "JobStatus",
    "Notification",
    "NotificationPreference",
    "Rule",
    "RuleFiring",
    "RuleRun",
    "RunStatus",
    "Schedule",
    "TaskReminder",
    "WebForm",
    "WebhookDelivery",
    "WebhookSubscription",
]
