"""The worker's side: "mailbox.sync_due" (every few minutes, from the schedule services.py installs)
queues one "mailbox.sync" per active mailbox; "mailbox.sync" syncs one. Not atomic: a sync commits
batch by batch (sync.py), so a stopped worker keeps what it stored."""

from __future__ import annotations

from crm.automation import jobs
from crm.mailbox.models import Mailbox


@jobs.handler("mailbox.sync", atomic=False)
def sync_one(job):
    from crm.mailbox.sync import sync_mailbox

    return sync_mailbox(int(job.payload["mailbox"]))


@jobs.handler("mailbox.sync_due")
def sync_due(job):
    due = job.payload.get("due_at", "")
    for pk in Mailbox.objects.filter(paused=False).values_list("pk", flat=True):
        # One per mailbox and due time: a schedule fired twice queues nothing twice.
        jobs.enqueue("mailbox.sync", {"mailbox": pk}, key=f"mailbox.sync:{pk}:{due}", max_attempts=1)
