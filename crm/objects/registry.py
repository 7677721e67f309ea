"""Custom object types as record types of the registry (crm.core.recordtypes): each type is built from
its row and its field definitions, with its services bound to it, so the generic API, search, export,
the change log, rules and webhooks read it as they read a declared type.

The registry keeps the built types per process and rebuilds them when the generation token changes
(``TypeGeneration``): every save or delete of a type or a field definition draws a new token in its
transaction, whatever wrote it (the services, the admin, a fixture), and tells this process at once.
"""

from __future__ import annotations

import uuid
from functools import partial

from django.db import connection
from django.db.models.signals import post_delete, post_save

from crm.core import recordtypes
from crm.core.normalize import phone_search_tokens
from crm.core.recordtypes import ApiSpec, PersonSpec, RecordField, RecordType, SearchSpec
from crm.customization.models import CustomField, FieldType
from crm.objects.models import CustomRecord, ObjectType, TypeGeneration

# The registry's kinds (the filter language's) of each field type.
KINDS = {
    FieldType.INTEGER: "int",
    FieldType.USER: "int",
    FieldType.LOOKUP: "int",
    FieldType.DECIMAL: "decimal",
    FieldType.MONEY: "decimal",  # filters compare the amount
    FieldType.BOOLEAN: "bool",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.CHOICE: "choice",
    FieldType.MULTI_CHOICE: "multi",
}
UNSORTABLE = {FieldType.MULTI_CHOICE, FieldType.MONEY, FieldType.LONG_TEXT}  # a list; an amount's currency; prose
TEXT_TYPES = {FieldType.TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.URL, FieldType.CHOICE}
_TABLES_SEEN: list[bool] = []


def generation() -> str | None:
    """The current token: "" before any definition was written, None while the tables do not exist
    (``migrate`` has not created them yet)."""
    if not _TABLES_SEEN:
        if TypeGeneration._meta.db_table not in connection.introspection.table_names():
            return None
        _TABLES_SEEN.append(True)  # once they exist they stay: no more catalogue reads
    return TypeGeneration.objects.filter(pk=1).values_list("token", flat=True).first() or ""


def bump(**_kwargs) -> None:
    """A new token in the writer's transaction (other processes rebuild), and this process at once."""
    token = uuid.uuid4().hex
    if not TypeGeneration.objects.filter(pk=1).update(token=token):
        TypeGeneration.objects.update_or_create(pk=1, defaults={"token": token})
    recordtypes.run_time_types_changed()


