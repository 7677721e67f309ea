"""The files of a received message on its timeline entry, each a download link (or "not stored: over
the size limit"). Registered with crm/records/timeline.py by MailboxConfig.ready."""

from __future__ import annotations

from crm.mailbox.models import InboundAttachment


def decorate_received(activities, user) -> None:
    by_id = {a.pk: a for a in activities if a.kind == "email"}
    if not by_id:
        return
    files: dict[int, list] = {}
    rows = InboundAttachment.objects.filter(message__activity_id__in=list(by_id)).values(
        "pk", "filename", "size", "inline", "skipped", "message__activity_id"
    )
    for row in rows.order_by("pk"):
        files.setdefault(row["message__activity_id"], []).append(row)
    for activity_id, found in files.items():
        by_id[activity_id].timeline_parts.append({"template": "mailbox/parts/received_files.html", "files": found})
