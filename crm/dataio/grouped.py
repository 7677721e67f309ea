"""Imports whose rows are grouped into one record each (crm/orders/importer.py: one row per order line;
crm/invoices/importer.py: one row per payment), the record's own columns repeated on each of its rows.

Rows are grouped by the record's external id (else its number); a group is one record, written all or
nothing in its own savepoint: a row whose record columns are missing or differ from the group's first
row, or any bad cell or item, fails every row of the group. Each written row records its record's id:
counts are rows; undo deletes a record created once, and restores an updated one from its first row
(which holds the record's previous fields and items). A group split across two 1,000-row chunks is
written as two steps: the second adds its items to the record the first wrote.

A subclass names its record columns (``head_columns``), parses a row (``parse``: record columns, item,
errors by column), turns a group's items into the service's input (``items``), writes the group
(``write``) and spreads a service's errors over the rows (``spread``); it may write the chunk's new
records together (``write_many``: the order import's bulk path)."""

from __future__ import annotations

from django.db import transaction

from crm.core.errors import ServiceError, ValidationFailed
from crm.dataio.importers.base import Importer, Outcome
from crm.dataio.models import RowAction

DEFAULT_SOURCE = "import"


class Exists(ServiceError):
    """The group's record exists and the import does not update: its rows are skipped (rolled back)."""

    def __init__(self, pk: int, message: str):
        super().__init__(message)
        self.pk = pk


