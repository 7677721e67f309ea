from django.apps import AppConfig


class CustomizationConfig(AppConfig):
    name = "crm.customization"
    label = "customization"

    def ready(self) -> None:
        from crm.core import recordtypes
        from crm.customization.validation import filter_kinds

        recordtypes.provide_custom_fields(filter_kinds)  # the filter language's cf_<key> fields
        from crm.customization import rotation  # noqa: F401  (registers the "encryption.rotate" job handler)
