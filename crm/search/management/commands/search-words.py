"""`crm search-words --rebuild`: the typo path's table of known words (crm/search/words.py) again from the
search index. Words are added as records are saved but never removed; a rebuild drops those of deleted
and erased records (run it periodically, or after a large delete). PostgreSQL only: SQLite keeps none."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from crm.search import words


class Command(BaseCommand):
    help = "Rebuild the search index's table of known words (PostgreSQL's typo tolerance) from the index."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", required=True, help="recompute every word")

    def handle(self, *args, rebuild, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Only PostgreSQL keeps a table of words (SQLite's index has no typo tolerance).")
        self.stdout.write(f"{words.rebuild():,} words rebuilt from the search index.")
