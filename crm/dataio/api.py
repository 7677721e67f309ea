"""Data in and out over the API: exports (CSV/XLSX) of any record list, vCards in and out,
duplicate pairs and merges, CSV imports."""

import json
from typing import Annotated

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict, StringConstraints, WithJsonSchema
from pydantic import Field as PydanticField

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.api.openapi import bounded, names_of
from crm.api.throttling import HEAVY
from crm.audit import reads
from crm.core.errors import BadRequest, NotFound, ValidationFailed
from crm.dataio import background as background_imports
from crm.dataio import batches, duplicates, exporting, importing, saved_mappings, scans, uploads, vcard
from crm.dataio.api_schemas import ImportBatchOut, ImportProgressOut, SavedMappingOut
from crm.dataio.models import DuplicateScan, ImportBatch
from crm.records.models import Contact
from crm.records.selectors import related_qs
from crm.records.services.common import get_visible

router = Router(tags=["data"])


class VcardImported(Schema):
    created: list[int]
    warnings: dict[str, list[str]]


def _exportable() -> list[str]:
    from crm.core import recordtypes
    from crm.records.api.routes import RESOURCES  # the routes import the API layer: late to avoid a cycle

    return sorted(RESOURCES) + [rt.slug for rt in recordtypes.all_types() if rt.run_time]


def _importable() -> list[str]:
    from crm.dataio.importers import importable

    return list(importable())


# The record types each operation takes, by slug, listed when the document is served (crm.api.openapi).
ExportType = names_of("export-types", _exportable)
DuplicateType = names_of("duplicate-types", lambda: [rt.slug for rt in duplicates.with_duplicates()])
ImportType = names_of("import-types", _importable)
ImportTypeOrAll = names_of("import-types-or-all", lambda: ["", *_importable()])
ExportFormat = Annotated[str, WithJsonSchema({"type": "string", "enum": list(exporting.FORMATS), "default": "csv"})]


def _filename(object_type: str, fmt: str) -> str:
    return f"{object_type}-{timezone.now():%Y%m%d-%H%M%S}.{fmt}"


