"""The mail API: templates at /api/v1/email-templates, the outbox at /api/v1/emails, meeting invitations
at /api/v1/meetings/{pk}/invitation.

Not using ``from __future__ import annotations``: Ninja reads the annotations at definition time.
"""

import datetime as dt
from typing import Annotated, Literal

from django.db.models import Count, Q
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from crm.api.openapi import names_of
from crm.api.patterns import NO_NUL
from crm.core import recordtypes
from crm.mail import invitations, outbox, templates_service, tracking
from crm.mail.account_api import router as account_router
from crm.mail.meeting_api import router as meeting_router
from crm.mail.models import OutgoingEmail

router = Router(tags=["mail"])

Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
Short = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
TypeKey = Annotated[str, StringConstraints(max_length=30, pattern=NO_NUL)]
# A template is for one record type (or "" for any): the document lists the types that exist.
TemplateType = names_of("mail-template-types", lambda: ["", *recordtypes.known_types()])
Address = Annotated[str, StringConstraints(min_length=1, max_length=320, pattern=NO_NUL)]
Body = Annotated[str, StringConstraints(max_length=200_000, pattern=NO_NUL)]
Subject = Annotated[str, StringConstraints(max_length=255, pattern=NO_NUL)]
# A template's subject holds something besides spaces (what the service checks), and no NUL.
TemplateSubject = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class TemplateIn(Schema):
    name: Short
    category: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] = ""
    record_type: TemplateType = ""
    subject: TemplateSubject
    body_html: Body = ""
    shared: bool = False


class TemplatePatch(Schema):
    name: Short | None = None
    category: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] | None = None
    record_type: TemplateType | None = None
    subject: TemplateSubject | None = None
    body_html: Body | None = None
    shared: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str
    category: str
    record_type: str
    subject: str
    body_html: str
    shared: bool
    owner_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class PreviewIn(Schema):
    record_type: TypeKey
    record_id: RecordId


class PreviewOut(Schema):
    subject: str
    body_html: str


class EmailLinkIn(Schema):
    type: TypeKey
    id: RecordId


class EmailIn(Schema):
    to: Annotated[list[Address], Field(min_length=1, max_length=1000)]
    cc: Annotated[list[Address], Field(max_length=1000)] = []
    bcc: Annotated[list[Address], Field(max_length=1000)] = []
    subject: Subject = ""
    body_html: Body = ""
    body_text: Body = ""
    links: Annotated[list[EmailLinkIn], Field(max_length=50)] = []
    template_id: RecordId | None = None
    reply_to_message: RecordId | None = Field(
        None, description="A received message this answers (one you see): its thread headers go on the reply."
    )


class EmailLinkOut(Schema):
    type: str
    id: int


class AttachmentOut(Schema):
    filename: str
    content_type: str
    size: int


class OutgoingEmailOut(Schema):
    id: int
    sender_id: int | None
    from_email: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    body_html: str
    body_text: str
    status: Literal["queued", "sending", "sent", "failed", "not_sent", "unknown"]
    attempts: int
    last_error: str
    message_id: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    links: list[EmailLinkOut] = Field(alias="record_links")
    attachments: list[AttachmentOut] = Field(description="Files sent with it (attached on the compose page)")
    tracking: Literal["off", "opens", "clicks"] = Field(description="The sender's tracking setting when queued")
    opens: int = Field(
        alias="open_count",
        description="Hits of the open pixel. Approximate: image-proxying clients (Gmail, Apple Mail) inflate it",
    )
    clicks: int = Field(alias="click_count", description="Clicks on its tracked links")
    bounced_at: dt.datetime | None = Field(description="When a delivery status notice said it failed")
    bounce_diagnostic: str


class MailSettingsOut(Schema):
    tracking: Literal["off", "opens", "clicks"] = Field(description="Off unless turned on (docs/email.md)")


class MailSettingsIn(Schema):
    tracking: Literal["off", "opens", "clicks"]


class EmailPage(Schema):
    items: list[OutgoingEmailOut]
    next: int | None


class EmailFilters(Schema):
    status: Literal["queued", "sending", "sent", "failed", "not_sent", "unknown"] | None = None
    record_type: TypeKey | None = Field(None, description="With record_id: the messages about one record")
    record_id: RecordId | None = None
    before: RecordId | None = Field(None, description="The `next` of the previous page")
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class WaitingOut(Schema):
    queued: int


# --- templates -------------------------------------------------------------------------------------


