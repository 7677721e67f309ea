"""Rounding per currency, the enabled check, and conversion at the rate in force on a date."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from crm.money import currencies, rates
from crm.money.iso4217 import rows
from crm.money.models import Currency

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_migration_seeds_iso_4217_and_enables_the_organization_currency_only(settings):
    assert Currency.objects.count() == len(rows()) > 150
    assert list(Currency.objects.filter(enabled=True).values_list("code", flat=True)) == [settings.DEFAULT_CURRENCY]
    assert Currency.objects.get(code="JPY").minor_units == 0 and Currency.objects.get(code="KWD").minor_units == 3


def test_the_seed_enables_the_currencies_existing_deals_use(pipeline):
    from django.apps import apps as django_apps

    from tests.factories import DealFactory

    seed = __import__("crm.money.migrations.0002_seed_currencies", fromlist=["seed"]).seed
    DealFactory(currency="CHF")
    DealFactory(currency="XYZ")  # not an ISO code: added under its code, enabled
    seed(django_apps, None)
    assert Currency.objects.get(code="CHF").enabled
    assert Currency.objects.get(code="XYZ").enabled and not Currency.objects.get(code="EUR").enabled


def test_minor_units_and_half_up_rounding():
    assert currencies.minor_units("EUR") == 2 and currencies.minor_units("jpy") == 0
    assert currencies.minor_units("QQQ") == 2  # unknown: two places
    assert currencies.quantize(D("2.345"), "EUR") == D("2.35")
    assert currencies.quantize(D("-2.345"), "EUR") == D("-2.35")  # half away from zero
    assert currencies.quantize(D("2.5"), "JPY") == D("3")
    assert currencies.quantize(D("1.2345"), "KWD") == D("1.235")
    with pytest.raises(TypeError):
        currencies.quantize(2.345, "EUR")


def test_a_rounder_rounds_as_quantize_does():
    for code, units in (("EUR", 2), ("JPY", 0), ("KWD", 3)):
        rounded = currencies.rounder(units)
        for text in ("2.345", "-2.345", "2.5", "1.2345", "100", "0.005", "-0.5", "1E+3", "123456789.9995"):
            got, expected = rounded(D(text)), currencies.quantize(D(text), code)
            assert (str(got), got) == (str(expected), expected)  # the same value and the same digits


def test_require_currency_names_the_code(settings):
    currencies.require_currency(settings.DEFAULT_CURRENCY)
    with pytest.raises(ValidationError) as exc:
        currencies.require_currency("EUR")
    assert "EUR" in exc.value.messages[0]
    Currency.objects.filter(code="EUR").update(enabled=True)
    currencies.require_currency("EUR")
    with pytest.raises(ValidationError):
        currencies.require_currency("ZZZ")
    assert currencies.organization_currency() == "USD"


@pytest.mark.usefixtures("eur_gbp")
def test_convert_uses_the_latest_rate_on_or_before_the_date():
    feb = rates.convert(D("100"), "EUR", "USD", dt.date(2026, 2, 28))
    assert (feb.amount, feb.rate, feb.rate_date) == (D("110.00"), D("1.10"), dt.date(2026, 1, 1))
    march = rates.convert(D("100"), "eur", "usd", dt.date(2026, 3, 1))
    assert (march.amount, march.rate_date, march.from_code, march.to_code) == (
        D("120.00"),
        dt.date(2026, 3, 1),
        "EUR",
        "USD",
    )
    back = rates.convert(D("110"), "USD", "EUR", dt.date(2026, 2, 1))
    assert back.amount == D("100.00")
    same = rates.convert(D("1.005"), "EUR", "EUR", dt.date(2026, 2, 1))
    assert (same.amount, same.rate) == (D("1.01"), 1)


@pytest.mark.usefixtures("eur_gbp")
def test_two_other_currencies_convert_through_the_organization_currency():
    # 100 EUR = 120 USD (March) = 96 GBP at 1.25; the older of the two rate dates is given.
    out = rates.convert(D("100"), "EUR", "GBP", dt.date(2026, 3, 15))
    assert out.amount == D("96.00") and out.rate == D("1.20") / D("1.25")
    assert out.rate_date == dt.date(2026, 1, 1)


@pytest.mark.usefixtures("eur_gbp")
def test_a_missing_rate_is_an_error_naming_currency_and_date_never_one():
    with pytest.raises(rates.MissingRate) as exc:
        rates.convert(D("100"), "EUR", "USD", dt.date(2025, 12, 31))
    assert exc.value.message == "No exchange rate for EUR on or before 2025-12-31"
    assert exc.value.status == 422
    with pytest.raises(rates.MissingRate, match="JPY"):
        rates.convert(D("100"), "EUR", "JPY", dt.date(2026, 3, 15))
