"""Importing contacts and companies from CSV or XLSX: a streamed pipeline of file -> rows -> record
data -> services.

Every row goes through the record type's create/update service (validation, change log, search
index), inside one transaction for the batch: a row that fails validation is recorded and skipped,
and a problem with the file itself (a malformed line, a 10 MB cell) rolls the whole batch back.
A dry run is the same run, rolled back: its counts and messages are exactly what a real run does.
Rows are matched to existing records by email (contacts) or domain (companies); duplicates inside
the file are reported.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.access.policy import policy_for
from crm.core.errors import BadRequest, PermissionDenied, ServiceError, ValidationFailed
from crm.core.normalize import InvalidValue, normalize_domain, normalize_email, normalize_phone
from crm.dataio import csvread, mapping, xlsxread
from crm.dataio.exporting import inert
from crm.dataio.models import BatchStatus, ImportBatch, ImportRow, RowAction
from crm.records.models import Company, CompanyDomain, Contact, ContactEmail, LifecycleStage
from crm.records.models.companies import CompanySize
from crm.records.services import common
from crm.records.services.companies import company_create, company_delete, company_update
from crm.records.services.contacts import contact_create, contact_delete, contact_update

SAVE_EVERY = 1000  # row results written in batches of this many
KEPT_IN_DRY_RUN = 1000  # a dry run keeps this many rows with problems (the rest are only counted)
PROGRESS_EVERY = 500
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
    key_name = ""  # the field rows are matched on, for messages
    create = update = delete = None  # the record type's services (staticmethods in subclasses)

    def __init__(self, actor, header: list[str], columns: dict[str, str], update_existing: bool):
        self.actor, self.header, self.update_existing = actor, header, update_existing
        self.targets = [(i, columns.get(h, "")) for i, h in enumerate(header)]
        self.seen: dict[str, int] = {}  # match key -> line of its first row
        self.companies: dict[str, int | None] = {}
        self.owners: dict[str, int | None] = {}
        # Matching looks at every record the user sees; updating one needs "change" (checked up front).
        self.records = self.model.objects.restrict(actor)

    def outcome(self, line: int, cells: list[str]) -> Outcome:
        if len(cells) != len(self.header):
            return Outcome(RowAction.ERROR, errors={"row": f"{len(cells)} cells; the header has {len(self.header)}."})
        data, errors, warnings = self.to_data(cells)
        if errors:
            return Outcome(RowAction.ERROR, errors=errors, warnings=warnings)
        key = self.key(data)
        if key and key in self.seen:
            msg = f"Same {self.key_name} as line {self.seen[key]} of this file."
            return Outcome(RowAction.ERROR, errors={self.key_name: msg})
        if key:
            self.seen[key] = line
        match = self.match(key) if key else None
        try:
            if match is None:
                return Outcome(RowAction.CREATE, self.create(actor=self.actor, data=data).obj.pk, warnings=warnings)
            if not self.update_existing:
                name = self.model._meta.verbose_name.capitalize()
                warnings.append(f"{name} {match.pk} has this {self.key_name}; not updated.")
                return Outcome(RowAction.SKIP, match.pk, warnings=warnings)
            data = self.for_update(match, data)
            before = previous(match, data)
            self.update(match, actor=self.actor, data=data)
            return Outcome(RowAction.UPDATE, match.pk, warnings=warnings, before=before)
        except ServiceError as exc:
            return Outcome(RowAction.ERROR, errors=exc.fields or {"row": exc.message}, warnings=warnings)

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

    def key(self, data: dict) -> str | None:
        return data["emails"][0]["email"] if data.get("emails") else None

    def match(self, email: str) -> Contact | None:
        return self.records.filter(pk__in=ContactEmail.objects.filter(email=email).values("contact_id")).first()

    def to_data(self, cells: list[str]) -> tuple[dict, dict, list]:  # noqa: C901 - one branch per target
        data: dict = {}
        errors: dict[str, str] = {}
        warnings: list[str] = []
        emails, phones, full_name = [], [], ""
        for i, target in self.targets:
            value = cells[i].strip()
            if not target or not value:
                continue
            try:
                if target in TEXT_FIELDS:
                    data[target] = value
                elif target == "full_name":
                    full_name = value
                elif target in ("email", "email_2"):
                    emails.append({"email": normalize_email(value), "kind": "work" if target == "email" else "home"})
                elif target in ("phone", "mobile"):
                    phones.append({"number": normalize_phone(value), "kind": "work" if target == "phone" else "mobile"})
                elif target == "company":
                    data["company_id"] = self.company(value, warnings)
                elif target == "email_opt_in":
                    data[target] = boolean(value)
                else:
                    self.common_value(target, value, data)
            except (InvalidValue, ValueError) as exc:
                errors[self.header[i]] = str(exc)
        if full_name and "first_name" not in data and "last_name" not in data:
            first, _, last = full_name.partition(" ")
            data["first_name"], data["last_name"] = first, last.strip()
        if emails:
            emails[0]["primary"] = True
            data["emails"] = emails
        if phones:
            phones[0]["primary"] = True
            data["phones"] = phones
        if data.get("company_id") is None:
            data.pop("company_id", None)
        return data, errors, warnings

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

    def key(self, data: dict) -> str | None:
        return data.get("domain")

    def match(self, domain: str) -> Company | None:
        return self.records.filter(pk__in=CompanyDomain.objects.filter(domain=domain).values("company_id")).first()

    def to_data(self, cells: list[str]) -> tuple[dict, dict, list]:
        data: dict = {}
        errors: dict[str, str] = {}
        for i, target in self.targets:
            value = cells[i].strip()
            if not target or not value:
                continue
            try:
                if target == "website" and not re.match(r"^[a-z][a-z0-9+.-]*://", value, re.I):
                    data[target] = f"https://{value}"  # spreadsheets often hold "acme.com"
                elif target in COMPANY_TEXT:
                    data[target] = value
                elif target == "domain":
                    data[target] = normalize_domain(value)
                elif target == "phone":
                    data[target] = normalize_phone(value)
                elif target == "size":
                    data[target] = choice(value, CompanySize)
                elif target == "annual_revenue":
                    data[target] = money(value)
                else:
                    self.common_value(target, value, data)
            except (InvalidValue, ValueError) as exc:
                errors[self.header[i]] = str(exc)
        if "domain" not in data and data.get("website"):
            try:
                data["domain"] = normalize_domain(data["website"])
            except InvalidValue:
                pass  # the website is kept as given; the service validates it
        return data, errors, []

    def for_update(self, company: Company, data: dict) -> dict:
        data = super().for_update(company, data)
        data.pop("domain", None)  # it matched: the company has it already
        return data


IMPORTERS = {"contacts": ContactImporter, "companies": CompanyImporter}
COMPANY_TEXT = ("name", "industry", "website", "street", "city", "region", "postal_code", "country")


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
    if object_type not in IMPORTERS:
        raise BadRequest(f"Cannot import {object_type!r}.", fields={"type": ", ".join(IMPORTERS)})
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
    progress: Callable[[int], None] | None = None,
) -> ImportBatch:
    """Import (or dry-run) a CSV or XLSX file; returns the recorded batch. File problems raise FileError (400)."""
    if object_type not in IMPORTERS:
        raise BadRequest(f"Cannot import {object_type!r}.", fields={"type": ", ".join(IMPORTERS)})
    spec = IMPORTERS[object_type]
    common.require(actor, spec.model, "add")
    if update_existing:
        common.require(actor, spec.model, "change")
    source = open_table(binary)
    columns = (
        mapping.validate(object_type, source.header, columns)
        if columns is not None
        else mapping.suggest(object_type, source.header)
    )
    if not any(columns.values()):
        raise ValidationFailed(
            {"mapping": f"No column matches a {spec.model._meta.verbose_name} field; give a mapping."}
        )
    batch = ImportBatch.objects.create(
        object_type=object_type,
        file_name=file_name[:255],
        encoding=source.encoding,
        delimiter=source.delimiter,
        header=source.header,
        mapping=columns,
        update_existing=update_existing,
        status=BatchStatus.DRY_RUN if dry_run else BatchStatus.RUNNING,
        created_by=actor,
    )
    importer = spec(actor, source.header, columns, update_existing)
    try:
        counts, kept = _process(batch, importer, source, dry_run, progress)
    except csvread.FileError as exc:
        batch.status, batch.message, batch.finished_at = BatchStatus.FAILED, exc.message, timezone.now()
        batch.save()
        raise
    if dry_run:
        ImportRow.objects.bulk_create(kept)
    batch.counts = counts
    batch.status = BatchStatus.DRY_RUN if dry_run else BatchStatus.DONE
    batch.finished_at = timezone.now()
    batch.save()
    return batch


def _process(batch, importer: Importer, source, dry_run: bool, progress) -> tuple[dict, list]:
    counts = {a: 0 for a in RowAction.values}
    pending: list[ImportRow] = []
    kept: list[ImportRow] = []
    with transaction.atomic():
        for n, (line, cells) in enumerate(source.rows, start=1):
            outcome = importer.outcome(line, cells)
            counts[outcome.action] += 1
            row = _row(batch, line, cells, outcome)
            if dry_run:
                if (outcome.errors or outcome.warnings) and len(kept) < KEPT_IN_DRY_RUN:
                    kept.append(row)
            else:
                pending.append(row)
                if len(pending) >= SAVE_EVERY:
                    ImportRow.objects.bulk_create(pending)
                    pending = []
            if progress and n % PROGRESS_EVERY == 0:
                progress(n)
        if not sum(counts.values()):
            raise csvread.FileError("The file has a header but no rows.")
        ImportRow.objects.bulk_create(pending)
        if dry_run:
            transaction.set_rollback(True)
    return counts, kept


def _row(batch, line: int, cells: list[str], outcome: Outcome) -> ImportRow:
    problem = bool(outcome.errors) or outcome.action == RowAction.SKIP
    return ImportRow(
        batch=batch,
        number=line,
        action=outcome.action,
        object_id=outcome.object_id,
        errors=outcome.errors,
        warnings=outcome.warnings,
        values=cells if problem else None,
        before=_jsonable(outcome.before),
    )


def _jsonable(before: dict | None) -> dict | None:
    if before is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in before.items()}


@transaction.atomic
def undo(batch: ImportBatch, *, actor) -> dict:
    """Remove what the batch created and restore what it updated, newest row first."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != BatchStatus.DONE:
        raise BadRequest(f"Only a finished import can be undone; this one is {batch.get_status_display().lower()}.")
    if batch.created_by_id != actor.pk and not policy_for(actor).is_admin:
        raise PermissionDenied("Only the user who ran an import, or an admin, may undo it.")
    spec = IMPORTERS[batch.object_type]
    done = {"deleted": 0, "restored": 0, "gone": 0}
    rows = batch.rows.filter(action__in=[RowAction.CREATE, RowAction.UPDATE]).order_by("-number")
    for row in rows.iterator(chunk_size=SAVE_EVERY):
        record = spec.model.objects.filter(pk=row.object_id).first()
        if record is None:
            done["gone"] += 1  # deleted since the import: nothing to undo
        elif row.action == RowAction.CREATE:
            spec.delete(record, actor=actor)
            done["deleted"] += 1
        else:
            spec.update(record, actor=actor, data=row.before)
            done["restored"] += 1
    batch.status, batch.undone_at = BatchStatus.UNDONE, timezone.now()
    batch.save()
    return done


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
