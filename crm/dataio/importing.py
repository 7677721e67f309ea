"""Importing records from CSV or XLSX: a streamed pipeline of file -> rows -> record data -> services.

Rows are read and written in chunks of CHUNK_ROWS, each chunk in its own transaction, so memory stays
bounded and a long import does not hold the database's write lock for its whole run. Contacts are
created through the bulk service (contact_create_many: the same validation, change log, search index
and events as one at a time, in a few statements per chunk); other rows go through the record type's
create/update service one by one. A row that fails validation is recorded and skipped. A problem with
the file itself (a malformed line, a 10 MB cell) or a crash part way reverts the chunks already
written (the same code as undo), so a failed batch never leaves half a batch behind.
A dry run is the same run with every chunk rolled back: its counts and messages are what a real run does.
Rows are matched to existing records by email (contacts), domain (companies), a custom field used as
an external id, or not at all (``match_on``); duplicates inside the file are reported.
"""

from __future__ import annotations

import decimal
import logging
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from crm.access.policy import policy_for
from crm.core import rawinsert
from crm.core.errors import BadRequest, NotFound, PermissionDenied, ServiceError, ValidationFailed
from crm.core.normalize import InvalidValue, normalize_domain, normalize_email, normalize_phone
from crm.dataio import csvread, mapping, xlsxread
from crm.dataio.exporting import inert
from crm.dataio.models import BatchStatus, ImportBatch, ImportRow, RowAction
from crm.records.models import Company, CompanyDomain, Contact, ContactEmail, LifecycleStage
from crm.records.models.companies import CompanySize
from crm.records.services import bulk, common
from crm.records.services.companies import company_create, company_create_many, company_delete, company_update
from crm.records.services.contacts import contact_create, contact_create_many, contact_delete, contact_update

log = logging.getLogger("crm.dataio")

CHUNK_ROWS = 1000  # rows read, written and committed together
SAVE_EVERY = 1000  # row results read back in batches of this many (undo, error report)
TEXT_FIELDS = ("first_name", "last_name", "title", "street", "city", "region", "postal_code", "country", "source")
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


class Importer:
    """State of one run: the mapping, lookups cached across rows, match keys already seen in the file.
    A subclass per record type says how a row becomes service data and how it is matched."""

    model: type
    key_name = ""  # the field rows are matched on by default, for messages
    create = update = delete = None  # the record type's services (staticmethods in subclasses)
    create_many = None  # a bulk create service, when the record type has one (staticmethod)
    key_index = None  # (model, key column, record id column): where rows are matched on key_name

    def __init__(self, actor, header: list[str], columns: dict[str, str], update_existing: bool, match_on: str = ""):
        self.actor, self.header, self.update_existing = actor, header, update_existing
        self.targets = [(i, columns.get(h, "")) for i, h in enumerate(header)]
        self.match_on = match_on or self.key_name or "none"
        self.seen: dict[int, int] = {}  # hash of a match key -> line of its first row (bounded memory)
        self.companies: dict[str, int | None] = {}
        self.owners: dict[str, int | None] = {}
        # Matching looks at every record the user sees; updating one needs "change" (checked up front).
        self.records = self.model.objects.restrict(actor)

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
                pk = self.records.filter(**{field: key}).order_by("pk").values_list("pk", flat=True).first()
                if pk is not None:
                    found[key] = pk
            return found
        if self.key_index is None or self.match_on != self.key_name:
            return {}
        model, key_field, id_field = self.key_index
        return self.visible_matches(model.objects.filter(**{f"{key_field}__in": keys}).values_list(key_field, id_field))

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
            return self.write_new(data, warnings)
        return self.write_match(pk, data, warnings)

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
        return out

    def prime(self, chunk: list[tuple[int, list[str]]]) -> None:
        """Read what a chunk's rows look up (companies by name) in one query, before the rows."""
        columns = [i for i, target in self.targets if target == "company"]
        names = {cells[i].strip() for _, cells in chunk for i in columns if i < len(cells) and cells[i].strip()}
        wanted = {n.lower(): n for n in names if n.lower() not in self.companies}
        if not wanted:
            return
        if len(self.companies) + len(wanted) > CACHE_LIMIT:
            self.companies.clear()
        found = (
            Company.objects.restrict(self.actor)
            .annotate(lname=Lower("name"))
            .filter(lname__in=list(wanted))
            .order_by("-pk")  # the oldest company of a name wins, as in company()
            .values_list("lname", "pk")
        )
        # Names not found here are looked up one by one in company(): case folding differs between
        # Python and the databases outside ASCII.
        self.companies.update(dict(found))

    def write_new(self, data: dict, warnings: list) -> Outcome:
        try:
            return Outcome(RowAction.CREATE, self.create(actor=self.actor, data=data).obj.pk, warnings=warnings)
        except ServiceError as exc:
            return Outcome(RowAction.ERROR, errors=exc.fields or {"row": exc.message}, warnings=warnings)

    def write_match(self, pk: int, data: dict, warnings: list) -> Outcome:
        """Skip the matched record, or update it (with update_existing)."""
        if not self.update_existing:
            name = self.model._meta.verbose_name.capitalize()
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
            data.setdefault("custom_fields", {})[target[3:]] = value
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
        key = name.lower()
        if key not in self.companies:
            found = Company.objects.restrict(self.actor).filter(name__iexact=name).order_by("pk").first()
            self._remember(self.companies, key, found.pk if found else None)
        if self.companies[key] is None:
            warnings.append(f"No company named {name!r}; the contact is saved without one.")
        return self.companies[key]

    def owner(self, who: str) -> int:
        key = who.lower()
        if key not in self.owners:
            found = get_user_model().objects.filter(Q(username__iexact=who) | Q(email__iexact=who), is_active=True)
            self._remember(self.owners, key, found.values_list("pk", flat=True).first())
        if self.owners[key] is None:
            raise ValueError(f"Unknown owner {who!r} (give a username or an email).")
        return self.owners[key]

    @staticmethod
    def _remember(cache: dict, key, value) -> None:
        if len(cache) >= CACHE_LIMIT:  # bounded memory on files with endless distinct names
            cache.clear()
        cache[key] = value