@router.get("/email-templates", response=list[TemplateOut], summary="Mail templates: yours and the shared ones")
def list_templates(request):
    return list(templates_service.visible(request.user)[:1000])


@router.post("/email-templates", response={201: TemplateOut}, summary="Create a mail template")
def create_template(request, payload: TemplateIn):
    return Status(201, templates_service.template_create(actor=request.user, data=payload.model_dump()))


@router.get("/email-templates/{int:pk}", response=TemplateOut, summary="One mail template")
def get_template(request, pk: int):
    return templates_service.get_visible(request.user, pk)


@router.patch("/email-templates/{int:pk}", response=TemplateOut, summary="Change a mail template")
def update_template(request, pk: int, payload: TemplatePatch):
    template = templates_service.get_visible(request.user, pk)
    data = payload.model_dump(exclude_unset=True)
    return templates_service.template_update(template, actor=request.user, data=data)


@router.delete("/email-templates/{int:pk}", response={204: None}, summary="Delete a mail template")
def delete_template(request, pk: int):
    templates_service.template_delete(templates_service.get_visible(request.user, pk), actor=request.user)
    return Status(204, None)


@router.post("/email-templates/{int:pk}/preview", response=PreviewOut, summary="A template rendered with a record")
def preview_template(request, pk: int, payload: PreviewIn):
    template = templates_service.get_visible(request.user, pk)
    return templates_service.preview(
        template, actor=request.user, record_type=payload.record_type, record_id=payload.record_id
    )


# --- the outbox ------------------------------------------------------------------------------------


def _with_links(qs):
    engaged = {
        f"{kind}_count": Count("engagements", filter=Q(engagements__kind=kind), distinct=True)
        for kind in ("open", "click")
    }
    return qs.prefetch_related("links", "attachments").annotate(**engaged)


@router.get("/mail-settings", response=MailSettingsOut, summary="Your mail settings (tracking)")
def get_mail_settings(request):
    return {"tracking": tracking.preference(request.user)}


@router.patch("/mail-settings", response=MailSettingsOut, summary="Change your mail settings (tracking)")
def patch_mail_settings(request, payload: MailSettingsIn):
    return {"tracking": tracking.set_preference(actor=request.user, tracking=payload.tracking).tracking}


@router.get("/emails", response=EmailPage, summary="Outgoing mail: yours and that about records you see")
def list_emails(request, filters: Query[EmailFilters]):
    qs = outbox.visible(request.user).order_by("-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.before:
        qs = qs.filter(pk__lt=filters.before)
    if filters.record_type or filters.record_id:
        qs = outbox.about(qs, filters.record_type, filters.record_id)
    rows = list(_with_links(qs)[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {"items": rows, "next": rows[-1].pk if more else None}


@router.post("/emails", response={201: OutgoingEmailOut}, summary="Queue a message (sent by the worker)")
def queue_email(request, payload: EmailIn):
    data = payload.model_dump()
    email = outbox.queue_email(actor=request.user, **data)
    return Status(201, _with_links(OutgoingEmail.objects.filter(pk=email.pk)).get())


@router.post("/emails/send-waiting", response=WaitingOut, summary="Send what waits for a mail server (admins)")
def send_waiting(request):
    return {"queued": outbox.send_waiting(actor=request.user)}


@router.get("/emails/{int:pk}", response=OutgoingEmailOut, summary="One outgoing message")
def get_email(request, pk: int):
    return _with_links(outbox.visible(request.user).filter(pk=outbox.get_visible(request.user, pk).pk)).get()


@router.post(
    "/emails/{int:pk}/retry", response=OutgoingEmailOut, summary="Queue a failed, unsent or unknown message again"
)
def retry_email(request, pk: int):
    email = outbox.retry(outbox.get_visible(request.user, pk), actor=request.user)
    return _with_links(OutgoingEmail.objects.filter(pk=email.pk)).get()


class InvitationIn(Schema):
    cancel: bool = Field(False, description="Send a cancellation (METHOD:CANCEL) instead of an invitation")


@router.post(
    "/meetings/{int:pk}/invitation",
    response={201: OutgoingEmailOut},
    summary="Send a meeting's invitation, update or cancellation (.ics) to its contacts",
)
def send_invitation(request, pk: int, payload: InvitationIn):
    email = invitations.send_invitation(pk, actor=request.user, cancel=payload.cancel)
    return Status(201, _with_links(OutgoingEmail.objects.filter(pk=email.pk)).get())


# A meeting's details and a user's own server share this router's mount point and tag.
router.add_router("", meeting_router)
router.add_router("", account_router)
