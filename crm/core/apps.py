from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from crm.core import recordtypes
        from crm.core.cache import create_cache_table

        recordtypes.discover()  # every app's recordtypes.py: the registry is complete once apps are ready
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="crm.core.cache")  # crm/core/cache.py