def connect() -> None:
    # A signal, not a call in each service: a definition written by any path must reach every process.
    for model in (ObjectType, CustomField):
        post_save.connect(bump, sender=model, dispatch_uid=f"objects-generation-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"objects-generation-delete-{model.__name__}")


def build() -> list[RecordType]:
    """Every type with its fields, in two queries."""
    types = list(ObjectType.objects.order_by("id"))
    fields: dict[str, list[CustomField]] = {t.key: [] for t in types}
    for f in CustomField.objects.filter(object_type__in=list(fields)).order_by("order", "id"):
        fields[f.object_type].append(f)
    return [record_type(t, fields[t.key]) for t in types]


def record_type(object_type: ObjectType, defs: list[CustomField]) -> RecordType:
    from crm.objects import records, schemas  # services and schemas load the API layer: not at app loading

    # Global search indexes a type once one of its fields is searchable: the name, and those fields.
    indexed = any(f.searchable for f in defs)
    searchable = [f for f in defs if f.searchable and f.key != object_type.name_field]
    return RecordType(
        object_type=object_type.key,
        slug=object_type.slug,
        model=CustomRecord,
        singular=object_type.singular.lower(),
        plural=object_type.plural.lower(),
        fields=(*record_fields(object_type), *(value_field(f) for f in defs if f.key != "name")),
        create=partial(records.record_create, object_type=object_type),
        update=records.record_update,
        delete=records.record_delete,
        api=ApiSpec(
            out=schemas.RecordRow,
            create_in=schemas.RecordIn,
            update_in=schemas.RecordPatch,
            # ?q= on a type global search does not index: the name and the text values
            text_fields=("name", *(f"custom_fields__{f.key}" for f in defs if _text_searched(f))),
        ),
        search=SearchSpec(text=partial(search_text, searchable)) if indexed else None,
        owner_field="owner",
        pages=True,
        detail_related=("owner",),
        timeline=True,
        rows=partial(_rows, object_type),
        run_time=True,
        extra={"type": object_type, "archived": object_type.archived},
        person=person_spec(defs, object_type.name_field),
    )


def person_spec(defs: list[CustomField], name_field: str = "name") -> PersonSpec | None:
    """A type with an email or phone field holds people: found and erased by those values (stored
    normalized by the custom-field validation)."""
    emails = tuple(f"custom_fields__{f.key}" for f in defs if f.field_type == FieldType.EMAIL)
    phones = tuple(f"custom_fields__{f.key}" for f in defs if f.field_type == FieldType.PHONE)
    if not (emails or phones):
        return None
    # Anonymized: the name field and required text say so; other text, emails, phones and URLs are cleared.
    prose = (FieldType.TEXT, FieldType.LONG_TEXT)
    cleared = {f.key: None for f in defs if f.field_type in (*TEXT_TYPES, FieldType.PHONE) and not f.required}
    named = {f.key: "Erased person" for f in defs if f.field_type in prose and (f.required or f.key == name_field)}
    return PersonSpec(email_lookups=emails, phone_lookups=phones, anonymized={**cleared, **named})


def _rows(object_type: ObjectType):
    # With the type joined: a record's change log, search row and events read its key.
    return CustomRecord.objects.of_type(object_type).select_related("type")


def record_fields(object_type: ObjectType) -> tuple[RecordField, ...]:
    """A record's own attributes; ``name`` is the name field's value copied to a column."""
    return (
        RecordField("id", "int", "ID", sortable=True, read_only=True),
        RecordField("name", "str", object_type.name_field.replace("_", " ").capitalize(), listed=True, sortable=True),
        RecordField("owner", "int", "Owner", lookup="owner_id", listed=True),
        RecordField("created_at", "datetime", "Created", sortable=True, read_only=True),
        RecordField("updated_at", "datetime", "Updated", listed=True, sortable=True, read_only=True),
    )


def _text_searched(f: CustomField) -> bool:
    return f.field_type in TEXT_TYPES and not f.encrypted  # ciphertext matches nothing anyone types


def value_field(f: CustomField) -> RecordField:
    """A custom field, filtered and sorted by its key (``?seats__gt=4``, ``sort=-seats``). An encrypted
    one filters by equality on its keyed hash and does not sort (crm/customization/secrets.py)."""
    path = f"custom_fields__{f.key}"
    lookup = f"{path}__amount" if f.field_type == FieldType.MONEY else f"{path}__h" if f.encrypted else path
    return RecordField(
        f.key,
        "hashed" if f.encrypted else KINDS.get(f.field_type, "str"),
        f.label,
        lookup=lookup,
        sort_path=path,
        choices=tuple((c, str(c)) for c in f.choices),
        sortable=f.field_type not in UNSORTABLE and not f.encrypted,
        searchable=f.searchable,
        importable=True,
        required=f.required,
    )


def search_text(fields: list[CustomField], record: CustomRecord) -> list[str]:
    """The name, then each searchable field's value (a phone in all its written forms)."""
    texts = [record.name]
    for f in fields:
        value = record.custom_fields.get(f.key)
        if value in (None, ""):
            continue
        if f.field_type == FieldType.PHONE:
            texts += phone_search_tokens(value)
        elif f.field_type == FieldType.MULTI_CHOICE:
            texts += [str(v) for v in value]
        elif f.field_type in TEXT_TYPES:
            texts.append(str(value))
    return texts
