"""`crm import TYPE FILE [--mapping FILE|NAME] [--save-mapping NAME] [--dry-run] [--update-existing]
[--match-on FIELD] [--create-companies] [--user USERNAME]` (TYPE: the slug of any importable record type:
contacts, companies, leads, deals, activities, and custom object types) and
`crm import undo BATCH_ID [--user USERNAME]`."""

import json
import os

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from crm.core.errors import NotFound, ServiceError
from crm.dataio import batches, importing, saved_mappings, vcard
from crm.dataio.importers import importable
from crm.dataio.management.commands.export import _user
from crm.dataio.models import ImportBatch


class Command(BaseCommand):
    help = "Import a CSV or XLSX of records (dry run first, if you like), or undo an import."

    def add_arguments(self, parser):
        # Checked in handle(), against the registry as it is then: custom types come and go at run time.
        parser.add_argument("object_type", help="the slug of the record type (contacts, deals, ...), or undo")
        parser.add_argument("target", help="the CSV or XLSX file, or the batch id to undo")
        parser.add_argument(
            "--mapping", help="JSON file {column header: field}; when no such file exists, a saved mapping's name"
        )
        parser.add_argument("--save-mapping", metavar="NAME", help="save the mapping used under this name")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help="update matched records (contacts by email, companies by domain, leads by email)",
        )
        parser.add_argument(
            "--create-companies",
            action="store_true",
            help="contacts: create the companies named in the company column that match none",
        )
        parser.add_argument("--match-on", default="", help="email, domain, none, or cf_<key> (an external id)")
        parser.add_argument("--user", help="import as this user (default: the first active superuser)")

    def handle(self, *args, object_type, target, mapping, save_mapping, dry_run, update_existing, user, **options):
        match_on, create_companies = options["match_on"], options["create_companies"]
        actor = _user(user)
        try:
            if object_type == "undo":
                return self._undo(target, actor)
            _check_type(object_type)
            with open(target, "rb") as binary:
                if vcard.sniff(binary):  # by content: a .txt or a .csv of vCards is still vCards
                    return self._vcards(
                        binary, object_type, actor, dry_run, mapping or update_existing or match_on or create_companies
                    )
            columns = _mapping(mapping, object_type, actor)
            with open(target, "rb") as binary, self._progress() as progress:
                callback = ImportProgress(progress)
                batch = importing.run(
                    binary,
                    actor=actor,
                    object_type=object_type,
                    file_name=target,
                    columns=columns,
                    dry_run=dry_run,
                    update_existing=update_existing,
                    match_on=match_on,
                    create_companies=create_companies,
                    progress=callback,
                )
            self._report(batch, callback)
            if save_mapping:
                saved, created = saved_mappings.save(
                    actor=actor, object_type=object_type, name=save_mapping, columns=batch.mapping
                )
                self.stdout.write(f"{'Saved' if created else 'Replaced'} mapping {saved.name!r} for {object_type}.")
        except OSError as exc:
            raise CommandError(f"Cannot read {target}: {exc.strerror}.") from None
        except ServiceError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items() if v != exc.message)
            raise CommandError(f"{exc.message} {detail}".strip()) from None

    def _progress(self) -> Progress:
        # On a terminal a live bar; in a pipe or a test, nothing (the summary follows anyway).
        console = Console(file=self.stderr._out, stderr=True)
        return Progress(
            TextColumn("Importing"),
            BarColumn(),
            PercentColumn(),
            RowsColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )

    def _vcards(self, binary, object_type: str, actor, dry_run: bool, mapped) -> None:
        """A vCard file: one contact per card, all or none (as the API's and the web app's vCard import)."""
        if object_type != "contacts":
            raise CommandError(f"This is a vCard file: it holds contacts, not {object_type}. Use: crm import contacts.")
        if mapped:
            raise CommandError(
                "--mapping, --update-existing, --match-on and --create-companies are for CSV and XLSX files, "
                "not vCards."
            )
        with transaction.atomic():
            result = vcard.import_cards(binary.read(vcard.MAX_BYTES + 1), actor=actor)
            transaction.set_rollback(dry_run)
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(f"{verb} {len(result['created'])} contacts from vCards.")
        for card, warnings in result["warnings"].items():
            for warning in warnings:
                self.stdout.write(f"  {card}: {warning}")

    def _report(self, batch: ImportBatch, callback: "ImportProgress") -> None:
        c = batch.counts
        verb = "Would import" if batch.status == "dry_run" else "Imported"
        self.stdout.write(
            f"{verb} batch {batch.pk}: {c['create']} to create, {c['update']} to update, "
            f"{c['skip']} skipped, {c['error']} with errors."
        )
        if c.get("companies_created") or c.get("companies_linked"):
            will = "will be" if batch.status == "dry_run" else "were"
            self.stdout.write(
                f"{c.get('companies_created', 0)} companies {will} created; "
                f"{c.get('companies_linked', 0)} {batch.object_type} linked to a company."
            )
        for row in batches.summary(batch, rows=50)["rows"]:
            problems = [f"{k}: {v}" for k, v in row["errors"].items()] + row["warnings"]
            self.stdout.write(f"  line {row['line']} ({row['action']}): {'; '.join(problems)}")
        if callback.rate is not None:
            self.stdout.write(f"{callback.rows:,} rows in {callback.elapsed:.1f} s ({callback.rate:,.0f} rows/s).")

    def _undo(self, target: str, actor) -> None:
        batch = ImportBatch.objects.filter(pk=int(target) if target.isdigit() else 0).first()
        if batch is None:
            raise CommandError(f"No import batch {target}.")
        done = importing.undo(batch, actor=actor)
        self.stdout.write(
            f"Undid batch {batch.pk}: {done['deleted']} records removed, {done['restored']} restored, "
            f"{done['gone']} already gone."
        )


