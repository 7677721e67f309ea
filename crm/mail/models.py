"""Mail templates and the outbox: every message the CRM sends is a row, whatever became of it."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.core.fields import EncryptedTextField


class EmailTemplate(models.Model):
    """A subject and HTML body with merge fields (crm/core/templating.py), for one record type or any.

    Personal templates (``owner`` set, ``shared`` false) are their owner's; shared ones are everyone's
    and changed by admins and managers (crm/mail/templates_service.py)."""

    change_log_type = "email_template"  # the object_type of its change-log rows (it is not a record)

    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True)
    record_type = models.CharField(
        max_length=30, blank=True, help_text="The type its merge fields come from; blank: any."
    )
    subject = models.CharField(max_length=255)
    body_html = models.TextField(max_length=200_000, blank=True)
    shared = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category", "name", "id"]
        indexes = [models.Index(fields=["owner", "shared"], name="emailtemplate_owner")]

    def __str__(self) -> str:
        return self.name


class EmailStatus(models.TextChoices):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    NOT_SENT = "not_sent"  # no mail server configured: kept until someone sends what is waiting
    # A worker is talking to the server now (claimed with an attempt token, committed before connecting).
    SENDING = "sending"
    # An attempt died while "sending" (a killed worker): the server may have the message. Never sent again
    # by itself; its sender checks and may "send again" (crm/mail/sending.py, docs/email.md).
    UNKNOWN = "unknown"


class Tracking(models.TextChoices):
    """A sender's choice (crm/mail/tracking.py): no tracking, an open pixel, or the pixel and links."""

    OFF = "off", "Off"
    OPENS = "opens", "Opens"
    CLICKS = "clicks", "Opens and clicks"


class OutgoingEmail(models.Model):
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    from_email = models.CharField(max_length=320)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    bcc = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    body_html = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    # The attempt that set "sending" (crm/mail/sending.py): only that attempt writes the outcome.
    send_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True, help_text="The mail server's reply to the last attempt.")
    message_id = models.CharField(max_length=255, blank=True)
    # A reply's thread headers (crm/mail/reply_headers.py), sent as In-Reply-To and References.
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    activity_id = models.BigIntegerField(null=True, blank=True, help_text="The timeline entry made when it was sent.")
    notification = models.BooleanField(
        default=False, help_text="The CRM's own notice to a user (crm/automation/notifications.py): on no timeline."
    )
    # The sender's tracking choice when it was queued, and the pixel's unguessable token (blank: off).
    tracking = models.CharField(max_length=10, choices=Tracking.choices, default=Tracking.OFF)
    track_token = models.CharField(max_length=64, blank=True, db_index=True)
    bounced_at = models.DateTimeField(null=True, blank=True, help_text="A delivery status notice said it failed.")
    bounce_diagnostic = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["sender", "created_at"], name="outgoingemail_sender"),
            models.Index(fields=["status", "id"], name="outgoingemail_status"),
            models.Index(fields=["message_id"], name="outgoingemail_message_id"),
            models.Index(fields=["activity_id"], name="outgoingemail_activity"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def record_links(self) -> list[dict]:
        return [{"type": lk.record_type, "id": lk.record_id} for lk in self.links.all()]


class OutgoingEmailLink(models.Model):
    """A record the email is about (crm/records/models/links.py's generic link idea)."""

    email = models.ForeignKey(OutgoingEmail, on_delete=models.CASCADE, related_name="links")
    record_type = models.CharField(max_length=30)
    record_id = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email", "record_type", "record_id"], name="outgoingemaillink_unique")
        ]
        indexes = [models.Index(fields=["record_type", "record_id"], name="outgoingemaillink_record")]


def _attachment_path(instance, filename: str) -> str:
    # A random folder per file: two uploads of "offer.pdf" never meet, and names are not guessable.
    import uuid

    return f"mail/attachments/{uuid.uuid4().hex}/{filename}"


