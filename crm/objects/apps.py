from django.apps import AppConfig


class ObjectsConfig(AppConfig):
    name = "crm.objects"
    label = "objects"
    verbose_name = "Custom objects"

    def ready(self) -> None:
        from crm.core import recordtypes
        from crm.customization import services as field_services
        from crm.objects import guards, indexes, registry, search_hooks

        # Each type is a record type of the registry, rebuilt when a definition changes.
        registry.connect()
        recordtypes.provide_run_time_types(
            recordtypes.RunTimeTypes(generation=registry.generation, build=registry.build)
        )
        indexes.connect()  # a sortable value field gets its expression index (sort=-seats)
        search_hooks.connect()  # a type's search rows follow its searchable fields and name field
        field_services.add_guard(guards.field_change_refused)  # name fields stay text; unique means unique
