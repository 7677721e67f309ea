from django.apps import AppConfig


class DataIoConfig(AppConfig):
    """Getting data in and out: CSV/XLSX export, vCard, duplicates and merge."""

    name = "crm.dataio"
    label = "dataio"
