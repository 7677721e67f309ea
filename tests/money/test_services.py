"""Currency and rate writes: admins only, logged, all-or-nothing batches; deals refuse a currency
that is not enabled."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import BadRequest, PermissionDenied, ValidationFailed
from crm.money import services
from crm.money.models import Currency, ExchangeRate
from crm.records.services import deals
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


def test_only_admins_write(rep_a):
    with pytest.raises(PermissionDenied):
        services.set_enabled("EUR", True, actor=rep_a)
    with pytest.raises(PermissionDenied):
        services.rate_set(actor=rep_a, currency="EUR", date="2026-01-01", rate="1.1")
    assert not Currency.objects.get(code="EUR").enabled


def test_enable_and_disable_are_logged_and_guarded(admin_user, pipeline):
    services.set_enabled("EUR", True, actor=admin_user)
    assert Currency.objects.get(code="EUR").enabled
    entry = ObjectChange.objects.get(object_type="currency")
    assert entry.changes == {"enabled": [False, True]} and entry.user == admin_user
    with pytest.raises(ValidationFailed) as exc:
        services.set_enabled("USD", False, actor=admin_user)
    assert "organization's currency" in exc.value.fields["enabled"]
    DealFactory(currency="EUR", pipeline=pipeline)
    with pytest.raises(ValidationFailed) as exc:
        services.set_enabled("EUR", False, actor=admin_user)
    assert exc.value.fields["enabled"] == "1 open deals use EUR: it cannot be disabled."


def test_a_rate_is_upserted_by_currency_and_date(admin_user):
    services.set_enabled("EUR", True, actor=admin_user)
    first = services.rate_set(actor=admin_user, currency="eur", date="2026-01-01", rate="1.10")
    again = services.rate_set(actor=admin_user, currency="EUR", date=dt.date(2026, 1, 1), rate=Decimal("1.12"))
    assert first.pk == again.pk and ExchangeRate.objects.get().rate == Decimal("1.12")
    assert ObjectChange.objects.filter(object_type="exchange_rate").count() == 2  # a create, an update
    services.rate_delete(again, actor=admin_user)
    assert not ExchangeRate.objects.exists()


@pytest.mark.parametrize(
    ("currency", "date", "rate", "field"),
    [
        ("USD", "2026-01-01", "1", "currency"),  # the organization's: always 1
        ("GBP", "2026-01-01", "1", "currency"),  # not enabled
        ("EUR", "2026-13-01", "1", "date"),
        ("EUR", "2026-01-01", "0", "rate"),
        ("EUR", "2026-01-01", "-1.2", "rate"),
        ("EUR", "2026-01-01", "abc", "rate"),
        ("EUR", "2026-01-01", "NaN", "rate"),
    ],
)
def test_a_bad_rate_is_a_field_error(admin_user, currency, date, rate, field):
    Currency.objects.filter(code="EUR").update(enabled=True)
    with pytest.raises(ValidationFailed) as exc:
        services.rate_set(actor=admin_user, currency=currency, date=date, rate=rate)
    assert field in exc.value.fields


def test_a_batch_is_all_or_nothing_with_every_bad_row_named(admin_user):
    Currency.objects.filter(code="EUR").update(enabled=True)
    items = [
        {"currency": "EUR", "date": "2026-01-01", "rate": "1.1"},
        {"currency": "EUR", "date": "2026-02-01", "rate": "-1"},
        {"currency": "EUR", "date": "2026-01-01", "rate": "1.2"},
    ]
    with pytest.raises(ValidationFailed) as exc:
        services.rates_set(actor=admin_user, items=items)
    assert set(exc.value.fields) == {"1.rate", "2.date"} and "twice" in exc.value.fields["2.date"]
    assert not ExchangeRate.objects.exists()


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def test_csv_import_saves_every_row_or_none_naming_lines(admin_user):
    Currency.objects.filter(code__in=["EUR", "GBP"]).update(enabled=True)
    saved = services.rates_import(
        _csv("date,currency,rate\n2026-01-01,EUR,1.1\n2026-01-01,GBP,1.25\n"), actor=admin_user
    )
    assert len(saved) == 2 and ExchangeRate.objects.count() == 2
    bad = "currency,date,rate\n2026-02-01,EUR,1.1\nEUR,2026-02-01,1.1\nCHF,2026-02-01,0.9\n"
    with pytest.raises(ValidationFailed) as exc:
        services.rates_import(_csv(bad), actor=admin_user)
    assert set(exc.value.fields) == {"line 2.currency", "line 2.date", "line 4.currency"}
    assert "2 of 3 rows" in exc.value.message and ExchangeRate.objects.count() == 2
    with pytest.raises(BadRequest, match="missing: rate"):
        services.rates_import(_csv("currency,date\nEUR,2026-01-01\n"), actor=admin_user)


def test_a_deal_refuses_a_currency_that_is_not_enabled(rep_a, pipeline):
    with pytest.raises(ValidationFailed) as exc:
        deals.deal_create(actor=rep_a, data={"name": "Euro", "currency": "eur", "pipeline_id": pipeline.pk})
    assert "EUR is not an enabled currency" in exc.value.fields["currency"]
    Currency.objects.filter(code="EUR").update(enabled=True)
    deal = deals.deal_create(actor=rep_a, data={"name": "Euro", "currency": "eur", "pipeline_id": pipeline.pk}).obj
    assert deal.currency == "EUR"
    Currency.objects.filter(code="EUR").update(enabled=False)  # disabled since: the deal can still be edited
    deal = deals.deal_update(deal, actor=rep_a, data={"name": "Euro 2", "currency": "EUR"}).obj
    with pytest.raises(ValidationFailed) as exc:
        deals.deal_update(deal, actor=rep_a, data={"currency": "GBP"})
    assert "GBP" in exc.value.fields["currency"]
