"""Quotes, declared as a record type (docs/adding-a-record-type.md). Owner-scoped like deals, and also
visible to whoever sees the quote's deal (Quote.visibility_q)."""

from crm.core.recordtypes import ApiSpec, RecordField, RecordType, SearchSpec, register
from crm.quotes.api import schemas as s
from crm.quotes.models import Quote, QuoteStatus
from crm.quotes.services import quotes

F = RecordField

register(
    RecordType(
        object_type="quote",
        slug="quotes",
        model=Quote,
        singular="quote",
        plural="quotes",
        detail_related=("owner", "deal", "company", "contact", "price_book"),
        fields=(
            F("number", "str", "Number", listed=True, sortable=True, searchable=True, read_only=True),
            F("title", "str", "Title", listed=True, sortable=True, searchable=True),
            F("status", "choice", "Status", choices=tuple(QuoteStatus.choices), listed=True, read_only=True),
            F("deal", "int", "Deal", lookup="deal_id", listed=True, required=True),
            F("company", "int", "Company", lookup="company_id", read_only=True),
            F("contact", "int", "Contact", lookup="contact_id", read_only=True),
            F("currency", "str", "Currency"),
            F("price_book", "int", "Price book", lookup="price_book_id"),
            F("total", "decimal", "Total", listed=True, sortable=True, read_only=True),
            F("valid_until", "date", "Valid until", listed=True, sortable=True),
            F("current_version", "int", "Version", read_only=True),
            # The customer's answer (crm/quotes/services/acceptance.py): set by it, never typed.
            F("sent_at", "datetime", "Sent", sortable=True, read_only=True),
            F("answered_at", "datetime", "Answered", sortable=True, read_only=True),
            F("accepted_by_name", "str", "Accepted by", read_only=True),
            F("answered_ip", "str", "Answered from", filterable=False, read_only=True),
            F("decline_reason", "str", "Declined because", filterable=False, read_only=True),
            F("id", "int", "ID", sortable=True, read_only=True),
            F("owner", "int", "Owner", lookup="owner_id", listed=True),
            F("created_at", "datetime", "Created", sortable=True, read_only=True),
            F("updated_at", "datetime", "Updated", listed=True, sortable=True, read_only=True),
        ),
        create=quotes.quote_create,
        update=quotes.quote_update,
        delete=quotes.quote_delete,
        api=ApiSpec(out=s.QuoteOut, create_in=s.QuoteIn, update_in=s.QuotePatch),
        search=SearchSpec(text=lambda q: [q.number, q.title], name_field="number"),
    )
)