class ContactImporter(Importer):
    """Contacts, matched by their first email."""

    model = Contact
    key_name = "email"
    create, update, delete = staticmethod(contact_create), staticmethod(contact_update), staticmethod(contact_delete)
    create_many = staticmethod(contact_create_many)
    key_index = (ContactEmail, "email", "contact_id")

    def key(self, data: dict) -> str | None:
        return data["emails"][0]["email"] if data.get("emails") else None

    text_targets = TEXT_FIELDS
    later_targets = ("full_name",)

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        if target in ("email", "email_2"):
            kind = "work" if target == "email" else "home"
            data.setdefault("emails", []).append({"email": normalize_email(value), "kind": kind})
        elif target in ("phone", "mobile"):
            kind = "work" if target == "phone" else "mobile"
            data.setdefault("phones", []).append({"number": normalize_phone(value), "kind": kind})
        elif target == "company":
            company_id = self.company(value, warnings)
            if company_id is not None:
                data["company_id"] = company_id
        elif target == "email_opt_in":
            data[target] = boolean(value)
        else:
            return False
        return True

    def finish(self, data: dict, errors: dict, later: dict) -> None:
        self.split_full_name(data, later)
        for key in ("emails", "phones"):
            if data.get(key):
                data[key][0]["primary"] = True

    def for_update(self, contact: Contact, data: dict) -> dict:
        """Emails stay (one of them matched); the file's phone becomes the primary."""
        data = super().for_update(contact, data)
        data.pop("emails", None)
        phones = data.pop("phones", None)
        if phones:
            data["phone"] = phones[0]["number"]
        return data


class CompanyImporter(Importer):
    """Companies, matched by domain (from the domain column, else the website's)."""

    model = Company
    key_name = "domain"
    create, update, delete = staticmethod(company_create), staticmethod(company_update), staticmethod(company_delete)
    create_many = staticmethod(company_create_many)
    key_index = (CompanyDomain, "domain", "company_id")

    def key(self, data: dict) -> str | None:
        return data.get("domain")

    text_targets = ("name", "industry", "street", "city", "region", "postal_code", "country")

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        if target == "website":
            data[target] = website(value)
        elif target == "domain":
            data[target] = normalize_domain(value)
        elif target == "phone":
            data[target] = normalize_phone(value)
        elif target == "size":
            data[target] = choice(value, CompanySize)
        elif target == "annual_revenue":
            data[target] = money(value)
        else:
            return False
        return True

    def finish(self, data: dict, errors: dict, later: dict) -> None:
        if "domain" not in data and data.get("website"):
            try:
                data["domain"] = normalize_domain(data["website"])
            except InvalidValue:
                pass  # the website is kept as given; the service validates it

    def for_update(self, company: Company, data: dict) -> dict:
        data = super().for_update(company, data)
        data.pop("domain", None)  # it matched: the company has it already
        return data


IMPORTERS = {"contacts": ContactImporter, "companies": CompanyImporter}


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


