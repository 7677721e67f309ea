"""/api/v1/privacy/: subject access (a ZIP) and erasure, for admins only."""

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from crm.access.policy import require_admin
from crm.api.openapi import names_of
from crm.core import recordtypes
from crm.core.errors import NotFound
from crm.privacy import retention
from crm.privacy.access import subject_access
from crm.privacy.erasure import erase
from crm.privacy.finding import person_types
from crm.privacy.models import RetentionPolicy
from crm.records.api.schemas.common import Id

router = Router(tags=["privacy"])

# A record type by key or slug, as finding and retention read it; listed when the document is served.
PersonType = names_of("person-types", lambda: [n for rt in person_types() for n in (rt.object_type, rt.slug)])
AnyType = names_of(
    "record-types-or-slugs", lambda: [n for rt in recordtypes.all_types() for n in (rt.object_type, rt.slug)]
)

ZIP_RESPONSE = {
    "responses": {
        200: {
            "description": "A ZIP of JSON and CSV files (README.txt inside says what each holds)",
            # application/zip is what is sent; octet-stream too, so generic client generators (which
            # know no zip) still type the answer as bytes instead of leaving the operation out.
            "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


@router.get(
    "/subject-access",
    summary="Everything the CRM holds about a person, as a ZIP (admins only)",
    openapi_extra=ZIP_RESPONSE,
)
def subject_access_export(
    request, email: str | None = None, phone: str | None = None, type: PersonType | None = None, id: Id | None = None
):
    record = (type, id) if type or id is not None else None
    data = subject_access(actor=request.user, email=email, phone=phone, record=record)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="subject-access-{timezone.now():%Y%m%d-%H%M%S}.zip"'
    return response


class ErasureIn(Schema):
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    type: PersonType | None = Field(None, description="A record's type (with id), instead of email/phone")
    id: Id | None = None
    block: bool = Field(True, description="Refuse the email and phone when someone adds them again")


class ErasureOut(Schema):
    id: int
    counts: dict[str, int]
    blocked: int


@router.post("/erasures", response={201: ErasureOut}, summary="Erase a person from the CRM (admins only)")
def create_erasure(request, payload: ErasureIn):
    record = (payload.type, payload.id) if payload.type or payload.id is not None else None
    report = erase(actor=request.user, email=payload.email, phone=payload.phone, record=record, block=payload.block)
    return Status(201, {"id": report.log_id, "counts": report.counts, "blocked": report.blocked})


# --- retention policies -------------------------------------------------------------------------

Action = Literal["delete", "anonymize"]
Since = Literal["updated_at", "created_at"]
STATUS_HELP = (
    "Only records in this status: a value of the type's status field (a lead's status, a deal's "
    "status, a contact's lifecycle stage); empty: any. Another value is a 400 naming the valid ones."
)


class PolicyIn(Schema):
    object_type: AnyType = Field(..., description="A record type (object type or slug)")
    action: Action
    months: int = Field(..., ge=1, le=retention.MAX_MONTHS)
    field: Since = "updated_at"
    status: str = Field("", max_length=40, description=STATUS_HELP)
    active: bool = True


class PolicyPatch(Schema):
    action: Action | None = None
    months: int | None = Field(None, ge=1, le=retention.MAX_MONTHS)
    field: Since | None = None
    status: str | None = Field(None, max_length=40, description=STATUS_HELP)
    active: bool | None = None


class PolicyOut(Schema):
    id: int
    object_type: str
    action: str
    months: int
    field: str
    status: str
    active: bool
    last_run_at: dt.datetime | None


class DueOut(Schema):
    policy: int
    object_type: str
    action: str
    months: int
    field: str
    status: str
    cutoff: dt.datetime
    count: int
    next_run: int
    sample: list[int]


def _policy(request, pk: int) -> RetentionPolicy:
    require_admin(request.user, retention.WHAT)
    found = RetentionPolicy.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No retention policy with id {pk}.")
    return found


@router.get("/retention-policies", response=list[PolicyOut], summary="Retention policies (admins)")
def list_retention_policies(request):
    require_admin(request.user, retention.WHAT)
    return list(RetentionPolicy.objects.all())


@router.post("/retention-policies", response={201: PolicyOut}, summary="Add a retention policy (admins)")
def create_retention_policy(request, payload: PolicyIn):
    return Status(201, retention.policy_create(actor=request.user, data=payload.dict()))


@router.patch("/retention-policies/{int:pk}", response=PolicyOut, summary="Change a retention policy (admins)")
def update_retention_policy(request, pk: Id, payload: PolicyPatch):
    data = payload.dict(exclude_unset=True)
    return retention.policy_update(_policy(request, pk), actor=request.user, data=data)


@router.delete("/retention-policies/{int:pk}", response={204: None}, summary="Delete a retention policy (admins)")
def delete_retention_policy(request, pk: Id):
    retention.policy_delete(_policy(request, pk), actor=request.user)
    return Status(204, None)


@router.get("/retention-report", response=list[DueOut], summary="Dry run: what the next retention run would do")
def retention_report(request):
    require_admin(request.user, retention.WHAT)
    return retention.report()
