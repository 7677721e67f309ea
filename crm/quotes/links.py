"""The customer's link to a sent quote: ``/quote/<token>/``, no login.

The token is signed with the secret key (django.core.signing, its own salt), so it cannot be guessed
or altered: it names the quote's id, its number (never reused, so a link cannot reach a later quote
that took a deleted one's id) and the version sent. The link opens only while that version is the
quote's latest and was sent: revising the quote makes a new version, and the old link stops working.
Answering (accept or decline) also needs the quote to be sent and not past its valid-until date; an
answered quote's page still shows the answer. Anything else is a 404 with nothing changed."""

from __future__ import annotations

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from crm.core.errors import NotFound
from crm.quotes.models import Quote, QuoteStatus, QuoteVersion

SALT = "crm.quotes.acceptance"
OPEN = (QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.REJECTED)


def token_for(quote: Quote) -> str:
    return signing.dumps({"q": quote.pk, "n": quote.number, "v": quote.current_version}, salt=SALT, compress=True)


def path_for(quote: Quote) -> str | None:
    """The acceptance page's path while the quote is sent or answered; None otherwise."""
    if quote.status not in OPEN:
        return None
    return reverse("quote-public:page", args=[token_for(quote)])


def resolve(token: str) -> tuple[Quote, QuoteVersion]:
    """The quote and version the token names, if its link is still open; NotFound otherwise."""
    try:
        data = signing.loads(token, salt=SALT)
        pk, number, version = int(data["q"]), str(data["n"]), int(data["v"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("No such quote.") from None
    quote = (
        Quote.objects.select_related("company", "contact", "owner", "deal")
        .filter(pk=pk, number=number, current_version=version, status__in=OPEN)
        .first()
    )
    if quote is None:
        raise NotFound("No such quote.")
    sent = quote.versions.filter(number=version, sent_at__isnull=False).first()
    if sent is None or (quote.status == QuoteStatus.SENT and is_past(quote)):
        raise NotFound("No such quote.")
    return quote, sent


def is_past(quote: Quote) -> bool:
    return quote.valid_until is not None and quote.valid_until < timezone.localdate()
