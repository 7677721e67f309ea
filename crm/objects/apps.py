from django.apps import AppConfig


class ObjectsConfig(AppConfig):
    name = "crm.objects"
    label = "objects"
    verbose_name = "Custom objects"

    def ready(self) -> None:
        from crm.core import recordtypes
        from crm.customization import services as field_services
        from crm.objects import guards, selectors

        # Roles and custom field definitions name these types; they reach their records through the registry.
        recordtypes.provide_run_time_types(
            recordtypes.RunTimeTypes(keys=selectors.type_keys, records=selectors.records_of_key)
        )
        field_services.add_guard(guards.field_change_refused)  # name fields stay text; unique means unique
