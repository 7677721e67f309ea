"""The importer base: the state of one run (mapping, lookups cached across rows, match keys already
seen in the file) and the cell converters every record type's importer shares. A subclass per type says
how a row becomes that type's service data and how it is matched (crm/dataio/importers/contacts.py,
records.py); crm/dataio/importing.py runs them over a file.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q

from crm.core import recordtypes
from crm.core.errors import ServiceError
from crm.core.normalize import InvalidValue
from crm.customization.validation import coerce, definitions
from crm.dataio.importers import cells
from crm.dataio.importers.company_links import CompanyLinks
from crm.dataio.models import RowAction
from crm.records.models import LifecycleStage
from crm.records.services import bulk

TRUE = {"true", "yes", "y", "1", "x", "on", "subscribed", "opted in"}
FALSE = {"false", "no", "n", "0", "off", "unsubscribed", "opted out"}
CACHE_LIMIT = 10_000


@dataclass
class Outcome:
    action: str
    object_id: int | None = None
    errors: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    before: dict | None = None
    linked: bool = False  # written with a company (counted as companies_linked)


class Importer:
    """State of one run: the mapping, lookups cached across rows, match keys already seen in the file.
    A subclass per record type says how a row becomes service data and how it is matched."""

    model: type
    key_name = ""  # the field rows are matched on by default, for messages
    create = update = delete = None  # the record type's services (staticmethods in subclasses)
    create_many = None  # a bulk create service, when the record type has one (staticmethod)
    key_index = None  # (model, key column, record id column): where rows are matched on key_name
    # target field -> the header spellings suggesting it (synonyms.py); a compiled pattern whose group 1 is
    # the rest of a header prefixed with the type's own name ("Deal - Title"), or None
    synonyms: dict[str, list[str]] = {}
    own_prefix = None

    def __init__(
        self,
        actor,
        header: list[str],
        columns: dict[str, str],
        update_existing: bool,
        match_on: str = "",
        create_companies: bool = False,
    ):
        self.actor, self.header, self.update_existing = actor, header, update_existing
        self.targets = [(i, columns.get(h, "")) for i, h in enumerate(header)]
        self.match_on = match_on or self.key_name or "none"
        self.seen: dict[int, int] = {}  # hash of a match key -> line of its first row (bounded memory)
        self.company_links = CompanyLinks(actor, create_companies)  # company cells: found, or created if asked
        self.owners: dict[str, int | None] = {}
        self.linked: dict[tuple[str, str], int | str] = {}  # (type, cell) -> record id, or why there is none
        self.custom_defs = definitions(self.record_type().object_type)
        # Matching looks at every record the user sees; updating one needs "change" (checked up front).
        self.records = self.record_type().restricted(actor)

    @classmethod
    def record_type(cls):
        """The registry's declaration of the type this importer writes."""
        return recordtypes.by_type(cls.model.object_type)

    @classmethod
    def delete_many(cls, pks: list[int], *, actor, force: bool = False) -> int:
        """Delete records an import created (undo, or a failed run taking back its own); returns how many."""
        return bulk.delete_many(cls.model, pks, actor=actor, force=force)

    # -- matching: the type's own key (key/match in subclasses), a custom field, or none --------------

    def match_key(self, data: dict) -> str | None:
        if self.match_on == "none":
            return None
        if self.match_on.startswith("cf_"):
            value = (data.get("custom_fields") or {}).get(self.match_on[3:])
            return None if value in (None, "") else str(value)
        return self.key(data)

    def find_many(self, keys: list[str]) -> dict[str, int]:
        """key -> id of the oldest matching record the user sees, for a chunk of rows."""
        if self.match_on.startswith("cf_"):  # a custom field: stored as its type, so compared one by one
            field, found = f"custom_fields__{self.match_on[3:]}", {}
            for key in keys:
                stored = self.stored_form(self.match_on[3:], key)
                pk = self.records.filter(**{field: stored}).order_by("pk").values_list("pk", flat=True).first()
                if pk is not None:
                    found[key] = pk
            return found
        if self.key_index is None or self.match_on != self.key_name:
            return {}
        model, key_field, id_field = self.key_index
        return self.visible_matches(model.objects.filter(**{f"{key_field}__in": keys}).values_list(key_field, id_field))

    def stored_form(self, key: str, value: str):
        """A match key as the field stores it (a number field's 42, not "42"): else nothing would match."""
        definition = self.custom_defs.get(key)
        try:
            return value if definition is None else coerce(definition, value, actor=self.actor)
        except (ValueError, TypeError, decimal.InvalidOperation):
            return value  # not a valid value: the write reports it

    def key(self, data: dict) -> str | None:
        """The row's own match key (its email, its domain); None when the type has none."""
        return None

    def visible_matches(self, pairs) -> dict[str, int]:
        """(key, record id) pairs from an index -> key: the oldest record the user sees. Two indexed
        lookups: a join on the restricted queryset would read every visible record per chunk."""
        pairs = list(pairs)
        visible = set(self.records.filter(pk__in={pk for _, pk in pairs}).values_list("pk", flat=True))
        found: dict[str, int] = {}
        for key, pk in pairs:
            if pk in visible and (key not in found or pk < found[key]):
                found[key] = pk
        return found

    # -- rows -------------------------------------------------------------------------------------

    def prepare(self, line: int, cells: list[str]) -> Outcome | tuple[dict, list, str | None]:
        """A row's service data, warnings and match key; or its error Outcome."""
        if len(cells) != len(self.header):
            return Outcome(RowAction.ERROR, errors={"row": f"{len(cells)} cells; the header has {len(self.header)}."})
        data, errors, warnings = self.to_data(cells)
        if errors:
            return Outcome(RowAction.ERROR, errors=errors, warnings=warnings)
        key = self.match_key(data)
        if key:
            marker = hash(key)
            if marker in self.seen:
                name = self.match_on[3:] if self.match_on.startswith("cf_") else self.match_on
                return Outcome(RowAction.ERROR, errors={name: f"Same {name} as line {self.seen[marker]} of this file."})
            self.seen[marker] = line
        return data, warnings, key

    def outcome(self, line: int, cells: list[str]) -> Outcome:
        prepared = self.prepare(line, cells)
        if isinstance(prepared, Outcome):
            return prepared
        data, warnings, key = prepared
        pk = self.find_many([key]).get(key) if key else None
        if pk is None:
            return linked(self.write_new(data, warnings), data)
        return linked(self.write_match(pk, data, warnings), data)

    def outcomes(self, chunk: list[tuple[int, list[str]]]) -> list[Outcome]:
        """Outcomes of a chunk of rows, in order; with a bulk create service, new records in one call."""
        if self.create_many is None:
            return [self.outcome(line, cells) for line, cells in chunk]
        self.prime(chunk)
        prepared = [self.prepare(line, cells) for line, cells in chunk]
        keys = [p[2] for p in prepared if not isinstance(p, Outcome) and p[2]]
        matches = self.find_many(keys) if keys else {}
        out: list[Outcome | None] = [None] * len(chunk)
        new: list[int] = []
        for j, p in enumerate(prepared):
            if isinstance(p, Outcome):
                out[j] = p
            elif p[2] in matches:
                out[j] = self.write_match(matches[p[2]], p[0], p[1])
            else:
                new.append(j)
        if new:
            created = self.create_many(actor=self.actor, items=[prepared[j][0] for j in new])
            for j, result in zip(new, created, strict=True):
                warnings = prepared[j][1]
                if isinstance(result, ServiceError):
                    out[j] = Outcome(
                        RowAction.ERROR, errors=result.fields or {"row": result.message}, warnings=warnings
                    )
                else:
                    out[j] = Outcome(RowAction.CREATE, result.pk, warnings=warnings)
        return [o if isinstance(p, Outcome) else linked(o, p[0]) for o, p in zip(out, prepared, strict=True)]

    def prime(self, chunk: list[tuple[int, list[str]]]) -> None:
        """Read the companies a chunk's rows name in a query or two, before the rows."""
        columns = [i for i, target in self.targets if target == "company"]
        names = {cells[i].strip() for _, cells in chunk for i in columns if i < len(cells) and cells[i].strip()}
        if names:
            self.company_links.prime(names)

    def write_new(self, data: dict, warnings: list) -> Outcome:
        try:
            return Outcome(RowAction.CREATE, self.create(actor=self.actor, data=data).obj.pk, warnings=warnings)
        except ServiceError as exc:
            return Outcome(RowAction.ERROR, errors=exc.fields or {"row": exc.message}, warnings=warnings)

    def write_match(self, pk: int, data: dict, warnings: list) -> Outcome:
        """Skip the matched record, or update it (with update_existing)."""
        if not self.update_existing:
            name = self.record_type().singular.capitalize()
            warnings.append(f"{name} {pk} has this {self.match_on}; not updated.")
            return Outcome(RowAction.SKIP, pk, warnings=warnings)
        record = self.records.get(pk=pk)
        try:
            data = self.for_update(record, data)
            before = previous(record, data)
            self.update(record, actor=self.actor, data=data)
            return Outcome(RowAction.UPDATE, pk, warnings=warnings, before=before)
        except ServiceError as exc:
            return Outcome(RowAction.ERROR, errors=exc.fields or {"row": exc.message}, warnings=warnings)

    text_targets: tuple[str, ...] = ()  # copied as they are
    later_targets: tuple[str, ...] = ()  # read together once the whole row is read, by finish()

    def to_data(self, cells: list[str]) -> tuple[dict, dict, list]:
        """A row's service data, its errors (by column name) and warnings. Each mapped, non-empty cell
        goes through cell() (the type's own targets), else common_value(); an error names its column."""
        data: dict = {}
        errors: dict[str, str] = {}
        warnings: list[str] = []
        later: dict[str, tuple[int, str]] = {}  # target -> (column, text)
        for i, target in self.targets:
            value = cells[i].strip()
            if not target or not value:
                continue
            try:
                if target in self.text_targets:
                    data[target] = value
                elif target in self.later_targets:
                    later[target] = (i, value)
                elif not self.cell(target, value, data, warnings):
                    self.common_value(target, value, data)
            except (InvalidValue, ValueError) as exc:
                errors[self.header[i]] = str(exc)
        self.finish(data, errors, later)
        return data, errors, warnings

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        """Put one of the type's own targets into ``data``; False when ``target`` is not one of them."""
        return False

    def finish(self, data: dict, errors: dict, later: dict[str, tuple[int, str]]) -> None:
        """What needs the whole row (``later``: the later_targets found, with their column)."""

    @staticmethod
    def split_full_name(data: dict, later: dict) -> None:
        """A "Full name" column fills first and last name, unless the file has those columns too."""
        if "full_name" in later and "first_name" not in data and "last_name" not in data:
            first, _, last = later["full_name"][1].partition(" ")
            data["first_name"], data["last_name"] = first, last.strip()

    def column(self, later: dict, target: str) -> str:
        return self.header[later[target][0]]

    def common_value(self, target: str, value: str, data: dict) -> bool:
        """Targets every record type shares; False when ``target`` is not one of them."""
        if target == "owner":
            data["owner_id"] = self.owner(value)
        elif target == "lifecycle_stage":
            data[target] = choice(value, LifecycleStage)
        elif target == "tags":
            data[target] = [t.strip() for t in value.replace(";", ",").split(",") if t.strip()]
        elif target.startswith("cf_"):
            definition = self.custom_defs.get(target[3:])
            converted = value if definition is None else cells.cell_value(definition, value, self)
            data.setdefault("custom_fields", {})[target[3:]] = converted
        else:
            return False
        return True

    def for_update(self, record, data: dict) -> dict:
        """An update fills in and replaces fields, never removes: tags are added to the record's own."""
        data = dict(data)
        if "tags" in data:
            data["tags"] = sorted({t.name for t in record.tags.all()} | set(data["tags"]))
        return data

    def company(self, name: str, warnings: list[str]) -> int | None:
        """The company a cell names (case and accents aside, or by domain), created with create_companies."""
        return self.company_links.company(name, warnings)

    def owner(self, who: str) -> int:
        key = who.lower()
        if key not in self.owners:
            found = get_user_model().objects.filter(Q(username__iexact=who) | Q(email__iexact=who), is_active=True)
            self._remember(self.owners, key, found.values_list("pk", flat=True).first())
        if self.owners[key] is None:
            raise ValueError(f"Unknown owner {who!r} (give a username or an email).")
        return self.owners[key]

    def linked_record(self, target: str, text: str) -> int:
        """The id of the ``target`` record a lookup cell names (its id, or its name), once per distinct cell."""
        key = (target, text.lower())
        if key not in self.linked:
            found = self.owner(text) if target == "user" else cells.find_linked(self.actor, target, text)
            self._remember(self.linked, key, found)
        if isinstance(self.linked[key], str):
            raise ValueError(self.linked[key])
        return self.linked[key]

    @staticmethod
    def _remember(cache: dict, key, value) -> None:
        if len(cache) >= CACHE_LIMIT:  # bounded memory on files with endless distinct names
            cache.clear()
        cache[key] = value


