"""The quotes API: branding (branding.py, /api/v1/settings/branding), the quote schemas (schemas.py)
and quote routes beyond the six standard ones (routes.py: lines, send, revise, versions, PDFs)."""

from crm.quotes.api.branding import router

__all__ = ["router"]
