"""A user's own outgoing server at /api/v1/mail-settings/smtp: read (never the password), set, remove
(back to the organization's server). crm/mail/accounts.py holds the rules.

Not using ``from __future__ import annotations``: Ninja reads the annotations at definition time.
"""

from typing import Annotated, Literal

from ninja import Router, Schema, Status
from pydantic import Field, StringConstraints

from crm.api.patterns import NO_NUL
from crm.mail import accounts

router = Router(tags=["mail"])

Host = Annotated[str, StringConstraints(max_length=253, pattern=accounts.HOST.pattern)]
Username = Annotated[str, StringConstraints(max_length=320, pattern=NO_NUL)]
Password = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]


class SmtpAccountOut(Schema):
    configured: bool = Field(description="False: your mail goes through the organization's server")
    host: str = ""
    port: int | None = None
    security: Literal["starttls", "tls", "none", ""] = ""
    username: str = ""
    has_password: bool = False
    from_email: str = Field("", description="The From of your mail through this server: your address")


class SmtpAccountIn(Schema):
    host: Host
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: Username = ""
    password: Password | None = Field(None, description="Write-only; left out or empty keeps the stored one")


def _out(user) -> dict:
    account = accounts.account_of(user)
    if account is None:
        return {"configured": False}
    return {
        "configured": True,
        "host": account.host,
        "port": account.port,
        "security": account.security,
        "username": account.username,
        "has_password": accounts.has_password(account),
        "from_email": user.email,
    }


@router.get("/mail-settings/smtp", response=SmtpAccountOut, summary="Your own outgoing server, if any")
def get_smtp(request):
    return _out(request.user)


@router.put("/mail-settings/smtp", response=SmtpAccountOut, summary="Send your mail through your own server")
def put_smtp(request, payload: SmtpAccountIn):
    accounts.smtp_account_set(actor=request.user, data=payload.model_dump())
    return _out(request.user)


@router.delete("/mail-settings/smtp", response={204: None}, summary="Back to the organization's server")
def delete_smtp(request):
    accounts.smtp_account_delete(actor=request.user)
    return Status(204, None)
