from django.apps import AppConfig


class QuotesConfig(AppConfig):
    """Quotes: the totals engine (totals.py), the organization's branding, the quote PDF (pdf.py)."""

    name = "crm.quotes"
    label = "quotes"
    verbose_name = "Quotes"
