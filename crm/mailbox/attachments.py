"""The files of a received message, stored through Django's storage (MEDIA_ROOT by default), each up
to MAILBOX_MAX_ATTACHMENT_BYTES; a larger one is recorded with its name and size as skipped and the
sync goes on. Downloads (crm/mailbox/downloads.py) go to whoever sees the message's timeline entry.

Written inside the sync's batch transaction, before the rows that name them (never a row without its
file). Storage is not transactional, so the batch keeps the names it wrote (``Written``) and deletes
those files when its transaction rolls back (crm/mailbox/sync.py): no file outlives a rolled-back batch."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from crm.mail.attachments import display_name
from crm.mailbox.models import InboundAttachment, InboundMessage
from crm.mailbox.parsing import File

log = logging.getLogger("crm.mailbox")


class Written(list):
    """The storage names a batch wrote; ``discard`` deletes them when the batch's rows were rolled back."""

    def discard(self) -> None:
        for name in self:
            try:
                default_storage.delete(name)
            except OSError:  # the rollback itself must not be hidden by a cleanup problem
                log.exception("Could not delete %s after a rolled-back sync batch", name)
        self.clear()


def store_all(message: InboundMessage, files: list[File], written: Written | None = None) -> list[dict]:
    """Store ``files`` for ``message``; what the message row lists (name, type, size, id, inline, skipped).
    Each file's storage name goes into ``written`` as soon as it is on storage."""
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
            if written is not None:
                written.append(row.file.name)
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
