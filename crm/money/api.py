"""/api/v1/currencies and /api/v1/exchange-rates: reads for every signed-in user, writes for admins
(the services check; 403 otherwise)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.conf import settings
from django.utils import timezone
from ninja import Body, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field, StringConstraints, WithJsonSchema

from crm.access.policy import require_admin
from crm.core.errors import BadRequest, NotFound, ValidationFailed
from crm.core.paging import Sort, page
from crm.dataio import uploads
from crm.money import rates, services
from crm.money.currencies import organization_currency
from crm.money.models import Currency, ExchangeRate

router = Router(tags=["money"])

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
AMOUNT = r"^-?\d{1,18}(\.\d{1,6})?$"
MAX_BATCH = 1000
RateValue = Annotated[
    Decimal,
    Field(gt=0, max_digits=24, decimal_places=10),
    WithJsonSchema(  # the document says what the field takes: above zero, at most 14 + 10 digits
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10**14, "multipleOf": 1e-10},
                {"type": "string", "pattern": r"^(0\.[0-9]{0,9}[1-9]|[1-9][0-9]{0,13}(\.[0-9]{1,10})?)$"},
            ]
        }
    ),
]


class CurrencyOut(Schema):
    code: str
    name: str
    symbol: str
    minor_units: int
    enabled: bool
    organization: bool = Field(description="The organization's currency: every rate is against it.")


class CurrencyIn(Schema):
    code: Code
    name: Annotated[Text, Field(min_length=1, max_length=80)]
    symbol: Annotated[Text, Field(max_length=8)] = ""
    minor_units: int = Field(2, ge=0, le=4)
    enabled: bool = True


class CurrencyPatch(Schema):
    name: Annotated[Text, Field(min_length=1, max_length=80)] | None = None
    symbol: Annotated[Text, Field(max_length=8)] | None = None
    minor_units: int | None = Field(None, ge=0, le=4)
    enabled: bool | None = None


class RateIn(Schema):
    currency: Code
    date: dt.date
    rate: RateValue = Field(description="1 unit of the currency = this many units of the organization's currency.")


class RateOut(Schema):
    id: int
    currency: str = Field(validation_alias="currency_id")
    date: dt.date
    rate: Decimal


class RatePage(Schema):
    items: list[RateOut]
    next: str | None = None


class ImportOut(Schema):
    saved: int


class ConvertedOut(Schema):
    amount: Decimal
    rate: Decimal
    rate_date: dt.date
    from_code: str
    to_code: str


def _currency_out(c: Currency) -> dict:
    org = organization_currency()
    return {
        **{f: getattr(c, f) for f in ("code", "name", "symbol", "minor_units")},
        "enabled": c.enabled or c.code == org,
        "organization": c.code == org,
    }


@router.get("/currencies", response=list[CurrencyOut], summary="Currencies (ISO 4217), enabled ones first")
def list_currencies(request, enabled: bool | None = None):
    rows = Currency.objects.order_by("-enabled", "code")
    if enabled is not None:
        rows = rows.filter(enabled=enabled)
    return [_currency_out(c) for c in rows]


@router.post("/currencies", response={201: CurrencyOut}, summary="Add a currency the ISO table lacks (admins)")
def create_currency(request, payload: CurrencyIn):
    return Status(201, _currency_out(services.currency_create(actor=request.user, data=payload.dict())))


@router.patch("/currencies/{code}", response=CurrencyOut, summary="Enable, disable or rename a currency (admins)")
def update_currency(request, code: str, payload: CurrencyPatch):
    require_admin(request.user, services.WHAT)
    data = payload.dict(exclude_unset=True)
    return _currency_out(services.currency_update(services.get_currency(code), actor=request.user, data=data))


@router.get(
    "/exchange-rates",
    response=RatePage,
    summary="Exchange rates, newest first; filters: currency, date_from, date_to",
)
def list_rates(
    request,
    currency: Code | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 50,
    cursor: str | None = None,
):
    if not 1 <= limit <= settings.API_MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be 1 to {settings.API_MAX_PAGE_SIZE}.", fields={"limit": str(limit)})
    rows = ExchangeRate.objects.all()
    if currency:
        rows = rows.filter(currency_id=currency)
    if date_from:
        rows = rows.filter(date__gte=date_from)
    if date_to:
        rows = rows.filter(date__lte=date_to)
    items, nxt = page(rows, Sort("date", True), limit=limit, cursor=cursor)
    return {"items": items, "next": nxt}


@router.put("/exchange-rates", response=list[RateOut], summary="Set many rates, all or nothing (admins)")
def put_rates(request, payload: Body[Annotated[list[RateIn], Field(min_length=1, max_length=MAX_BATCH)]]):
    if not 1 <= len(payload) <= MAX_BATCH:
        raise ValidationFailed({"body": f"Send 1 to {MAX_BATCH} rates at once."})
    items = [item.dict() for item in payload]
    return services.rates_set(actor=request.user, items=items)


@router.post("/exchange-rates/import", response=ImportOut, summary="Rates from a CSV: currency,date,rate (admins)")
def import_rates(request, file: File[UploadedFile]):
    require_admin(request.user, services.WHAT)
    uploads.checked(file, file.file, allowed=("csv",))
    return {"saved": len(services.rates_import(file.file, actor=request.user))}


class ConvertQuery(Schema):
    amount: Annotated[str, StringConstraints(pattern=AMOUNT)] = Field(description="A decimal number, e.g. 1250.50")
    from_code: Code = Field(alias="from")
    to_code: Code = Field(alias="to")
    on: dt.date | None = Field(None, description="The date whose rates apply (default: today)")


@router.get("/exchange-rates/convert", response=ConvertedOut, summary="Convert an amount at a date's rates")
def convert_amount(request, params: Query[ConvertQuery]):
    on = params.on or timezone.localdate()
    try:
        converted = rates.convert(Decimal(params.amount), params.from_code, params.to_code, on)
    except rates.MissingRate as exc:  # a GET answers 400 for what it cannot do with its parameters
        raise BadRequest(exc.message, fields=exc.fields, code=exc.code) from None
    return converted.__dict__


@router.delete("/exchange-rates/{int:pk}", response={204: None}, summary="Delete a rate (admins)")
def delete_rate(request, pk: int):
    require_admin(request.user, services.WHAT)
    found = ExchangeRate.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No exchange rate with id {pk}.")
    services.rate_delete(found, actor=request.user)
    return Status(204, None)
