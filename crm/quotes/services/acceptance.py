"""The customer's answer to a sent quote: accept (a typed name, the time and the client's address
recorded) or decline (a reason). The acceptance page (crm/quotes/web/public.py) calls these with the
automation user as actor; users call them through the API with their own.

Accepting sets the deal's amount to the quote's total in the deal's currency (converted at today's
rate when the currencies differ: no rate is a clear error naming currency and date, nothing changes),
moves the deal to its pipeline's won stage when the pipeline's quote settings say so, and emits the
``quote.accepted`` event that automation rules trigger on ("Quote accepted")."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from crm.access.managers import is_manager
from crm.audit import changelog
from crm.core import events
from crm.core.errors import Conflict, ValidationFailed
from crm.money.rates import convert
from crm.quotes.models import Quote, QuoteSettings, QuoteStatus
from crm.records.services import common
from crm.records.services.deals import deal_update

NAME_MAX = 200
REASON_MAX = 2000


def _answerable(quote: Quote) -> None:
    if quote.status != QuoteStatus.SENT:
        raise Conflict(
            f"Quote {quote.number} is {quote.get_status_display().lower()}: only a sent quote can be answered.",
            code="quote_not_sent",
        )
    if quote.valid_until and quote.valid_until < timezone.localdate():
        raise Conflict(f"Quote {quote.number} expired on {quote.valid_until:%Y-%m-%d}.", code="quote_expired")


def _text(value, field: str, limit: int, what: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed({field: what})
    if len(text) > limit:
        raise ValidationFailed({field: f"At most {limit} characters."})
    return text


@transaction.atomic
def quote_accept(quote: Quote, *, actor, name: str, ip: str | None = None, version: int | None = None) -> Quote:
    name = _text(name, "name", NAME_MAX, "Type your name to accept the quote.")
    quote = common.lock_for_write(quote, actor=actor, action="change", version=version)
    _answerable(quote)
    before = changelog.snapshot(quote)
    quote.status = QuoteStatus.ACCEPTED
    quote.answered_at, quote.answered_ip, quote.accepted_by_name = timezone.now(), ip, name
    common.save_existing(quote)
    common.finish_update(quote, actor, before)
    _update_deal(quote, actor)
    events.emit(
        "quote.accepted", quote, actor=actor, changes={"status": ["sent", "accepted"], "total": str(quote.total)}
    )
    return quote


def _update_deal(quote: Quote, actor) -> None:
    deal = quote.deal
    if deal is None:
        return
    amount = convert(quote.total, quote.currency, deal.currency, timezone.localdate()).amount
    data: dict = {"amount": amount}
    settings = QuoteSettings.objects.filter(pipeline_id=deal.pipeline_id).first()
    if settings and settings.win_deal_on_accept and not deal.stage.is_won:
        won = deal.pipeline.stages.filter(is_won=True).order_by("order", "id").first()
        if won is not None:
            data["stage_id"] = won.pk
    deal_update(deal, actor=actor, data=data)


@transaction.atomic
def quote_decline(quote: Quote, *, actor, reason: str, ip: str | None = None, version: int | None = None) -> Quote:
    reason = _text(reason, "reason", REASON_MAX, "Say why the quote is declined.")
    quote = common.lock_for_write(quote, actor=actor, action="change", version=version)
    _answerable(quote)
    before = changelog.snapshot(quote)
    quote.status = QuoteStatus.REJECTED
    quote.answered_at, quote.answered_ip, quote.decline_reason = timezone.now(), ip, reason
    common.save_existing(quote)
    common.finish_update(quote, actor, before)
    events.emit("quote.declined", quote, actor=actor, changes={"status": ["sent", "rejected"]})
    return quote


SETTINGS_WHAT = "quote settings"


def may_change_settings(user) -> bool:
    """Admins and managers (the sales-manager role or a team's manager, as for shared mail templates)."""
    return bool(user and user.is_authenticated) and is_manager(user)


def require_settings_right(user) -> None:
    from crm.core.errors import PermissionDenied

    if not may_change_settings(user):
        raise PermissionDenied(f"Only admins and managers may change {SETTINGS_WHAT}.")


def pipelines_with_settings():
    """Every pipeline with its ``win_deal_on_accept`` (False when it has no settings row yet)."""
    from crm.records.models import Pipeline

    rows = dict(QuoteSettings.objects.values_list("pipeline_id", "win_deal_on_accept"))
    return [(p, rows.get(p.pk, False)) for p in Pipeline.objects.order_by("name", "id")]


@transaction.atomic
def pipeline_settings_set(pipeline, *, actor, win_deal_on_accept: bool) -> QuoteSettings:
    """Admins and managers choose per pipeline whether an accepted quote wins its deal (logged)."""
    from crm.audit import configwrites

    require_settings_right(actor)
    if not isinstance(win_deal_on_accept, bool):
        raise ValidationFailed({"win_deal_on_accept": "true or false."})
    row = QuoteSettings.objects.select_for_update().filter(pipeline=pipeline).first()
    if row is None:
        return configwrites.create(QuoteSettings(pipeline=pipeline, win_deal_on_accept=win_deal_on_accept), actor=actor)
    if row.win_deal_on_accept == win_deal_on_accept:
        return row  # unchanged: nothing to log
    return configwrites.update(
        row, actor=actor, data={"win_deal_on_accept": win_deal_on_accept}, fields=["win_deal_on_accept"]
    )
