"""The generic importer of a type declared in code (crm.core.recordtypes) that names no importer of
its own: each importable RecordField is a target, its cells converted by the field's kind, and the
values go to the type's services as they are (not as custom fields, which stay ``cf_<key>``)."""

from __future__ import annotations

from crm.dataio import dates
from crm.dataio.importers.base import Importer, boolean, money
from crm.dataio.importers.generic import GenericImporter
from crm.dataio.importers.synonyms import GENERIC_TARGETS


def spellings(rt) -> dict[str, list[str]]:
    """Target -> header spellings: each importable field by its name and its label; the owner as any type's."""
    out = {f.name: [s for s in (f.name, f.label) if s] for f in rt.fields if f.importable and f.name != "owner"}
    return out | GENERIC_TARGETS


def _integer(value: str) -> int:
    try:
        return int(value.replace(",", "").replace(" ", ""))
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number.") from None


def _choice(field, value: str) -> str:
    for stored, label in field.choices:
        if value.lower() in (str(stored).lower(), str(label).lower()):
            return stored
    raise ValueError(f"{value!r} is not one of: {', '.join(str(v) for v, _ in field.choices)}.")


CONVERT = {  # a field's kind -> cell text to the value its service takes (a ValueError says what is wrong)
    "str": lambda field, value: value,
    "int": lambda field, value: _integer(value),
    "decimal": lambda field, value: money(value),
    "bool": lambda field, value: boolean(value),
    "date": lambda field, value: dates.parse_date(value),
    "datetime": lambda field, value: dates.parse_datetime(value),
    "choice": _choice,
}


class DeclaredImporter(GenericImporter):
    """Built per type by importer_for_type (with its ``rt``, ``synonyms`` and ``key_name``)."""

    @classmethod
    def create(cls, *, actor, data: dict):
        return cls.rt.create(actor=actor, data=data)

    @classmethod
    def update(cls, record, *, actor, data: dict):
        return cls.rt.update(record, actor=actor, data=data)

    @property
    def name_field(self) -> str:
        return self.key_name  # the declaration's search name field (importer_for_type)

    def key(self, data: dict) -> str | None:
        return data.get(self.name_field) or None

    def find_many(self, keys: list[str]) -> dict[str, int]:
        if self.match_on != self.key_name:
            return Importer.find_many(self, keys)  # a custom field (an external id), or no match
        found = self.rt.objects().filter(**{f"{self.name_field}__in": keys}).values_list(self.name_field, "pk")
        return self.visible_matches(found)

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        field = next((f for f in self.rt.fields if f.importable and f.name == target and f.name != "owner"), None)
        if field is None:
            return False  # the owner and custom fields: as every importer reads them
        convert = CONVERT.get(field.kind)
        if convert is None:
            raise ValueError(f"{field.label} cannot be imported from a file.")
        # A link to another record (lookup "company_id") goes to the service as its id, as the API sends it.
        data[field.lookup if field.lookup.endswith("_id") else field.name] = convert(field, value)
        return True
