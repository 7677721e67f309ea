from importlib import import_module

from django.apps import AppConfig, apps


class SearchConfig(AppConfig):
    name = "crm.search"
    label = "search"

    def ready(self) -> None:
        # Each domain app declares its searchable fields in its own search.py (after NetBox).
        for config in apps.get_app_configs():
            if config.name.startswith("crm.") and config.name != self.name:
                try:
                    import_module(f"{config.name}.search")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.search":
                        raise
