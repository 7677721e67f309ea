"""/api/v1/mailboxes: connect, list, change, pause/resume, "sync now", delete; a mailbox's threads and
messages. The password is write-only: no response holds it (``has_password`` says one is stored).

Not using ``from __future__ import annotations``: Ninja reads the annotations at definition time.
"""

import datetime as dt
from typing import Annotated, Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from crm.api.patterns import NO_NUL
from crm.core.errors import NotFound
from crm.mailbox import dropbox, services
from crm.mailbox.models import InboundMessage, MailThread

router = Router(tags=["mailboxes"])

Name = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
Host = Annotated[str, StringConstraints(max_length=253, pattern=services.HOST.pattern)]
Port = Annotated[int, Field(ge=1, le=65535)]
Username = Annotated[str, StringConstraints(max_length=320, pattern=r"^[^\u0000]*[^\s\u0000][^\u0000]*$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NO_NUL)]
Folder = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\u0000\r\n]*[^\s\u0000][^\u0000\r\n]*$")]
Folders = Annotated[list[Folder], Field(min_length=1, max_length=services.MAX_FOLDERS)]
Security = Literal["tls", "starttls", "none"]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class MailboxIn(Schema):
    name: Name
    host: Host
    port: Port = 993
    security: Security = "tls"
    username: Username
    password: Password
    folders: Folders = ["INBOX"]
    start_date: dt.date | None = Field(None, description="Messages received since; default 30 days ago")
    email_to_lead: bool = False
    shared: bool = Field(False, description="A shared inbox of the organization (admins)")


class MailboxPatch(Schema):
    name: Name = Field(None)
    host: Host = Field(None)
    port: Port = Field(None)
    security: Security = Field(None)
    username: Username = Field(None)
    password: Password = Field(None, description="A new password; resumes a mailbox paused by a refused one")
    folders: Folders = Field(None)
    start_date: dt.date = Field(None)
    email_to_lead: bool = Field(None)
    paused: bool = Field(None, description="false resumes the sync and clears the last error")


class MailboxOut(Schema):
    id: int
    name: str
    owner_id: int | None
    shared: bool
    host: str
    port: int
    security: str
    username: str
    has_password: bool
    folders: list[str]
    start_date: dt.date
    email_to_lead: bool
    paused: bool
    last_sync_at: dt.datetime | None
    imported_count: int
    last_error: str
    last_error_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_has_password(obj) -> bool:
        return bool(obj.password)


class SyncOut(Schema):
    job_id: int


class ThreadOut(Schema):
    id: int
    subject: str
    last_message_at: dt.datetime | None
    message_count: int


class MessageOut(Schema):
    id: int
    thread_id: int
    folder: str
    message_id: str
    in_reply_to: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    sent_at: dt.datetime
    text: str
    html: str = Field(description="Sanitized (nh3)")
    attachments: list[dict]
    activity_id: int | None


class MessageFilters(Schema):
    thread: Id | None = None
    before: Id | None = Field(None, description="The `next` of the previous page")
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class MessagePage(Schema):
    items: list[MessageOut]
    next: int | None


@router.get("/mailboxes", response=list[MailboxOut], summary="Your mailboxes (admins: every mailbox)")
def list_mailboxes(request):
    return list(services.visible(request.user)[:1000])


@router.post("/mailboxes", response={201: MailboxOut}, summary="Connect a mailbox (nothing is fetched yet)")
def create_mailbox(request, payload: MailboxIn):
    data = payload.model_dump()
    if data["start_date"] is None:
        del data["start_date"]
    return Status(201, services.mailbox_create(actor=request.user, data=data))


@router.get("/mailboxes/{int:pk}", response=MailboxOut, summary="One mailbox and its sync state")
def get_mailbox(request, pk: int):
    return services.get_visible(request.user, pk)


@router.patch("/mailboxes/{int:pk}", response=MailboxOut, summary="Change a mailbox, pause or resume it")
def update_mailbox(request, pk: int, payload: MailboxPatch):
    mailbox = services.get_visible(request.user, pk)
    return services.mailbox_update(mailbox, actor=request.user, data=payload.model_dump(exclude_unset=True))


@router.delete("/mailboxes/{int:pk}", response={204: None}, summary="Disconnect a mailbox (timeline entries stay)")
def delete_mailbox(request, pk: int):
    services.mailbox_delete(services.get_visible(request.user, pk), actor=request.user)
    return Status(204, None)


@router.post("/mailboxes/{int:pk}/sync", response={202: SyncOut}, summary="Sync now (in the worker)")
def sync_mailbox(request, pk: int):
    job = services.request_sync(services.get_visible(request.user, pk), actor=request.user)
    return Status(202, {"job_id": job.pk})


@router.get("/mailboxes/{int:pk}/threads", response=list[ThreadOut], summary="A mailbox's conversations, newest first")
def list_threads(request, pk: int):
    mailbox = services.get_visible(request.user, pk)
    from django.db.models import Count

    qs = MailThread.objects.filter(mailbox=mailbox).annotate(message_count=Count("messages"))
    return list(qs.order_by("-last_message_at", "-id")[:200])


@router.get("/mailboxes/{int:pk}/messages", response=MessagePage, summary="A mailbox's imported messages")
def list_messages(request, pk: int, filters: Query[MessageFilters]):
    mailbox = services.get_visible(request.user, pk)
    qs = InboundMessage.objects.filter(mailbox=mailbox).order_by("-id")
    if filters.thread:
        if not MailThread.objects.filter(mailbox=mailbox, pk=filters.thread).exists():
            raise NotFound(f"No thread with id {filters.thread} in this mailbox.")
        qs = qs.filter(thread_id=filters.thread)
    if filters.before:
        qs = qs.filter(pk__lt=filters.before)
    rows = list(qs[: filters.limit + 1])
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {"items": rows, "next": rows[-1].pk if more else None}


class BccAddressOut(Schema):
    address: str = Field(description="Put it in Bcc (or forward to it) to file mail sent from another client")
    enabled: bool = Field(description="False when the operator has set no MAIL_BCC_ADDRESS")


@router.get("/mail-settings/bcc-address", response=BccAddressOut, summary="Your BCC/forwarding address")
def get_bcc_address(request):
    address = dropbox.address_of(request.user)
    return {"address": address, "enabled": bool(address)}


@router.post("/mail-settings/bcc-address", response=BccAddressOut, summary="A new BCC address (the old one stops)")
def new_bcc_address(request):
    address = dropbox.new_address(actor=request.user)
    return {"address": address, "enabled": bool(address)}