def open_table(binary):
    return xlsxread.open_xlsx(binary) if xlsxread.is_xlsx(binary) else csvread.open_csv(binary)


def columns_of(binary, object_type: str = "contacts") -> dict:
    """The file's header, the suggested mapping and every target, for the user to edit."""
    _spec(object_type)
    source = open_table(binary)
    targets = list(mapping.TARGETS[object_type]) + [f"cf_{k}" for k in mapping.custom_keys(object_type)]
    return {"header": source.header, "mapping": mapping.suggest(object_type, source.header), "targets": targets}


def run(
    binary,
    *,
    actor,
    object_type: str = "contacts",
    file_name: str = "",
    columns: dict | None = None,
    dry_run: bool = False,
    update_existing: bool = False,
    match_on: str = "",
    progress: Callable[[int, float | None], None] | None = None,
    batch: ImportBatch | None = None,
    before_finish: Callable[[ImportBatch], None] | None = None,
) -> ImportBatch:
    """Import (or dry-run) a CSV or XLSX file; returns the recorded batch. File problems raise FileError (400).

    ``batch``: a queued batch (a background import) to run into instead of recording a new one; its
    own settings (type, mapping, options) apply. ``progress(rows, fraction)`` is called per chunk.
    ``before_finish(batch)`` does the caller's clean-up before the final status (done, dry run or
    failed) is saved with it, so whoever polls the batch never sees it finished before it is."""
    if batch is not None:
        object_type, columns, update_existing = batch.object_type, batch.mapping, batch.update_existing
        match_on, file_name, dry_run = batch.match_on, batch.file_name, batch.dry_run
    spec, source, columns, match_on = check(
        binary,
        actor=actor,
        object_type=object_type,
        columns=columns,
        update_existing=update_existing,
        match_on=match_on,
    )
    fields = {
        "object_type": object_type,
        "file_name": file_name[:255],
        "encoding": source.encoding,
        "delimiter": source.delimiter,
        "header": source.header,
        "mapping": columns,
        "update_existing": update_existing,
        "match_on": match_on,
        "status": BatchStatus.DRY_RUN if dry_run else BatchStatus.RUNNING,
        "dry_run": dry_run,
        "size": csvread.size_of(binary),
        "processed": 0,
        "position": 0,
        "counts": {},
    }
    if batch is None:
        batch = ImportBatch.objects.create(created_by=actor, **fields)
    else:
        _claim(batch, actor, fields)
    importer = spec(actor, source.header, columns, update_existing, match_on)
    try:
        with _import_pragmas():
            counts = _process(batch, importer, source, dry_run, progress)
    except Exception as exc:
        _fail(batch, actor, exc, dry_run, before_finish)
        raise
    if before_finish:
        before_finish(batch)
    batch.counts = counts
    batch.status = BatchStatus.DRY_RUN if dry_run else BatchStatus.DONE
    batch.finished_at = timezone.now()
    batch.save()
    return batch


def check(binary, *, actor, object_type: str, columns: dict | None, update_existing: bool, match_on: str = ""):
    """What is checked before the first row, and by a background import before it is queued:
    permissions, a readable file with a header, the mapping, the match. Returns the importer class,
    the opened table, the mapping and the match to use."""
    spec = _spec(object_type)
    common.require(actor, spec.model, "add")
    if update_existing:
        common.require(actor, spec.model, "change")
    source = open_table(binary)
    columns = checked_mapping(object_type, source.header, columns)
    return spec, source, columns, checked_match_on(spec, columns, match_on)


def _spec(object_type: str) -> type[Importer]:
    if object_type not in IMPORTERS:
        raise BadRequest(f"Cannot import {object_type!r}.", fields={"type": ", ".join(IMPORTERS)})
    return IMPORTERS[object_type]


def checked_mapping(object_type: str, header: list[str], columns: dict | None) -> dict:
    """The user's mapping checked against the file, or the suggested one; at least one column mapped."""
    columns = (
        mapping.validate(object_type, header, columns) if columns is not None else mapping.suggest(object_type, header)
    )
    if not any(columns.values()):
        name = IMPORTERS[object_type].model._meta.verbose_name
        raise ValidationFailed({"mapping": f"No column matches a {name} field; give a mapping."})
    return columns


def checked_match_on(spec: type[Importer], columns: dict, match_on: str) -> str:
    """What rows are matched on: the type's own key, none, or a mapped custom field (an external id)."""
    match_on = (match_on or "").strip()
    allowed = {"none", *([spec.key_name] if spec.key_name else [])}
    mapped = {t for t in columns.values() if t}
    if not match_on or match_on in allowed:
        return match_on
    if match_on.startswith("cf_"):
        if match_on not in mapped:
            raise ValidationFailed(
                {"match_on": f"No column is mapped to {match_on}; map the external id column to it."}
            )
        return match_on
    choices = ", ".join(sorted(allowed) + ["cf_<custom field key>"])
    raise ValidationFailed({"match_on": f"Unknown match {match_on!r}; one of: {choices}."})


