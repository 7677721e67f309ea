"""What an uploaded import file must be before anything reads it, and how files go back out.

Uploads are checked by size (IMPORT_MAX_BYTES) and by content, never by the name or the type the browser
claims: a CSV must be text, an XLSX a zip holding ``[Content_Types].xml`` with no more entries and
uncompressed bytes than IMPORT_XLSX_MAX_ENTRIES / IMPORT_XLSX_MAX_UNCOMPRESSED, a vCard must start with
BEGIN:VCARD. Files the app sends back are always attachments with a name made of safe characters only.
"""

from __future__ import annotations

import re
import zipfile

from django.conf import settings
from django.utils.http import content_disposition_header

from crm.core.errors import BadRequest
from crm.dataio import vcard, xlsxread

SAMPLE = 64 * 1024
# Control characters other than tab, newlines, form feed and the old DOS end-of-file mark (0x1a, still
# written by some exports); a text file has (almost) none.
CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 26))
CONTROL_SHARE = 0.01
# Formats people upload by mistake, named so that the message says what to do.
KNOWN_BINARY = (
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file; save it as XLSX or CSV"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "a program"),
)
KINDS = {"csv": "CSV", "xlsx": "XLSX", "vcard": "vCard"}


def refuse(message: str) -> BadRequest:
    return BadRequest(message, fields={"file": message})


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def check_size(upload) -> None:
    """Refuse an upload over IMPORT_MAX_BYTES (Django has spooled it to a temporary file, not to memory)."""
    size = getattr(upload, "size", None)
    if size is None:
        return
    if size == 0:
        raise refuse("The file is empty.")
    if size > max_bytes():
        raise refuse(f"The file is too large ({_mb(size)}); at most {_mb(max_bytes())}.")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def kind_of(binary) -> str:
    """'xlsx', 'vcard' or 'csv' by content; raises BadRequest for anything else. Leaves ``binary`` at its start."""
    head = binary.read(SAMPLE)
    binary.seek(0)
    if head.startswith(xlsxread.ZIP_MAGIC):
        _require_workbook(binary)
        return "xlsx"
    if vcard.is_vcard(head[:512]):
        return "vcard"
    _require_text(head)
    return "csv"


def checked(upload, binary, allowed: tuple[str, ...] = ("csv", "xlsx")) -> str:
    """check_size + kind_of, refusing a kind not in ``allowed`` with a message naming what is."""
    check_size(upload)
    kind = kind_of(binary)
    if kind not in allowed:
        wanted = " or ".join(KINDS[k] for k in allowed)
        raise refuse(f"This is a {KINDS[kind]} file; a {wanted} file is needed here.")
    return kind


def require_vcard(upload, binary) -> None:
    check_size(upload)
    head = binary.read(512)
    binary.seek(0)
    if not vcard.is_vcard(head):
        raise refuse("This is not a vCard file: it must start with BEGIN:VCARD.")


def _require_workbook(binary) -> None:
    try:
        with zipfile.ZipFile(binary) as archive:
            names = set(archive.namelist())
            xlsxread.check_archive(archive)  # a decompression bomb is refused before it is stored
    except xlsxread.FileError as exc:
        raise refuse(exc.message) from None
    except (zipfile.BadZipFile, OSError, ValueError):
        raise refuse("This is not a readable XLSX workbook: the zip archive is damaged.") from None
    finally:
        binary.seek(0)
    if "[Content_Types].xml" not in names:
        raise refuse("This zip file is not an XLSX workbook (it has no [Content_Types].xml).")


def _require_text(head: bytes) -> None:
    for magic, what in KNOWN_BINARY:
        if head.startswith(magic):
            raise refuse(f"This is not a CSV file: it is {what}.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text has NULs by design; the CSV reader decodes it
    controls = sum(head.count(bytes([c])) for c in CONTROL)
    if b"\x00" in head or controls > CONTROL_SHARE * len(head):
        raise refuse("This is not a text (CSV) file: it holds binary data.")


def safe_filename(name: str, default: str = "download") -> str:
    """A file name of letters, digits, dot, dash and underscore only (no path, quote or header trick)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")[:120]
    return cleaned or default


def as_attachment(response, name: str):
    """Send ``response`` as a download called ``name`` (sanitized), never shown inline by the browser."""
    response["Content-Disposition"] = content_disposition_header(True, safe_filename(name))
    response["X-Content-Type-Options"] = "nosniff"
    return response
