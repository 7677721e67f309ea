"""`crm import contacts|companies FILE [--mapping FILE] [--dry-run] [--update-existing] [--user USERNAME]` and
`crm import undo BATCH_ID [--user USERNAME]`."""

import json

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from crm.core.errors import ServiceError
from crm.dataio import importing
from crm.dataio.management.commands.export import _user
from crm.dataio.models import ImportBatch


class Command(BaseCommand):
    help = "Import a CSV or XLSX of contacts or companies (dry run first, if you like), or undo an import."

    def add_arguments(self, parser):
        parser.add_argument("object_type", choices=["contacts", "companies", "undo"])
        parser.add_argument("target", help="the CSV file, or the batch id to undo")
        parser.add_argument("--mapping", help="JSON file: {column header: field}")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help="update records matched by email (contacts) or domain (companies)",
        )
        parser.add_argument("--user", help="import as this user (default: the first active superuser)")

    def handle(self, *args, object_type, target, mapping, dry_run, update_existing, user, **options):
        actor = _user(user)
        try:
            if object_type == "undo":
                return self._undo(target, actor)
            columns = _mapping(mapping)
            with open(target, "rb") as binary, self._progress() as progress:
                task = progress.add_task("Importing", total=None)
                batch = importing.run(
                    binary,
                    actor=actor,
                    object_type=object_type,
                    file_name=target,
                    columns=columns,
                    dry_run=dry_run,
                    update_existing=update_existing,
                    progress=lambda n: progress.update(task, completed=n, description=f"{n:,} rows"),
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {target}: {exc.strerror}.") from None
        except ServiceError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items() if v != exc.message)
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        self._report(batch)

    def _progress(self):
        # On a terminal a live counter; in a pipe or a test, nothing (the summary follows anyway).
        console = Console(file=self.stderr._out, stderr=True)
        return Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True)

    def _report(self, batch: ImportBatch) -> None:
        c = batch.counts
        verb = "Would import" if batch.status == "dry_run" else "Imported"
        self.stdout.write(
            f"{verb} batch {batch.pk}: {c['create']} to create, {c['update']} to update, "
            f"{c['skip']} skipped, {c['error']} with errors."
        )
        for row in importing.summary(batch, rows=50)["rows"]:
            problems = [f"{k}: {v}" for k, v in row["errors"].items()] + row["warnings"]
            self.stdout.write(f"  line {row['line']} ({row['action']}): {'; '.join(problems)}")

    def _undo(self, target: str, actor) -> None:
        batch = ImportBatch.objects.filter(pk=int(target) if target.isdigit() else 0).first()
        if batch is None:
            raise CommandError(f"No import batch {target}.")
        done = importing.undo(batch, actor=actor)
        self.stdout.write(
            f"Undid batch {batch.pk}: {done['deleted']} records removed, {done['restored']} restored, "
            f"{done['gone']} already gone."
        )


def _mapping(path: str | None) -> dict | None:
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise CommandError(f"--mapping {path}: {exc}") from None