def _claim(batch: ImportBatch, actor, fields: dict) -> None:
    """Start a queued batch. A batch found running was cut short (its worker died): what it wrote is
    reverted first, then it starts again from the top."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        unfinished_check = locked.dry_run and locked.status == BatchStatus.DRY_RUN and locked.finished_at is None
        if locked.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING) and not unfinished_check:
            raise BadRequest(f"Import {locked.pk} is {locked.get_status_display().lower()}; it cannot run again.")
        was_running = locked.status == BatchStatus.RUNNING
    if was_running:
        _revert(batch, actor, force=True)
        batch.rows.all().delete()  # the new run records every row again
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)
    for name, value in fields.items():
        setattr(batch, name, value)


def _fail(batch: ImportBatch, actor, exc: Exception, dry_run: bool, before_finish=None) -> None:
    """A run that stopped part way: revert the chunks already committed, record why."""
    if not dry_run:
        try:
            _revert(batch, actor, force=True)  # taking back its own half-written batch, not a user's delete
        except Exception:  # the batch stays "failed" with its rows: undo can be tried again
            log.exception("Reverting failed import %s", batch.pk)
    message = exc.message if isinstance(exc, ServiceError) else f"The import stopped: {exc.__class__.__name__}."
    if before_finish:
        before_finish(batch)
    batch.status, batch.message, batch.finished_at = BatchStatus.FAILED, message, timezone.now()
    batch.save()


# While an import runs on SQLite: reads go through the bounded page cache instead of mapping the file
# (mmap_size 0: an import touches pages all over a growing file, so its resident memory would grow with
# the database), and the WAL is copied back into the database every 64 MB instead of every 4 MB (each
# copy syncs the file; a chunk of 1,000 contacts dirties more than 4 MB, so the default copied and
# synced after every chunk: about 20 µs a row at 100k rows).
IMPORT_PRAGMAS = {"mmap_size": 0, "wal_autocheckpoint": 16384}


@contextmanager
def _import_pragmas():
    if connection.vendor != "sqlite":
        yield
        return
    before = {}
    with connection.cursor() as cur:
        for name, value in IMPORT_PRAGMAS.items():
            cur.execute(f"PRAGMA {name}")
            row = cur.fetchone()  # none for mmap_size on an in-memory database
            if row is not None:
                before[name] = int(row[0])
                cur.execute(f"PRAGMA {name}={value}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            for name, value in before.items():
                cur.execute(f"PRAGMA {name}={value}")


def _process(batch, importer: Importer, source, dry_run: bool, progress) -> dict:
    """Read, write and commit the file chunk by chunk; keep the batch's progress current."""
    counts = {a: 0 for a in RowAction.values}
    rows = iter(source.rows)
    read = 0
    while chunk := list(islice(rows, CHUNK_ROWS)):  # a malformed line raises FileError here
        with transaction.atomic():
            outcomes = importer.outcomes(chunk)
            results = [_values(batch, line, cells, o) for (line, cells), o in zip(chunk, outcomes, strict=True)]
            if dry_run:
                transaction.set_rollback(True)
            else:
                rawinsert.insert(ImportRow, ROW_COLUMNS, results)
        if dry_run:  # the rows with problems are kept (preview, error report); nothing else is
            with transaction.atomic():
                rawinsert.insert(ImportRow, ROW_COLUMNS, [r for r in results if r[4] or r[5]])
        for outcome in outcomes:
            counts[outcome.action] += 1
        read += len(chunk)
        fraction = source.fraction()
        position = int(fraction * batch.size) if fraction is not None else 0
        batch.processed, batch.position, batch.counts = read, position, counts
        ImportBatch.objects.filter(pk=batch.pk).update(processed=read, position=position, counts=counts)
        if progress:
            progress(read, fraction)
    if not read:
        raise csvread.FileError("The file has a header but no rows.")
    return counts


ROW_COLUMNS = ("batch_id", "number", "action", "object_id", "errors", "warnings", "values", "before")


def _values(batch, line: int, cells: list[str], outcome: Outcome) -> tuple:
    """An ImportRow's values; the original cells are kept for rows with problems (the error report)."""
    problem = bool(outcome.errors) or outcome.action == RowAction.SKIP
    return (
        batch.pk,
        line,
        outcome.action,
        outcome.object_id,
        outcome.errors,
        outcome.warnings,
        cells if problem else None,
        _jsonable(outcome.before),
    )