class OutgoingAttachment(models.Model):
    """A file sent with a message, stored through Django's storage (MEDIA_ROOT) until the message goes."""

    email = models.ForeignKey(OutgoingEmail, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class MailPreference(models.Model):
    """A user's own mail settings; a user without a row has the defaults (tracking off)."""

    change_log_type = "mail_preference"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mail_preference")
    tracking = models.CharField(max_length=10, choices=Tracking.choices, default=Tracking.OFF)


class EngagementKind(models.TextChoices):
    OPEN = "open", "Opened"
    CLICK = "click", "Clicked"


class EngagementEvent(models.Model):
    """One hit of an open pixel or a tracked link of a sent message: for the timeline, the counts on
    the message and, later, lead scoring. Opens are inflated by image-proxying clients (Gmail, Apple
    Mail Privacy Protection fetch every image), which the pages say."""

    email = models.ForeignKey(OutgoingEmail, on_delete=models.CASCADE, related_name="engagements")
    kind = models.CharField(max_length=10, choices=EngagementKind.choices)
    url = models.URLField(max_length=2000, blank=True)
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["email", "kind", "at"], name="engagement_email_kind")]


class BouncedAddress(models.Model):
    """An address a delivery status notice said failed (crm/mailbox/bounces.py), keyed by the address
    so every contact and lead that has it shows it, whichever record type holds it."""

    email = models.CharField(max_length=320, unique=True)
    bounced_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, blank=True, help_text="The DSN's status code, such as 5.1.1.")
    diagnostic = models.TextField(blank=True)
    count = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.email


class MeetingInvitation(models.Model):
    """One invitation (or cancellation) sent for a meeting (crm/mail/invitations.py). Its ``sequence``
    is the iCalendar SEQUENCE it carried: the next one for the meeting carries one more, so attendees'
    calendars replace the older copy. The meeting is kept by id (no foreign key): the history of what
    was sent stays when the meeting is deleted."""

    activity_id = models.PositiveBigIntegerField()
    sequence = models.PositiveIntegerField()
    method = models.CharField(max_length=10, choices=[("REQUEST", "Request"), ("CANCEL", "Cancel")])
    email = models.ForeignKey(OutgoingEmail, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity_id", "sequence"], name="invitation_activity_sequence")]


class MeetingDetails(models.Model):
    """What a meeting has beyond an activity (crm/mail/meetings.py): where, the video link, the time zone
    its start and end are given in (the organizer's, stored, so the .ics says 10:00 Europe/Paris and
    not an offset that breaks across a daylight-saving change), and the users invited besides contacts."""

    change_log_type = "meeting_details"

    activity = models.OneToOneField("records.Activity", on_delete=models.CASCADE, related_name="meeting_details")
    location = models.CharField(max_length=255, blank=True)
    video_url = models.URLField(max_length=500, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text="IANA name; blank is UTC.")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"Meeting {self.activity_id}"


class PartStat(models.TextChoices):
    """An attendee's answer, as iCalendar's PARTSTAT names it."""

    NEEDS_ACTION = "NEEDS-ACTION", "No answer yet"
    ACCEPTED = "ACCEPTED", "Accepted"
    DECLINED = "DECLINED", "Declined"
    TENTATIVE = "TENTATIVE", "Tentative"


class MeetingAttendee(models.Model):
    """Someone an invitation went to, by address (what a calendar reply names), with their answer.
    Written when an invitation is sent and when a reply arrives by IMAP (crm/mailbox/calendar_replies.py)."""

    activity = models.ForeignKey("records.Activity", on_delete=models.CASCADE, related_name="attendee_answers")
    email = models.CharField(max_length=320)
    name = models.CharField(max_length=255, blank=True)
    contact = models.ForeignKey("records.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=PartStat.choices, default=PartStat.NEEDS_ACTION)
    # The reply's DTSTAMP: an older reply arriving after a newer one (two folders, a resync) changes nothing.
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["activity", "email"], name="meeting_attendee_once")]


class SmtpAccount(models.Model):
    """A user's own outgoing server (crm/mail/accounts.py): their mail leaves through it, From their own
    address; without one, through the organization's EMAIL_URL. The password is encrypted at rest like a
    mailbox's and rotated with it (crm/customization/rotation.py)."""

    change_log_type = "smtp_account"
    change_log_hidden = ("password",)

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="smtp_account")
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=587)
    security = models.CharField(
        max_length=10,
        choices=[("starttls", "STARTTLS"), ("tls", "TLS (smtps)"), ("none", "None (local servers only)")],
        default="starttls",
    )
    username = models.CharField(max_length=320, blank=True)
    password = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"SMTP of user {self.user_id}"