def linked(outcome: Outcome, data: dict) -> Outcome:
    """Mark a written row that links its record to a company."""
    outcome.linked = outcome.action in (RowAction.CREATE, RowAction.UPDATE) and bool(data.get("company_id"))
    return outcome


def website(value: str) -> str:
    """Spreadsheets often hold "acme.com": a URL without a scheme gets https://."""
    return value if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.I) else f"https://{value}"


def money(value: str) -> decimal.Decimal:
    """1234.50, 1,234.50 or $1 234: separators and a currency sign are accepted."""
    cleaned = re.sub(r"[\s,$€£]", "", value)
    try:
        amount = decimal.Decimal(cleaned)
    except decimal.InvalidOperation:
        raise ValueError(f"{value!r} is not an amount.") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{value!r} is not an amount.")
    return amount


def choice(value: str, choices) -> str:
    for stored, label in choices.choices:
        if value.lower() in (stored.lower(), str(label).lower()):
            return stored
    raise ValueError(f"{value!r} is not one of: {', '.join(choices.values)}.")


def boolean(value: str) -> bool:
    low = value.lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise ValueError(f"{value!r} is not yes or no.")


def previous(record, data: dict) -> dict:
    """The values an update replaces, in the same form, so undo can send them back."""
    before = {}
    for key in data:
        if key == "custom_fields":
            before[key] = {k: (record.custom_fields or {}).get(k) for k in data[key]}
        elif key == "tags":
            before[key] = sorted(t.name for t in record.tags.all())
        else:
            before[key] = getattr(record, key)
    if "email_opt_in" in before:
        before["email_opt_in_at"] = record.email_opt_in_at
    return before


# ---- running and undoing ------------------------------------------------------------------------