def _jsonable(before: dict | None) -> dict | None:
    if before is None:
        return None
    return {k: _plain(v) for k, v in before.items()}


def _plain(value):
    """A value as JSON holds it (undo sends it back through the service, which parses it again)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def undo(batch: ImportBatch, *, actor) -> dict:
    """Remove what the batch created and restore what it updated, newest rows first, a chunk per
    transaction (an undo of a million rows does not hold the write lock for its whole run)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != BatchStatus.DONE:
            state = batch.get_status_display().lower()
            raise BadRequest(f"Only a finished import can be undone; this one is {state}.")
        if batch.created_by_id != actor.pk and not policy_for(actor).is_admin:
            raise PermissionDenied("Only the user who ran an import, or an admin, may undo it.")
        model = IMPORTERS[batch.object_type].model
        if batch.counts.get("create") and not policy_for(actor).allows(model.object_type, "delete"):
            names = model._meta.verbose_name_plural
            raise PermissionDenied(
                f"Undoing this import removes the {batch.counts['create']} {names} it created, and you may not "
                f"delete {names}. Ask a manager or an admin to undo it."
            )
        batch.status = BatchStatus.UNDONE  # claimed: a second undo at the same time is refused
        batch.save(update_fields=["status"])
    done = _revert(batch, actor)
    batch.undone_at = timezone.now()
    batch.save(update_fields=["undone_at"])
    return done


def _revert(batch: ImportBatch, actor, *, force: bool = False) -> dict:
    """Undo the batch's written rows, newest first, a chunk per transaction. Safe to run again after
    an interruption: a record already removed counts as gone, a restore writes the same values."""
    spec = IMPORTERS[batch.object_type]
    done = {"deleted": 0, "restored": 0, "gone": 0}
    rows = batch.rows.filter(action__in=[RowAction.CREATE, RowAction.UPDATE]).order_by("-number")
    last = None
    while chunk := list(
        (rows.filter(number__lt=last) if last else rows).values_list("number", "action", "object_id", "before")[
            :CHUNK_ROWS
        ]
    ):
        last = chunk[-1][0]
        with transaction.atomic():
            created = [oid for _, action, oid, _ in chunk if action == RowAction.CREATE]
            if created:
                deleted = bulk.delete_many(spec.model, created, actor=actor, force=force)
                done["deleted"] += deleted
                done["gone"] += len(created) - deleted  # deleted since the import: nothing to undo
            for _, action, oid, before in chunk:
                if action == RowAction.UPDATE:
                    record = spec.model.objects.filter(pk=oid).first()
                    if record is None:
                        done["gone"] += 1
                    else:
                        spec.update(record, actor=actor, data=before)
                        done["restored"] += 1
    return done


def batches_for(user):
    """The import batches ``user`` may see: their own; an admin sees all."""
    qs = ImportBatch.objects.all()
    return qs if policy_for(user).is_admin else qs.filter(created_by=user)


def batch_for(user, pk: int) -> ImportBatch:
    batch = batches_for(user).select_related("created_by").filter(pk=pk).first()
    if batch is None:
        raise NotFound(f"No import batch with id {pk}.")
    return batch


def summary(batch: ImportBatch, rows: int = 100) -> dict:
    problems = batch.rows.exclude(errors={}, warnings=[]).order_by("number")[:rows]
    return {
        "id": batch.pk,
        "object_type": batch.object_type,
        "status": batch.status,
        "file_name": batch.file_name,
        "encoding": batch.encoding,
        "delimiter": batch.delimiter,
        "mapping": batch.mapping,
        "match_on": batch.match_on,
        "update_existing": batch.update_existing,
        "counts": batch.counts,
        "message": batch.message,
        "rows": [
            {"line": r.number, "action": r.action, "id": r.object_id, "errors": r.errors, "warnings": r.warnings}
            for r in problems
        ],
    }


def error_report(batch: ImportBatch):
    """The file's header plus line, action and problems, then each problem row's original cells."""
    yield ["line", "action", "problems", *batch.header]
    rows = batch.rows.exclude(errors={}, warnings=[]).order_by("number")
    for row in rows.iterator(chunk_size=SAVE_EVERY):
        problems = [f"{k}: {v}" for k, v in row.errors.items()] + list(row.warnings)
        cells = [inert(c) for c in (row.values or [])]
        yield [str(row.number), row.action, inert("; ".join(problems)), *cells]
