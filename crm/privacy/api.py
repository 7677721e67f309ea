"""/api/v1/privacy/: subject access (a ZIP) and erasure, for admins only."""

from django.http import HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from crm.privacy.access import subject_access
from crm.privacy.erasure import erase

router = Router(tags=["privacy"])

ZIP_RESPONSE = {
    "responses": {
        200: {
            "description": "A ZIP of JSON and CSV files (README.txt inside says what each holds)",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/subject-access",
    summary="Everything the CRM holds about a person, as a ZIP (admins only)",
    openapi_extra=ZIP_RESPONSE,
)
def subject_access_export(
    request, email: str | None = None, phone: str | None = None, type: str | None = None, id: int | None = None
):
    record = (type, id) if type or id is not None else None
    data = subject_access(actor=request.user, email=email, phone=phone, record=record)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="subject-access-{timezone.now():%Y%m%d-%H%M%S}.zip"'
    return response


class ErasureIn(Schema):
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    type: str | None = Field(None, max_length=40, description="A record's type (with id), instead of email/phone")
    id: int | None = None
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
