"""Branding (organization name, logo, colour, address, tax ids, default terms, footer): admins write it
through these services, which log every change (crm/audit/configwrites.py); everyone signed in reads it.

Logos are checked by content, never by name or claimed type: a PNG or JPEG (magic bytes, then Pillow
opens and verifies it), at most LOGO_MAX_BYTES. It is stored under ``var/branding/`` with a random name
(as imports are under ``var/imports/``, crm/dataio/background.py), and the row keeps only that name; the
file it replaces is deleted once the new name is committed.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction

from crm.access.policy import require_admin
from crm.audit import configwrites
from crm.core.errors import BadRequest
from crm.quotes.models import SINGLETON, Branding
from crm.quotes.pdf import BrandingValues

WHAT = "branding"
EDITABLE = ("organization_name", "primary_colour", "address", "tax_ids", "default_terms", "footer_note")
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIDE = 4000  # pixels: a logo is printed about 6 cm wide; a larger one only slows every PDF down
LOGO_KINDS = ((b"\x89PNG\r\n\x1a\n", "png", "PNG"), (b"\xff\xd8\xff", "jpg", "JPEG"))


def folder() -> Path:
    path = Path(settings.VAR_DIR) / "branding"
    path.mkdir(parents=True, exist_ok=True)
    return path


def logo_path(branding: Branding) -> Path | None:
    """The stored logo file; None when there is none (or the name is not one we made)."""
    name = branding.logo
    if not name or Path(name).name != name or name.startswith("."):
        return None
    path = folder() / name
    return path if path.is_file() else None


def branding_values(branding: Branding | None = None) -> BrandingValues:
    """What the quote PDF needs (crm/quotes/pdf.py), as plain values."""
    b = branding or Branding.current()
    return BrandingValues(
        name=b.organization_name,
        address=b.address,
        tax_ids=b.tax_ids,
        primary_colour=b.primary_colour,
        footer_note=b.footer_note,
        logo_path=logo_path(b),
    )


@transaction.atomic
def branding_update(*, actor, data: dict) -> Branding:
    """Set the EDITABLE fields present in ``data``; the first save creates the row (logged as a create)."""
    require_admin(actor, WHAT)
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise BadRequest(
            f"Unknown branding fields: {', '.join(unknown)}.", fields={k: "Not a branding field." for k in unknown}
        )
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    stored = _stored()
    if stored is None:
        fresh = Branding(pk=SINGLETON, **data)
        return configwrites.create(fresh, actor=actor)
    return configwrites.update(stored, actor=actor, data=data, fields=EDITABLE)


def branding_set_logo(*, actor, upload) -> Branding:
    """Check the upload (size, PNG/JPEG by content), store it under a random name, point the row at it."""
    require_admin(actor, WHAT)
    extension = _checked_logo(upload)
    name = f"{secrets.token_hex(16)}.{extension}"
    path = folder() / name
    with open(path, "xb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            out.write(chunk)
    try:
        return _point_logo_at(name, actor)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def branding_remove_logo(*, actor) -> Branding:
    require_admin(actor, WHAT)
    return _point_logo_at("", actor)


@transaction.atomic
def _point_logo_at(name: str, actor) -> Branding:
    stored = _stored() or configwrites.create(Branding(pk=SINGLETON), actor=actor)
    old = logo_path(stored)
    saved = configwrites.update(stored, actor=actor, data={"logo": name}, fields=("logo",))
    if old is not None:
        transaction.on_commit(lambda: old.unlink(missing_ok=True))
    return saved


def _stored() -> Branding | None:
    return Branding.objects.select_for_update().filter(pk=SINGLETON).first()


def refuse_logo(message: str) -> BadRequest:
    return BadRequest(message, fields={"logo": message})


def _checked_logo(upload) -> str:
    size = getattr(upload, "size", None)
    if not size:
        raise refuse_logo("The file is empty.")
    if size > LOGO_MAX_BYTES:
        raise refuse_logo(f"The logo is too large ({size / 1048576:.1f} MB); at most {LOGO_MAX_BYTES // 1048576} MB.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, extension, label in LOGO_KINDS:
        if head.startswith(magic):
            _verify_image(upload, label)
            return extension
    raise refuse_logo("The logo must be a PNG or JPEG image.")


def _verify_image(upload, label: str) -> None:
    """Pillow parses the whole file, so a PNG header glued to anything else is refused too."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload) as image:
            if image.format != label:
                raise refuse_logo("The logo must be a PNG or JPEG image.")
            if max(image.size) > LOGO_MAX_SIDE:
                raise refuse_logo(
                    f"The logo is too large ({image.size[0]}×{image.size[1]}); at most {LOGO_MAX_SIDE} pixels a side."
                )
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise refuse_logo(f"This {label} image is damaged or cannot be read.") from None
    finally:
        upload.seek(0)
