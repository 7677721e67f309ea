"""The files of a received message, stored through Django's storage (MEDIA_ROOT by default), each up
to MAILBOX_MAX_ATTACHMENT_BYTES; a larger one is recorded with its name and size as skipped and the
sync goes on. Downloads (crm/mailbox/downloads.py) go to whoever sees the message's timeline entry.

Written inside the sync's batch transaction: a batch that rolls back leaves its files in storage
without rows (never rows without files), which a later sweep may remove."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile

from crm.mail.attachments import display_name
from crm.mailbox.models import InboundAttachment, InboundMessage
from crm.mailbox.parsing import File


def store_all(message: InboundMessage, files: list[File]) -> list[dict]:
    """Store ``files`` for ``message``; what the message row lists (name, type, size, id, inline, skipped)."""
    limit = settings.MAILBOX_MAX_ATTACHMENT_BYTES
    listed = []
    for f in files:
        row = InboundAttachment(
            message=message,
            filename=display_name(f.name),
            content_type=f.type or "application/octet-stream",
            size=f.size,
            content_id=f.content_id,
            inline=f.inline,
            skipped=f.size > limit,
        )
        if not row.skipped:
            row.file.save(row.filename, ContentFile(f.data), save=False)
        row.save()
        listed.append(
            {
                "id": row.pk,
                "name": row.filename,
                "type": row.content_type,
                "size": row.size,
                "inline": row.inline,
                "skipped": row.skipped,
            }
        )
    return listed
