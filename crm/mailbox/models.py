"""Mailboxes (IMAP accounts), their per-folder sync state, and the messages imported from them.

A message is stored once per mailbox (unique Message-ID), in one thread, and shown on the timelines
as one activity of kind "email" whose links are the records it was matched to (sync.py)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.core.fields import EncryptedTextField

START_DAYS = 30


def default_start_date() -> dt.date:
    """Never the whole inbox unasked: 30 days back unless the user picks another date."""
    return timezone.localdate() - dt.timedelta(days=START_DAYS)


def default_folders() -> list[str]:
    return ["INBOX"]


class Security(models.TextChoices):
    TLS = "tls", "TLS (port 993)"
    STARTTLS = "starttls", "STARTTLS (port 143)"
    NONE = "none", "None (local servers only)"


class Mailbox(models.Model):
    """A user's own mailbox (``owner`` set) or a shared inbox (no owner; admins manage it)."""

    change_log_type = "mailbox"
    change_log_hidden = ("password",)  # never copied into the change log

    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="mailboxes"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.TLS)
    username = models.CharField(max_length=320)
    password = EncryptedTextField(blank=True)
    folders = models.JSONField(default=default_folders)
    start_date = models.DateField(default=default_start_date)
    email_to_lead = models.BooleanField(default=False)
    paused = models.BooleanField(default=False)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    imported_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def shared(self) -> bool:
        return self.owner_id is None


class MailFolderState(models.Model):
    """Where the sync of one folder stands: the folder's UIDVALIDITY and the last UID imported."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folder_states")
    folder = models.CharField(max_length=200)
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "folder"], name="mailbox_folder_once")]


class MailThread(models.Model):
    """A conversation: the messages joined by their Message-ID / In-Reply-To / References headers, or
    by normalized subject and participants when those are missing."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="threads")
    subject = models.CharField(max_length=255, blank=True)
    subject_key = models.CharField(max_length=255, blank=True)
    participants_key = models.CharField(max_length=64, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["mailbox", "subject_key", "participants_key"], name="mailthread_fallback")]


class InboundMessage(models.Model):
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="messages")
    thread = models.ForeignKey(MailThread, on_delete=models.CASCADE, related_name="messages")
    folder = models.CharField(max_length=200)
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=255)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.JSONField(default=list, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=255, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField()
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitized with nh3 before it is stored.")
    attachments = models.JSONField(default=list, blank=True, help_text="name, type and size of each")
    activity = models.ForeignKey(
        "records.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "message_id"], name="inbound_message_once")]
        indexes = [models.Index(fields=["thread", "sent_at"], name="inbound_thread_sent")]


def _received_path(instance, filename: str) -> str:
    # A random folder per file, as for sent attachments: equal names never meet, paths are not guessable.
    import uuid

    return f"mailbox/attachments/{uuid.uuid4().hex}/{filename}"


class InboundAttachment(models.Model):
    """A file (or inline image) of a received message, stored through Django's storage; one over
    MAILBOX_MAX_ATTACHMENT_BYTES is a row with its name and size and no file (``skipped``)."""

    message = models.ForeignKey(InboundMessage, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=_received_path, max_length=500, blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    skipped = models.BooleanField(default=False, help_text="Over the size limit: not stored.")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class MailDropAddress(models.Model):
    """A user's BCC/forwarding address (dropbox.py): MAIL_BCC_ADDRESS with the token after
    a "+". Mail the user sends from another client with it in Bcc reaches the shared inbox behind it,
    whose sync files it on the timelines as sent by this user. A new token retires the old address."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_drop")
    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
