"""What the import endpoints answer, declared for the OpenAPI document (a generated client gets typed
results instead of untyped objects). The values come from crm.dataio.batches and saved_mappings."""

from ninja import Schema


class ImportRowProblem(Schema):
    line: int
    action: str
    id: int | None
    errors: dict[str, str]
    warnings: list[str]


class ImportBatchOut(Schema):
    id: int
    object_type: str
    status: str
    file_name: str
    encoding: str
    delimiter: str
    mapping: dict[str, str]
    match_on: str
    update_existing: bool
    create_companies: bool
    counts: dict[str, int]  # create, update, skip, error; companies_created, companies_linked
    message: str
    rows: list[ImportRowProblem]  # the rows with problems (the first 100, or 1,000 on a batch's page)


class ImportProgressOut(ImportBatchOut):
    processed: int  # rows read so far
    position: int  # bytes read of the file
    size: int  # the file's bytes
    percent: int  # 100 only once finished


class SavedMappingOut(Schema):
    id: int
    object_type: str
    name: str
    mapping: dict[str, str]
    created_by: str | None
    created_at: str
