"""`crm sales-sums --check | --rebuild`: whether the sales analytics' per-day sums (crm/sales/models.py)
are true to the deals and activities, and rebuilding them (after raw loads, which keep none)."""

from django.core.management.base import BaseCommand, CommandError

from crm.sales import rebuild as sums


class Command(BaseCommand):
    help = "Check the sales analytics' per-day sums against the deals and activities, or rebuild them."

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--check", action="store_true", help="list the sums that differ (exit 1 if any)")
        what.add_argument("--rebuild", action="store_true", help="recompute every sum from the records")

    def handle(self, *args, check, rebuild: bool, **options):
        if rebuild:
            counts = sums.rebuild()
            self.stdout.write(", ".join(f"{n:,} {table} rows" for table, n in counts.items()) + " rebuilt.")
            return
        found = sums.differences(limit=None)
        for d in found[:20]:
            self.stdout.write(f"{d['table']} {d['key']}: expected {d['expected']}, kept {d['kept']}")
        if found:
            raise CommandError(f"{len(found)} sums differ: run `crm sales-sums --rebuild`.")
        self.stdout.write("The sales sums match the deals and activities.")
