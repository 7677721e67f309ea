"""Bodies of the automation API's webhook, web-form and notification-preference endpoints, with the
limits, choices and URL pattern the services check declared in the OpenAPI document too, so a client
generated from it cannot send what the server refuses for a reason the schema could have said.

The record types a webhook may name change at run time (custom object types): their list is added to
the document when it is served (crm/api/openapi.py, ``declare_record_type_names``)."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from crm.api.openapi import RECORD_TYPE_KEY
from crm.api.patterns import WEB_URL
from crm.automation.models import WebForm, WebhookSubscription
from crm.automation.notifications import KINDS
from crm.automation.webhooks import EVENT_TYPES
from crm.records.api.schemas.common import Id, In


def _text(model, name: str, *, required: bool = True):
    field = model._meta.get_field(name)
    return Annotated[
        str, StringConstraints(min_length=1 if required else 0, max_length=field.max_length, strip_whitespace=True)
    ]


WebhookName = _text(WebhookSubscription, "name")
WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=WebhookSubscription._meta.get_field("url").max_length, pattern=WEB_URL),
    Field(description="An http or https URL of a public host: loopback and private addresses are refused."),
]
ROLE_HELP = "A role's id: payloads leave out the fields hidden from that role. Null: every field (the admin feed)."
EventType = Literal[EVENT_TYPES]
RecordTypeKey = Annotated[str, Field(max_length=30, json_schema_extra={RECORD_TYPE_KEY: True})]


class Body(In):
    """Unknown keys refused, no NUL in any text, declared in the schema (the records' bodies' rules)."""


class WebhookIn(Body):
    name: WebhookName
    url: WebhookUrl
    event_types: Annotated[list[EventType], Field(max_length=len(EVENT_TYPES))] = Field(default_factory=list)
    object_types: Annotated[list[RecordTypeKey], Field(max_length=200)] = Field(default_factory=list)
    enabled: bool = True
    role_id: Id | None = Field(None, description=ROLE_HELP)


class WebhookPatch(Body):
    """Omitted keeps a value; null is refused (none of them may be empty)."""

    name: WebhookName = None
    url: WebhookUrl = None
    event_types: Annotated[list[EventType], Field(max_length=len(EVENT_TYPES))] = None
    object_types: Annotated[list[RecordTypeKey], Field(max_length=200)] = None
    enabled: bool = None
    role_id: Id | None = Field(None, description=ROLE_HELP)


FormSlug = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")]


class FormIn(Body):
    slug: FormSlug
    name: _text(WebForm, "name")
    owner_id: Id | None = Field(None, description="A user's id (the owner of new leads).")
    assign_team_id: Id | None = Field(None, description="A team's id (round-robin among its members).")
    lead_source: _text(WebForm, "lead_source") = "web form"


class PreferenceIn(Body):
    kind: Literal[KINDS]
    in_app: bool
    email: bool
