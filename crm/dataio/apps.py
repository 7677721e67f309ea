from django.apps import AppConfig


class DataIoConfig(AppConfig):
    """Getting data in and out: CSV/XLSX export, vCard, duplicates and merge."""

    name = "crm.dataio"
    label = "dataio"

    def ready(self):
        from crm.dataio import (
            background,  # noqa: F401  (registers the "import.run" job handler)
            scans,  # noqa: F401  (registers the "duplicates.scan" job handler)
        )