class ImportProgress:
    """The callback importing.run calls with the rows read so far and the fraction of the file read
    (None when unknown: the bar then pulses instead of filling)."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = progress.add_task("import", total=None, rows=0)
        self.rows = 0

    def __call__(self, rows: int, fraction: float | None = None) -> None:
        self.rows = rows
        # The rate as of this call: computed at each redraw it would sink between the (chunked) calls.
        fields = {"rows": rows, "rate": self.rate}
        if fraction is None:
            self.progress.update(self.task, **fields)
        else:
            self.progress.update(self.task, total=1.0, completed=min(max(fraction, 0.0), 1.0), **fields)

    @property
    def elapsed(self) -> float:
        return self.progress.tasks[0].elapsed or 0.0

    @property
    def rate(self) -> float | None:
        return self.rows / self.elapsed if self.rows and self.elapsed > 0 else None


class PercentColumn(ProgressColumn):
    def render(self, task) -> Text:
        return Text("" if task.total is None else f"{task.percentage:>3.0f}%")


class RowsColumn(ProgressColumn):
    """Rows read and rows per second (rich's speed column would count the bar's unit, a fraction of the file)."""

    def render(self, task) -> Text:
        rows, rate = task.fields.get("rows", 0), task.fields.get("rate")
        return Text(f"{rows:,} rows  {'-' if rate is None else f'{rate:,.0f}'} rows/s")


def _check_type(object_type: str) -> None:
    slugs = importable()
    if object_type not in slugs:
        raise CommandError(f"Cannot import {object_type!r}: give one of {', '.join(slugs)}, or undo.")


def _mapping(value: str | None, object_type: str, actor) -> dict | None:
    """--mapping: a JSON file when one exists at that path, else the name of a saved mapping."""
    if not value:
        return None
    if os.path.isfile(value):
        try:
            with open(value, encoding="utf-8") as f:
                columns = json.load(f)
        except (OSError, ValueError) as exc:
            raise CommandError(f"--mapping {value}: {exc}") from None
        if not isinstance(columns, dict):
            raise CommandError(f"--mapping {value}: the file must hold a JSON object {{column header: field}}.")
        return columns
    try:
        return saved_mappings.get(actor=actor, object_type=object_type, name=value).mapping
    except NotFound:
        raise CommandError(
            f"--mapping {value}: no such file, and no saved mapping of that name for {object_type}."
        ) from None
