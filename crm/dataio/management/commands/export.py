"""`crm export OBJECT [--format csv|xlsx] [--filter key=value ...] [--user USERNAME] [--output FILE]`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from crm.audit import reads
from crm.core import context
from crm.core.errors import ServiceError
from crm.dataio import exporting


class Command(BaseCommand):
    help = "Export a record type as CSV or XLSX, with the API list's filters and the user's permissions."

    def add_arguments(self, parser):
        parser.add_argument("object_type", help="companies, contacts, leads, deals, activities or tasks")
        parser.add_argument("--format", default="csv", choices=exporting.FORMATS)
        parser.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--user", help="export as this user (default: the first active superuser)")
        parser.add_argument("--output", help="file to write (default: standard output, CSV only)")

    def handle(self, *args, object_type, format, filter, user, output, **options):
        actor = _user(user)
        params = QueryDict(mutable=True)
        for item in filter:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CommandError(f"--filter {item!r}: write it as key=value.")
            params.appendlist(key, value)
        if format == "xlsx" and not output:
            raise CommandError("XLSX is binary: give --output FILE.")
        try:
            res = exporting.resource_of(object_type)
            qs = exporting.export_queryset(res, actor, params)
            with context.change_context(source="cli"):
                reads.record_export(actor, res.type.object_type, qs, format, params)
            table = exporting.rows(res, qs, actor)
            count = self._write(table, format, output)
        except ServiceError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items())
            raise CommandError(f"{exc.message} {detail}".strip()) from None
        self.stderr.write(f"Exported {count} {object_type}.")

    def _write(self, table, fmt: str, output: str | None) -> int:
        counted = _Counter(table)
        if fmt == "xlsx":
            with open(output, "wb") as out:
                exporting.write_xlsx(counted, out)
        elif output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                out.writelines(exporting.csv_lines(counted))
        else:
            for line in exporting.csv_lines(counted):
                self.stdout.write(line, ending="")
        return max(counted.n - 1, 0)


class _Counter:
    """Passes rows through, counting them (the header included)."""

    def __init__(self, rows):
        self.rows, self.n = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.n += 1
            yield row


def _user(username: str | None):
    users = get_user_model().objects.filter(is_active=True)
    found = users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
    if found is None:
        raise CommandError(f"No active user {username!r}." if username else "No active superuser: give --user.")
    return found
