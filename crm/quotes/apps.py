from django.apps import AppConfig


class QuotesConfig(AppConfig):
    """Quotes: the quote record type with versions and lines (models.py, services/), the totals engine
    (totals.py), the organization's branding, the quote PDF (pdf.py), the customer's acceptance page."""

    name = "crm.quotes"
    label = "quotes"
    verbose_name = "Quotes"

    def ready(self) -> None:
        from crm.quotes.services import lifecycle  # noqa: F401  (registers the "quotes.expire" job handler)
