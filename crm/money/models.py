"""Currencies and dated exchange rates.

An ``ExchangeRate`` row says: on ``date``, 1 unit of ``currency`` = ``rate`` units of the organization's
currency (settings.DEFAULT_CURRENCY). Rates are kept against that one currency only; conversion between
two others goes through it (crm.money.rates). Changing DEFAULT_CURRENCY later makes every stored rate
wrong: they must be entered again against the new one.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

CODE = RegexValidator(r"^[A-Z]{3}$", "A currency is three capital letters (ISO 4217), e.g. EUR.")


class Currency(models.Model):
    code = models.CharField(max_length=3, unique=True, validators=[CODE])
    name = models.CharField(max_length=80)
    symbol = models.CharField(max_length=8, blank=True)
    minor_units = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(4)], help_text="Digits after the decimal point (0 to 4)."
    )
    enabled = models.BooleanField(default=False, help_text="Deals may use it, and rates may be set for it.")

    change_log_type = "currency"

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "currencies"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ExchangeRate(models.Model):
    # to_field: the column holds the code ("EUR"), so rate lookups by code need no join.
    currency = models.ForeignKey(Currency, on_delete=models.CASCADE, related_name="rates", to_field="code")
    date = models.DateField()
    rate = models.DecimalField(
        max_digits=24,
        decimal_places=10,
        validators=[MinValueValidator(Decimal("0.0000000001"))],
        help_text="1 unit of the currency = this many units of the organization's currency.",
    )

    change_log_type = "exchange_rate"

    class Meta:
        ordering = ["-date", "currency_id"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="exchange_rate_currency_date"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency_id} {self.date}: {self.rate}"
