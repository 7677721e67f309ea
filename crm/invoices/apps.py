from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    """Invoices and payments from the accounting system: invoices declared as a record type
    (recordtypes.py), fed by the API and CSV/XLSX import with the sender's ids, and a company's credit
    position (credit.py) on its page."""

    name = "crm.invoices"
    label = "invoices"
