"""`crm restore FILE --yes`: replace the database's content by a backup made with `crm backup`."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from crm.ops.backup import BackupError, check_keys, restore


class Command(BaseCommand):
    help = "Restore the database from FILE (made by `crm backup` on the same kind of database). Overwrites it."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="Confirm that the current data may be replaced.")

    def handle(self, *args, file, yes, **options):
        name = connection.settings_dict["NAME"]
        if not yes:
            raise CommandError(f"This replaces everything in {connection.vendor} database {name}: add --yes.")
        try:
            restore(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored {file} into the {connection.vendor} database {name}.")
        try:
            checked = check_keys()  # encrypted values are readable only with their keys: say so now
        except BackupError as exc:
            raise CommandError(f"Restored, but {exc} Set the key that encrypted it and check again.") from None
        if checked:
            self.stdout.write(f"Encrypted values decrypt with the configured keys ({', '.join(checked)}).")
