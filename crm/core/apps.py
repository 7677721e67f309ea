from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "crm.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from crm.core import recordtypes

        recordtypes.discover()  # every app's recordtypes.py: the registry is complete once apps are ready
