"""/api/v1/settings/branding: the organization's branding on quotes. Everyone signed in reads it;
admins change it (the services check: crm/quotes/branding.py). The logo is its own multipart upload."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from crm.quotes import branding as services
from crm.quotes.models import Branding

router = Router(tags=["branding"])


class BrandingOut(Schema):
    organization_name: str
    primary_colour: str
    address: str
    tax_ids: str
    default_terms: str
    footer_note: str
    has_logo: bool
    logo_url: str | None = Field(None, description="The logo image (signed-in users), when there is one")
    updated_at: dt.datetime | None = None


class BrandingPatch(Schema):
    organization_name: str = Field(None, max_length=200)
    primary_colour: str = Field(None, pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb")
    address: str = Field(None, max_length=1000)
    tax_ids: str = Field(None, max_length=500)
    default_terms: str = Field(None, max_length=5000)
    footer_note: str = Field(None, max_length=300)


def out(branding: Branding) -> dict:
    has_logo = services.logo_path(branding) is not None
    return {
        **{name: getattr(branding, name) for name in services.EDITABLE},
        "has_logo": has_logo,
        "logo_url": reverse("branding-settings:logo") if has_logo else None,
        "updated_at": branding.updated_at,
    }


@router.get("", response=BrandingOut, summary="The organization's branding on quotes")
def branding_read(request):
    return out(Branding.current())


@router.patch("", response=BrandingOut, summary="Change the branding (admins)")
def branding_patch(request, payload: BrandingPatch):
    return out(services.branding_update(actor=request.user, data=payload.model_dump(exclude_unset=True)))


@router.post("/logo", response=BrandingOut, summary="Upload the logo: a PNG or JPEG of at most 2 MB (admins)")
def branding_logo_upload(request, logo: File[UploadedFile]):
    return out(services.branding_set_logo(actor=request.user, upload=logo))


@router.delete("/logo", response=BrandingOut, summary="Remove the logo (admins)")
def branding_logo_remove(request):
    return out(services.branding_remove_logo(actor=request.user))
