"""The database cache's table, made by `crm migrate` (settings.CACHES: the default on the embedded setup).

Created after every migrate rather than by a migration: a migration runs once, so a deployment that
moves from Redis to the database cache later would never get the table; `createcachetable` is a no-op
when the table exists or no cache is in the database.
"""

from django.core.management import call_command


def create_cache_table(sender, using: str = "default", verbosity: int = 1, **kwargs) -> None:
    call_command("createcachetable", database=using, verbosity=max(0, verbosity - 1))
