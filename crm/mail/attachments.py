"""Files sent with a composed message: checked before anything is written (count, size from the
settings), stored through Django's storage with the message, attached when the worker sends it."""

from __future__ import annotations

import mimetypes
import os
import unicodedata

from django.conf import settings

from crm.mail.models import OutgoingAttachment, OutgoingEmail


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def display_name(name: str) -> str:
    """The file's own name, without a client's folder part or control characters (it goes in a header)."""
    base = os.path.basename(str(name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:255] or "attachment"


def check(files, errors: dict) -> None:
    """Errors for too many files or a file over the size limit, keyed ``attachments`` / ``attachments.<i>``."""
    files = list(files or [])
    cap, limit = settings.MAIL_MAX_ATTACHMENTS, settings.MAIL_MAX_ATTACHMENT_BYTES
    if len(files) > cap:
        errors["attachments"] = f"At most {cap} attachments per message; this one has {len(files)}."
    for i, upload in enumerate(files):
        size = getattr(upload, "size", None) or 0
        if size > limit:
            name, most = display_name(upload.name), _megabytes(limit)
            errors[f"attachments.{i}"] = f"{name} is {_megabytes(size)}; each attachment may be at most {most}."


def store(email: OutgoingEmail, files) -> list[OutgoingAttachment]:
    stored = []
    for upload in files or []:
        name = display_name(upload.name)
        kind = getattr(upload, "content_type", "") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        row = OutgoingAttachment(email=email, filename=name, content_type=kind[:255], size=upload.size or 0)
        row.file.save(name, upload, save=False)
        row.save()
        stored.append(row)
    return stored


class Missing(Exception):
    """A stored attachment's file is gone from storage: the message cannot be sent as written."""


def attach_all(email: OutgoingEmail, message) -> None:
    """Add the message's stored files to a Django EmailMessage; Missing when one is gone."""
    for row in email.attachments.all():
        try:
            with row.file.open("rb") as handle:
                content = handle.read()
        except (FileNotFoundError, OSError, ValueError):
            raise Missing(f"The attachment {row.filename} is missing from storage.") from None
        message.attach(row.filename, content, row.content_type)
