"""A quote's life: draft → sent → accepted / rejected / expired; revising makes a new draft version.

Sending freezes the latest version (its ``sent_at``) and stores its PDF; a sent version never changes
again, so every version ever sent stays readable with the PDF the customer got. Revising copies the
latest version and its lines into version n+1, a draft. Duplicating makes a new quote (a new number)
from the latest version. The daily ``quotes.expire`` job marks sent quotes past their valid-until date
expired. Accepting and declining are in acceptance.py."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from crm.audit import changelog
from crm.automation import jobs
from crm.core import context
from crm.core.errors import Conflict, ValidationFailed
from crm.quotes.models import Quote, QuoteLine, QuoteStatus, QuoteVersion
from crm.quotes.services import documents, numbering
from crm.quotes.services.quotes import VERSION_FIELDS, recompute, require_draft
from crm.records.services import common

log = logging.getLogger("crm.quotes")
EXPIRE_JOB = "quotes.expire"
EXPIRE_CRON = "15 0 * * *"  # daily, 00:15 in TIME_ZONE: the day after the last valid day
LINE_COPY = (
    "product_id",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "discount_amount",
    "tax_rate",
    "is_credit",
    "net",
    "tax",
    "total",
)


@transaction.atomic
def quote_send(quote: Quote, *, actor, version: int | None = None) -> common.Saved:
    quote = common.lock_for_write(quote, actor=actor, action="change", version=version)
    require_draft(quote)
    latest = quote.latest()
    if not latest.lines.exists():
        raise ValidationFailed({"lines": "Add at least one line before sending the quote."})
    today = timezone.localdate()
    if latest.valid_until is None or latest.valid_until < today:
        raise ValidationFailed({"valid_until": "Set a valid-until date from today on before sending."})
    before = changelog.snapshot(quote)
    recompute(quote, latest)
    latest.sent_at = timezone.now()
    latest.pdf = documents.store(quote, latest)
    latest.save(update_fields=["sent_at", "pdf"])
    quote.status, quote.sent_at = QuoteStatus.SENT, latest.sent_at
    common.save_existing(quote)
    common.finish_update(quote, actor, before)
    install_schedule()
    return common.Saved(quote)


def install_schedule() -> None:
    """The daily expiry run, made with the first quote sent (only a sent quote can expire)."""
    from crm.automation.models import Schedule
    from crm.automation.scheduler import next_time

    if not Schedule.objects.filter(key=EXPIRE_JOB).exists():
        schedule = Schedule(key=EXPIRE_JOB, job_kind=EXPIRE_JOB, cron=EXPIRE_CRON)
        schedule.next_run_at = next_time(schedule, timezone.now())
        schedule.save()


def _copy(version: QuoteVersion, into_quote: Quote, number: int) -> QuoteVersion:
    copy = QuoteVersion(quote=into_quote, number=number, **{n: getattr(version, n) for n in VERSION_FIELDS})
    copy.save()
    QuoteLine.objects.bulk_create(
        QuoteLine(version=copy, position=x.position, **{n: getattr(x, n) for n in LINE_COPY})
        for x in version.lines.order_by("position", "id")
    )
    return copy


@transaction.atomic
def quote_revise(quote: Quote, *, actor, version: int | None = None) -> common.Saved:
    """A new draft version copied from the latest; the older versions (and their PDFs) stay, and the
    acceptance link of the older version stops working (it names its version)."""
    quote = common.lock_for_write(quote, actor=actor, action="change", version=version)
    if quote.status == QuoteStatus.DRAFT:
        raise Conflict(f"Quote {quote.number} is a draft already: edit it.", code="quote_is_draft")
    before = changelog.snapshot(quote)
    copy = _copy(quote.latest(), quote, quote.current_version + 1)
    quote.current_version = copy.number
    quote.status, quote.sent_at = QuoteStatus.DRAFT, None
    quote.answered_at, quote.answered_ip, quote.accepted_by_name, quote.decline_reason = None, None, "", ""
    recompute(quote, copy)
    common.save_existing(quote)
    common.finish_update(quote, actor, before)
    return common.Saved(quote)


@transaction.atomic
def quote_duplicate(quote: Quote, *, actor) -> common.Saved:
    """A new draft quote (its own number) with the latest version's lines, for the same deal."""
    source = common.get_visible(Quote, actor, quote.pk)
    common.require(actor, Quote, "add")
    new = Quote(
        deal=source.deal,
        company=source.company,
        contact=source.contact,
        price_book=source.price_book,
        currency=source.currency,
        title=source.title,
        owner=actor,
        custom_fields=dict(source.custom_fields),
    )
    new.number = numbering.next_number()
    common.save_new(new, actor=actor)
    copy = _copy(source.latest(), new, 1)
    recompute(new, copy)
    new.save(update_fields=["total", "valid_until"])
    common.finish_create(new, actor)
    return common.Saved(new)


def expire_due(today=None) -> int:
    """Sent quotes whose valid-until date has passed become expired (each logged, as the automation user)."""
    from crm.automation.system import automation_user

    today = today or timezone.localdate()
    actor = automation_user()
    done = 0
    ids = list(Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=today).values_list("pk", flat=True))
    with context.change_context(source="system"):
        for pk in ids:
            with transaction.atomic():
                quote = Quote.objects.select_for_update().filter(pk=pk, status=QuoteStatus.SENT).first()
                if quote is None:
                    continue
                before = changelog.snapshot(quote)
                quote.status = QuoteStatus.EXPIRED
                common.save_existing(quote)
                common.finish_update(quote, actor, before)
                done += 1
    return done


@jobs.handler(EXPIRE_JOB, atomic=False)
def expire_job(job) -> dict:
    return {"expired": expire_due()}
