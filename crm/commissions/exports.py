"""A statement as CSV, XLSX or PDF.

CSV and XLSX reuse the export helpers (crm/dataio/exporting.py): every text cell goes through
``cell``, so a deal named ``=HYPERLINK(...)`` stays text in a spreadsheet, and XLSX drops the control
characters it cannot hold. The PDF is a Django template (autoescaped) laid out by WeasyPrint through
crm/quotes/pdf.py's ``html_to_pdf``, whose fetcher loads nothing but the logo and the quote assets
(our template inlines its CSS, so it fetches nothing). Each download is recorded in the read audit."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string

from crm.audit import reads
from crm.commissions import access
from crm.commissions.models import Statement
from crm.core.errors import BadRequest
from crm.dataio import exporting, uploads

FORMATS = ("csv", "xlsx", "pdf")
HEADER = [
    "position",
    "kind",
    "description",
    "date",
    "original amount",
    "original currency",
    "base amount",
    "split %",
    "rule",
    "commission",
]


def rep_name(s: Statement) -> str:
    return s.rep.get_full_name() or s.rep.get_username()


def table(s: Statement, lines) -> Iterator[list[str]]:
    c = exporting.cell
    yield ["statement", c(rep_name(s)), c(s.period_key), f"version {s.version}", c(s.plan_name), s.currency]
    yield HEADER
    for x in lines:
        yield [
            c(x.position),
            c(x.kind),
            c(x.description),
            c(x.date),
            c(x.original_amount),
            c(x.original_currency),
            c(x.base_amount),
            c(x.split_percent),
            c(x.rule),
            c(x.commission),
        ]
    for label, value in totals(s):
        yield ["", "total", c(label), "", "", "", "", "", "", c(value)]


def totals(s: Statement) -> list[tuple[str, object]]:
    rows = [
        ("credited", s.credited),
        ("quota", s.quota),
        ("attainment %", s.attainment),
        ("earned", s.earned),
        ("clawbacks", s.clawbacks),
        ("adjustments", s.adjustments),
        ("before cap", s.before_cap),
    ]
    if s.cap_note:
        rows.append((s.cap_note, None))
    rows.append(("total", s.total))
    return rows


def file_name(s: Statement, fmt: str) -> str:
    return f"commission-{s.rep.get_username()}-{s.period_key}-v{s.version}.{fmt}"


def render_pdf(s: Statement, lines) -> bytes:
    from crm.quotes.branding import branding_values
    from crm.quotes.pdf import html_to_pdf

    brand = branding_values()
    context = {"s": s, "rep": rep_name(s), "lines": lines, "totals": totals(s), "brand": brand}
    return html_to_pdf(render_to_string("commissions/statement_pdf.html", context), brand)


def response(s: Statement, fmt: str, actor):
    if fmt not in FORMATS:
        raise BadRequest(f"Unknown format {fmt!r}.", fields={"format": "csv, xlsx or pdf."})
    reads.record_read(
        actor=actor, action="export", object_type="commission_statement", object_id=s.pk, detail={"format": fmt}
    )
    lines = access.readable_lines(actor, s)  # without the amounts the reader's role hides
    if fmt == "csv":
        out = StreamingHttpResponse(exporting.csv_lines(table(s, lines)), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        out = FileResponse(exporting.xlsx_file(table(s, lines)), content_type=content_type)
    else:
        out = HttpResponse(render_pdf(s, lines), content_type="application/pdf")
    return uploads.as_attachment(out, file_name(s, fmt))
