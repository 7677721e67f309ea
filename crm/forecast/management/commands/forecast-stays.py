"""`crm forecast-stays --check | --rebuild`: whether the forecast's stays table (crm/forecast/stays.py)
is true to the stage history (and the kept usual-stay histogram to the stays: crm/forecast/staycounts.py),
and rebuilding both from the history (after moves were loaded in bulk, which keeps no stays)."""

from django.core.management.base import BaseCommand, CommandError

from crm.forecast import staycounts, stays


class Command(BaseCommand):
    help = "Check the forecast's stays against the stage history, or rebuild them from it."

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--check", action="store_true", help="list the stays that differ (exit 1 if any)")
        what.add_argument("--rebuild", action="store_true", help="recompute every stay from the stage history")

    def handle(self, *args, check, rebuild, **options):
        if rebuild:
            self.stdout.write(f"{stays.rebuild():,} stays rebuilt from the stage history.")
            return
        found = stays.differences(limit=None)
        for d in found[:20]:
            self.stdout.write(f"move {d['change_id']}: expected {d['expected']}, kept {d['kept']}")
        if found:
            raise CommandError(f"{len(found)} stays differ from the stage history: run `crm forecast-stays --rebuild`.")
        counts = staycounts.differences()
        for stage, days, kept, counted in counts[:20]:
            self.stdout.write(f"stage {stage}, {days} days: {kept} kept, {counted} counted")
        if counts:
            raise CommandError(f"{len(counts)} stay counts differ from the stays: run `crm forecast-stays --rebuild`.")
        self.stdout.write("The stays match the stage history, and the stay counts the stays.")