class GroupedImporter(Importer):
    noun = "record"  # "order": the messages name it
    key_hint = "map an id or number column"  # what to do when no row names its record
    head_columns: tuple[str, ...] = ()
    customer_columns: dict[str, str] = {}  # column -> the customer matcher's key
    match_customer = None  # match_customer(actor, customer, created) -> {company_id, contact_id}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_of = {target: self.header[i] for i, target in self.targets if target}
        self.written: dict[str, int] = {}  # group key -> record id this run wrote (a group split over chunks)
        self.created: list[tuple[str, int]] = []  # customers created in this chunk (undo removes them)

    def take_created(self) -> list[tuple[str, int]]:
        """The customers the chunk created, recorded with the batch (crm/dataio/importing.py)."""
        created, self.created = self.created, []
        return created

    def outcomes(self, chunk: list[tuple[int, list[str]]]) -> list[Outcome]:
        self.created = []  # a dry run's previous chunk was rolled back, with what it created
        self.prime(chunk)
        out: list[Outcome | None] = [None] * len(chunk)
        groups: dict[str, list] = {}
        for j, (line_no, cells) in enumerate(chunk):
            if len(cells) != len(self.header):
                out[j] = Outcome(
                    RowAction.ERROR, errors={"row": f"{len(cells)} cells; the header has {len(self.header)}."}
                )
                continue
            head, item, errors = self.parse(cells)
            key = head.get("external_id") or head.get("number")
            if not key:
                what = " or ".join(self.column_of[t] for t in ("external_id", "number") if t in self.column_of)
                out[j] = Outcome(RowAction.ERROR, errors={"row": f"No {self.noun} key ({what or self.key_hint})."})
                continue
            groups.setdefault(f"{head.get('external_source', '')}\x00{key}", []).append(
                (j, line_no, head, item, errors)
            )
        pending = []
        for key, rows in groups.items():
            errors = self._group_errors(rows)
            if errors:
                self._place(out, self._failed(rows, errors))
            else:
                pending.append((key, rows))
        written = self.write_many(pending)
        for key, rows in pending:
            self._place(out, written[key] if key in written else self._group(key, rows))
        return out

    @staticmethod
    def _place(out: list, outcomes: list[tuple[int, Outcome]]) -> None:
        for j, outcome in outcomes:
            out[j] = outcome

    def created_outcomes(self, key: str, rows, pk: int) -> list[tuple[int, Outcome]]:
        """The rows of a group whose record was created (by ``write`` or ``write_many``)."""
        self.written[key] = pk
        return [(j, Outcome(RowAction.CREATE, pk, warnings=[])) for j, *_ in rows]

    def _group(self, key: str, rows: list) -> list[tuple[int, Outcome]]:
        items = self.items(key, rows)
        created: list[tuple[str, int]] = []
        try:
            with transaction.atomic():
                action, record, before = self.write(key, rows[0][2], items, created)
        except Exists as exc:
            return [(j, Outcome(RowAction.SKIP, exc.pk, warnings=[exc.message])) for j, *_ in rows]
        except ServiceError as exc:
            return self._failed(rows, self.spread(rows, exc))
        self.created += created
        self.written[key] = record.pk
        return [
            (j, Outcome(action, record.pk, before=before if n == 0 else None, warnings=[]))
            for n, (j, *_) in enumerate(rows)
        ]

    def _group_errors(self, rows) -> dict[int, dict]:
        """Per row of the group: its own cell errors, and record columns missing or unlike the first row's."""
        errors: dict[int, dict] = {}
        first_line, first_head = rows[0][1], rows[0][2]
        for n, (_, _, head, _, cell_errors) in enumerate(rows):
            row = dict(cell_errors)
            if n:
                for target in self.head_columns:
                    if target in first_head and target not in head:
                        row[self.column_of[target]] = (
                            f"The {self.noun}'s columns are missing (line {first_line} has them)."
                        )
                    elif head.get(target) != first_head.get(target):
                        row[self.column_of[target]] = f"Differs from line {first_line} of the same {self.noun}."
            if row:
                errors[n] = row
        return errors

    def _failed(self, rows, errors: dict[int, dict]) -> list[tuple[int, Outcome]]:
        bad = ", ".join(str(rows[n][1]) for n in sorted(errors))
        message = {self.noun: f"Not imported: line {bad} of this {self.noun} has errors."}
        return [(j, Outcome(RowAction.ERROR, errors=errors.get(n) or message)) for n, (j, *_) in enumerate(rows)]

    def keyed(self, head: dict, fields: tuple[str, ...], created: list) -> dict:
        """The service's data of a group's record columns: its ``fields``, the sender's key, the customer
        matched or created (``created`` collects what was created)."""
        data = self.unmatched(head, fields)
        customer = data.pop("customer")
        data.update({k: v for k, v in self.match_customer(self.actor, customer, created).items() if v is not None})
        return data

    def unmatched(self, head: dict, fields: tuple[str, ...]) -> dict:
        """keyed's data with the customer's columns as ``customer``, for a bulk service to match."""
        data = {t: head[t] for t in fields if t in head}
        if head.get("external_id"):
            data["external_source"] = head.get("external_source") or DEFAULT_SOURCE
            data["external_id"] = head["external_id"]
        customer = {self.customer_columns[t]: head[t] for t in self.customer_columns if t in head}
        if not customer:
            raise ValidationFailed({"row": "Name the customer: an email, a company name or a company domain."})
        return {**data, "customer": customer}

    def existing(self, key: str, data: dict):
        """The record the group updates (locked): by the sender's key, the one this run wrote, or the number."""
        records = self.model.objects.restrict(self.actor, "view").select_for_update()
        if data.get("external_id"):
            return records.filter(external_source=data["external_source"], external_id=data["external_id"]).first()
        if self.written.get(key):
            return records.filter(pk=self.written[key]).first()
        return records.filter(number=data["number"]).order_by("pk").first() if data.get("number") else None

    def refuse_update(self, existing) -> None:
        if not self.update_existing:
            raise Exists(existing.pk, f"{existing} exists already; not updated (allow updates to update it).")

    # -- the subclass's part ---------------------------------------------------------------------

    def parse(self, cells: list[str]) -> tuple[dict, dict, dict]:
        raise NotImplementedError

    def items(self, key: str, rows: list) -> list:
        return [item for _, _, _, item, _ in rows]

    def write(self, key: str, head: dict, items: list, created: list):
        raise NotImplementedError

    def write_many(self, groups: list[tuple[str, list]]) -> dict[str, list[tuple[int, Outcome]]]:
        """A bulk path for the chunk's checked groups (key, rows): {key: outcomes} of the groups it
        wrote or failed; the others go through ``write`` one by one. None here."""
        return {}

    def spread(self, rows, exc: ServiceError) -> dict[int, dict]:
        raise NotImplementedError