@router.get("/export/{object_type}", throttle=HEAVY, summary="Export a record list (the list's filters) as CSV or XLSX")
def export(request, object_type: ExportType, format: ExportFormat = "csv"):
    res = exporting.resource_of(object_type)
    exporting.check_format(format)
    qs = exporting.export_queryset(res, request.user, request.GET)
    reads.record_export(request.user, res.type.object_type, qs, format, request.GET)
    table = exporting.rows(res, qs, request.user)
    name = _filename(object_type, format)
    if format == "csv":
        response = StreamingHttpResponse(exporting.csv_lines(table), content_type="text/csv; charset=utf-8")
        return uploads.as_attachment(response, name)
    response = FileResponse(
        exporting.xlsx_file(table),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return uploads.as_attachment(response, name)


# The versions vcard.check_version takes, listed in the schema (another is still a 400 naming it).
VCardVersion = Annotated[str, WithJsonSchema({"type": "string", "enum": list(vcard.VERSIONS), "default": "3.0"})]


@router.get("/contacts/{int:pk}/vcard", summary="One contact as a vCard (3.0 or 4.0)")
def contact_vcard(request, pk: int, version: VCardVersion = "3.0"):
    vcard.check_version(version)
    qs = Contact.objects.select_related("company").prefetch_related("emails", "phones")
    contact = get_visible(qs, request.user, pk)
    card = vcard.card(contact, version, policy_for(request.user))  # without the fields hidden from the role
    response = HttpResponse(card, content_type="text/vcard; charset=utf-8")
    uploads.as_attachment(response, f"contact-{contact.pk}.vcf")
    return response


@router.get(
    "/vcard/contacts", throttle=HEAVY, summary="Contacts (the list's filters) as vCards; needs the export permission"
)
def contacts_vcard(request, version: VCardVersion = "3.0"):
    vcard.check_version(version)
    params = request.GET.copy()
    params.pop("version", None)
    qs = exporting.export_queryset(exporting.resource_of("contacts"), request.user, params)
    reads.record_export(request.user, "contact", qs, "vcard", params)
    cards = vcard.cards(qs, version, policy_for(request.user))
    response = StreamingHttpResponse(cards, content_type="text/vcard; charset=utf-8")
    uploads.as_attachment(response, _filename("contacts", "vcf"))
    return response


@router.post(
    "/vcard/import", response={201: VcardImported}, throttle=HEAVY, summary="Create contacts from a vCard file"
)
def import_vcard(request, file: File[UploadedFile]):
    uploads.require_vcard(file, file.file)
    result = vcard.import_cards(file.read(vcard.MAX_BYTES + 1), actor=request.user)
    return Status(201, result)


class PairSide(Schema):
    id: int
    name: str


class DuplicatePair(Schema):
    a: PairSide
    b: PairSide
    score: int
    reasons: dict[str, int]


class DuplicatesOut(Schema):
    items: list[DuplicatePair]


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    survivor_id: int = PydanticField(..., ge=1, le=2**63 - 1)
    other_id: int = PydanticField(..., ge=1, le=2**63 - 1)
    choices: dict[str, str] = {}


@router.get(
    "/duplicates/{object_type}", response=DuplicatesOut, throttle=HEAVY, summary="Likely duplicate pairs, best first"
)
def find_duplicates(
    request,
    object_type: DuplicateType,
    min_score: bounded(0, 100) = 45,
    limit: bounded(1, 1000) = 100,
):
    duplicates.type_of(object_type)
    if not 1 <= limit <= 1000:
        raise BadRequest("limit must be 1 to 1000.", fields={"limit": str(limit)})
    if not 0 <= min_score <= 100:
        raise BadRequest("min_score must be 0 to 100.", fields={"min_score": str(min_score)})
    return {"items": duplicates.find(request.user, object_type, min_score=min_score, limit=limit)}


@router.post(
    "/duplicates/{object_type}/scans", response={202: dict}, throttle=HEAVY, summary="Find duplicates in the background"
)
def start_duplicate_scan(request, object_type: DuplicateType):
    scan = scans.start(request.user, object_type)
    return Status(202, _scan_out(request, scan))


@router.get("/duplicates/scans/{int:pk}", response=dict, summary="A duplicate scan: its status and best pairs")
def duplicate_scan(request, pk: int):
    scan = DuplicateScan.objects.filter(pk=pk, created_by=request.user).first()
    if scan is None:
        raise NotFound(f"No duplicate scan with id {pk}.")
    return _scan_out(request, scan)


def _scan_out(request, scan: DuplicateScan) -> dict:
    items = scans.visible_pairs(request.user, scan, scans.KEPT)[0] if scan.status == "done" else []
    fields = ("id", "object_type", "status", "created_at", "finished_at", "seconds", "message")
    return {**{f: getattr(scan, f) for f in fields}, "items": items}


@router.post("/merge/{object_type}", response=dict, summary="Merge other_id into survivor_id (other is deleted)")
def merge_records(request, object_type: DuplicateType, payload: MergeIn):
    rt, spec = duplicates.type_of(object_type)
    res = exporting.resource_of(object_type)
    visible = rt.restricted(request.user)
    survivor = visible.filter(pk=payload.survivor_id).first()
    other = visible.filter(pk=payload.other_id).first()
    if survivor is None or other is None:
        field = "survivor_id" if survivor is None else "other_id"
        raise ValidationFailed({field: f"No {rt.singular} with id {getattr(payload, field)}."})
    merged = spec.merge(survivor, other, actor=request.user, choices=payload.choices)
    body = res.out.from_orm(related_qs(res.type).get(pk=merged.pk)).model_dump(mode="json")
    return fieldrules.mask(policy_for(request.user), rt, body)  # as every record read: hidden fields null


ColumnHeader = Annotated[str, StringConstraints(min_length=1, max_length=255)]  # as saved_mappings checks


class MappingIn(Schema):
    model_config = ConfigDict(extra="forbid")
    object_type: ImportType
    name: str
    mapping: Annotated[dict[ColumnHeader, str], PydanticField(min_length=1)]


# Declared before POST /import/{object_type}: Django tries URL patterns in order, and that one would
# take /import/mappings for an object type.
@router.get("/import/mappings", response=dict, summary="Saved column mappings (of one object type, or all)")
def import_mappings(request, object_type: ImportTypeOrAll = ""):
    found = saved_mappings.listed(actor=request.user, object_type=object_type or None)
    return {"items": [saved_mappings.as_dict(m) for m in found]}


@router.post(
    "/import/mappings",
    response={200: SavedMappingOut, 201: SavedMappingOut},
    summary="Save a column mapping (same name: replace)",
)
def save_import_mapping(request, payload: MappingIn):
    saved, created = saved_mappings.save(
        actor=request.user, object_type=payload.object_type, name=payload.name, columns=payload.mapping
    )
    return Status(201 if created else 200, saved_mappings.as_dict(saved))


@router.delete("/import/mappings/{int:pk}", response={204: None}, summary="Delete a saved column mapping")
def delete_import_mapping(request, pk: int):
    saved_mappings.delete(saved_mappings.get_by_id(actor=request.user, pk=pk), actor=request.user)
    return Status(204, None)


@router.post(
    "/import/{object_type}",
    response={200: ImportBatchOut, 201: ImportBatchOut, 202: ImportProgressOut},
    throttle=HEAVY,
    summary="Import a CSV (dry_run: check only; background: queue it and poll the batch)",
)
def import_csv(
    request,
    object_type: ImportType,
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    update_existing: Form[bool] = False,
    mapping: Form[str] = "",
    background: Form[bool] = False,
    mapping_name: Form[str] = "",
    match_on: Form[str] = "",
    create_companies: Form[bool] = False,
):
    uploads.checked(file, file.file)
    columns = _columns(request, object_type, mapping, mapping_name)
    if background:
        batch = background_imports.queue(
            file,
            actor=request.user,
            object_type=object_type,
            file_name=file.name or "",
            columns=columns,
            update_existing=update_existing,
            match_on=match_on,
            dry_run=dry_run,
            create_companies=create_companies,
        )
        return Status(202, {**batches.summary(batch), **background_imports.progress(batch)})
    batch = importing.run(
        file.file,
        actor=request.user,
        object_type=object_type,
        file_name=file.name or "",
        columns=columns,
        dry_run=dry_run,
        update_existing=update_existing,
        match_on=match_on,
        create_companies=create_companies,
    )
    return Status(200 if dry_run else 201, batches.summary(batch))


@router.post("/import/{object_type}/columns", response=dict, summary="A file's header and the suggested mapping")
def import_columns(request, object_type: ImportType, file: File[UploadedFile]):
    uploads.checked(file, file.file)
    return importing.columns_of(file.file, object_type, actor=request.user)


def _columns(request, object_type: str, raw: str, mapping_name: str) -> dict | None:
    """The mapping sent as JSON, or the saved one named ``mapping_name``, or None (suggest one)."""
    if not mapping_name:
        return _json_mapping(raw)
    if raw:
        raise ValidationFailed({"mapping_name": "Give mapping or mapping_name, not both."})
    try:
        return saved_mappings.get(actor=request.user, object_type=object_type, name=mapping_name).mapping
    except NotFound as exc:
        raise ValidationFailed({"mapping_name": exc.message}) from None


def _json_mapping(raw: str) -> dict | None:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ValidationFailed({"mapping": "Must be JSON: {column header: field}."}) from None


def _batch(request, pk: int) -> ImportBatch:
    return batches.batch_for(request.user, pk)


@router.get("/import/batches/{int:pk}", response=ImportProgressOut, summary="An import's counts and problem rows")
def import_batch(request, pk: int):
    batch = _batch(request, pk)
    return {**batches.summary(batch, rows=1000), **background_imports.progress(batch)}


@router.get("/import/batches/{int:pk}/errors.csv", summary="An import's rows with problems: original cells + message")
def import_errors(request, pk: int):
    batch = _batch(request, pk)
    response = StreamingHttpResponse(exporting.csv_lines(batches.error_report(batch)), content_type="text/csv")
    return uploads.as_attachment(response, f"import-{batch.pk}-errors.csv")


@router.post("/import/batches/{int:pk}/undo", response=dict, summary="Undo an import: remove created, restore updated")
def import_undo(request, pk: int):
    return importing.undo(_batch(request, pk), actor=request.user)
