"""Export any record list as CSV or XLSX: the API list's filters, only what the user may export.

Rows come from the resource's output schema, so an export shows exactly what the API shows; custom
fields become ``cf_<key>`` columns. Rows are produced lazily from a chunked iterator so a large
export never holds the whole result in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import tempfile
from collections.abc import Iterable, Iterator

from django.http import QueryDict

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.api.crud import Resource
from crm.core import recordtypes
from crm.core.errors import BadRequest, PermissionDenied
from crm.customization.validation import definitions
from crm.records.selectors import filtered

FORMATS = ("csv", "xlsx")
CHUNK = 2000
# A spreadsheet treats a cell starting with one of these as a formula (or a DDE payload).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def resource_of(object_type: str) -> Resource:
    from crm.api.crud import resource_for
    from crm.records.api.routes import RESOURCES  # the routes import the API layer: late to avoid a cycle

    res = RESOURCES.get(object_type)
    if res is None and (rt := recordtypes.by_slug(object_type)) is not None and rt.run_time:
        res = resource_for(rt)  # a custom type: its rows as RecordRow, its values as cf_<key> columns
    if res is None:
        raise BadRequest(
            f"Unknown record type {object_type!r}.", fields={"type": f"One of: {', '.join(sorted(RESOURCES))}."}
        )
    return res


def inert(text: str) -> str:
    """A leading apostrophe makes a would-be formula plain text in Excel, LibreOffice and Sheets."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | int | float):
        return str(value)
    if isinstance(value, list):
        return "; ".join(cell(_item(v)) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={cell(v)}" for k, v in value.items())
    return inert(str(value))


def _item(value):
    """A list of objects (a contact's emails) shows each by its first field (the address); a link to
    a record as type:id."""
    if isinstance(value, dict) and set(value) == {"type", "id"}:
        return f"{value['type']}:{value['id']}"
    if isinstance(value, dict) and value:
        return next(iter(value.values()))
    return value


def columns(res: Resource, user=None) -> tuple[list[str], list[str]]:
    """The columns; with a ``user``, without those of the fields hidden from their role."""
    # id first and the bookkeeping last; in between the schema's order (its mixins, e.g. the address, come first)
    tail = ("version", "created_at", "updated_at")
    fields = [n for n in res.out.model_fields if n not in ("id", "custom_fields", *tail)]
    fields = ["id", *fields, *tail]
    cf_keys = sorted(definitions(res.type.object_type))
    hidden = policy_for(user).hidden_fields(res.type.object_type) if user is not None else frozenset()
    if hidden:
        known = fieldrules.aliases(res.type)
        fields = [n for n in fields if fieldrules.field_of(res.type, n, known) not in hidden]
        if fieldrules.link_types(res.type, hidden):  # a cell joins every link: left out with any type hidden
            fields = [n for n in fields if n != fieldrules.LINKS]
        cf_keys = [k for k in cf_keys if fieldrules.custom_name(res.type, k) not in hidden]
    return fields, cf_keys


def rows(res: Resource, qs, user=None) -> Iterator[list[str]]:
    """The header, then one row per record, in id order; the columns ``user`` may see."""
    fields, cf_keys = columns(res, user)
    yield fields + [f"cf_{k}" for k in cf_keys]
    for obj in qs.order_by("pk").iterator(chunk_size=CHUNK):
        data = res.out.from_orm(obj).model_dump()
        custom = data.get("custom_fields") or {}
        yield [cell(data.get(f)) for f in fields] + [cell(custom.get(k)) for k in cf_keys]


def export_queryset(res: Resource, user, params: QueryDict):
    """The user's exportable records matching ``params`` (the API list's filters and ``q``)."""
    if not policy_for(user).allows(res.type.object_type, "export"):
        raise PermissionDenied(f"You may not export {res.type.plural}.")
    params = params.copy()
    for key in ("format", "sort", "limit", "cursor"):
        params.pop(key, None)
    return filtered(res.type, user, params, "export")


class _Echo:
    """csv.writer into a return value instead of a file, to stream lines."""

    def write(self, value):
        return value


def csv_lines(table: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in table:
        yield writer.writerow(row)


def xlsx_text(value, illegal) -> str:
    """The text without the control characters XML 1.0, so XLSX, cannot hold (``illegal``: openpyxl
    refuses them, and one "\\x07" in one record failed every export). Made inert again after, or
    "\\x07=cmd" would become a formula."""
    if isinstance(value, str) and illegal.search(value):
        return inert(illegal.sub("", value))
    return value


def write_xlsx(table: Iterable[list[str]], out) -> None:
    """Write-only mode streams rows to a temporary file instead of building the sheet in memory.
    Only here are the characters XLSX cannot hold dropped; CSV keeps the text as it is."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Export")
    for row in table:
        sheet.append([xlsx_text(v, ILLEGAL_CHARACTERS_RE) for v in row])
    book.save(out)


def xlsx_file(table: Iterable[list[str]]):
    """A spooled temporary file holding the workbook, rewound for reading."""
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    write_xlsx(table, out)
    out.seek(0)
    return out


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadRequest(f"Unknown format {fmt!r}.", fields={"format": "csv or xlsx."})
    return fmt
