"""`crm backup FILE`: a consistent copy of the database while the app keeps running."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from crm.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database to FILE (SQLite online backup, or pg_dump custom format on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            path = backup(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        size = path.stat().st_size
        self.stdout.write(f"Backed up the {connection.vendor} database to {path} ({size:,} bytes).")
