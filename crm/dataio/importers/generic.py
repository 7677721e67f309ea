"""The importer of a type with importable fields and no importer of its own, built from the type's
registry entry. A type defined at run time (a custom object type, crm/objects) has only custom fields,
so a column maps to ``cf_<key>`` (read by the cell converters every importer shares, cells.py) or to
``owner``. A type declared in code without an importer maps a column to each importable RecordField
(converted by its kind; DeclaredImporter) as well as to its custom fields.
Rows match existing records on the name (the default), on a unique field (``match_on=cf_<key>``) or
not at all; they are written through the type's services (``rt.create`` / ``rt.update``), so the
role's permissions, validation, unique values, the change log, search and events all apply.
"""

from __future__ import annotations

from crm.audit import changelog
from crm.core import events
from crm.dataio.importers.base import Importer
from crm.dataio.importers.synonyms import GENERIC_TARGETS
from crm.records.services import links
from crm.search import index as search_index


class GenericImporter(Importer):
    rt = None  # the RecordType, set on the class built for it (importer_for_type)
    key_name = "name"  # the record's name (its name field's value)
    synonyms = GENERIC_TARGETS  # the owner; custom fields are suggested by key or label

    @classmethod
    def record_type(cls):
        return cls.rt

    # Class methods, as the built-in importers' services are static: undo calls them on the class.
    @classmethod
    def create(cls, *, actor, data: dict):
        return cls.rt.create(actor=actor, data=flat(data))

    @classmethod
    def update(cls, record, *, actor, data: dict):
        return cls.rt.update(record, actor=actor, data=flat(data))

    def key(self, data: dict) -> str | None:
        return (data.get("custom_fields") or {}).get(self.name_field) or None

    @property
    def name_field(self) -> str:
        return self.rt.extra["type"].name_field

    def find_many(self, keys: list[str]) -> dict[str, int]:
        if self.match_on != self.key_name:
            return super().find_many(keys)  # a custom field (an external id), or no match
        return self.visible_matches(self.rt.objects().filter(name__in=keys).values_list("name", "pk"))

    @classmethod
    def delete_many(cls, pks: list[int], *, actor, force: bool = False) -> int:
        """As crm.records.services.bulk.delete_many, on the type's own rows: logged, out of search,
        unlinked from activities and tasks, with a record.deleted event each."""
        qs = cls.rt.objects() if force else cls.rt.restricted(actor, "delete")
        objs = list(qs.filter(pk__in=pks))
        if not objs:
            return 0
        changes = changelog.log_bulk_delete(actor, objs, [changelog.snapshot(o) for o in objs])
        search_index.remove_many(objs)
        links.unlink(cls.rt.object_type, [o.pk for o in objs])
        cls.rt.objects().filter(pk__in=[o.pk for o in objs]).delete()
        events.emit_many("record.deleted", objs, actor=actor, changes=changes)
        return len(objs)


def flat(data: dict) -> dict:
    """The importers' data ({"custom_fields": {...}, "owner_id": ...}) as the custom record services
    take it: a value per field key, plus owner_id."""
    out = {k: v for k, v in data.items() if k != "custom_fields"}
    return out | dict(data.get("custom_fields") or {})


def importer_for_type(rt) -> type[GenericImporter]:
    if rt.run_time:
        return type(f"{rt.object_type.title()}Importer", (GenericImporter,), {"rt": rt, "model": rt.model})
    from crm.dataio.importers.declared import DeclaredImporter, spellings  # it builds on this class

    key_name = rt.search.name_field if rt.search else "name"
    attrs = {"rt": rt, "model": rt.model, "synonyms": spellings(rt), "key_name": key_name}
    return type(f"{rt.object_type.title()}Importer", (DeclaredImporter,), attrs)
