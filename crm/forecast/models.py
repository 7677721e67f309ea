"""Forecast settings, categories, quotas and managers' adjustments.

A deal's forecast category override is a row here keyed by the deal (``DealCategory``), not a column
on the deal: the records app stays as it is, and a deal without a row takes its stage's default.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

SINGLETON = 1


class Category(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"


class ForecastSettings(models.Model):
    """The organization's forecast settings: one row (``current()``), admins change it."""

    change_log_type = "forecast_settings"

    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=SINGLETON), name="forecast_settings_singleton")]

    @classmethod
    def current(cls) -> ForecastSettings:
        return cls.objects.filter(pk=SINGLETON).first() or cls(pk=SINGLETON)


class StageCategory(models.Model):
    """The category an open stage's deals default to (admins set it; none: pipeline)."""

    change_log_type = "forecast_stage_category"

    stage = models.OneToOneField("records.Stage", on_delete=models.CASCADE, related_name="forecast_category")
    category = models.CharField(max_length=10, choices=Category.choices)


class DealCategory(models.Model):
    """The deal owner's override of an open deal's category."""

    change_log_type = "forecast_deal_category"

    deal = models.OneToOneField("records.Deal", on_delete=models.CASCADE, related_name="forecast_category")
    category = models.CharField(max_length=10, choices=Category.choices)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField(auto_now=True)


class Quota(models.Model):
    """A user's or a team's quota for one period, in the organization's currency. A team's row with
    ``rolls_up`` takes the sum of its members' quotas (its own amount is then empty)."""

    change_log_type = "quota"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey("access.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="quotas")
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField()
    amount = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    deal_count = models.PositiveIntegerField(null=True, blank=True)
    rolls_up = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, team__isnull=True)
                | models.Q(user__isnull=True, team__isnull=False),
                name="quota_user_or_team",
            ),
            models.UniqueConstraint(fields=["user", "period_kind", "period_start"], name="quota_user_period"),
            models.UniqueConstraint(fields=["team", "period_kind", "period_start"], name="quota_team_period"),
        ]


class Adjustment(models.Model):
    """A manager's adjusted forecast for one rep and period, with a note. Rows are never changed: the
    latest is in force, the older ones are its history."""

    change_log_type = "forecast_adjustment"

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField()
    amount = models.DecimalField(max_digits=18, decimal_places=2, validators=[MinValueValidator(0)])
    note = models.CharField(max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["rep", "period_kind", "period_start", "created_at"], name="adjustment_rep")]


class Scope(models.TextChoices):
    TOTAL = "total", "Total"
    TEAM = "team", "Team"
    OWNER = "owner", "Owner"


class Snapshot(models.Model):
    """One forecast figure of one period for one scope, as the weekly job computed it (snapshots.py).
    ``scope_id``: the team's or owner's id; 0 for the total, and for deals with no owner or no team
    (0 rather than NULL, so the unique constraint holds on SQLite and PostgreSQL alike)."""

    week = models.DateField(help_text="The Monday of the week the figure was taken in.")
    taken_at = models.DateTimeField()
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField()
    scope = models.CharField(max_length=5, choices=Scope.choices)
    scope_id = models.BigIntegerField(default=0)
    figure = models.CharField(max_length=20)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3)
    deal_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period_kind", "period_start", "scope", "scope_id", "figure", "week"],
                name="forecast_snapshot_week",
            )
        ]


class Stay(models.Model):
    """One stay of a deal in a stage: from a move into it (``change``, a row of the stage history) to
    the deal's next move (``left_at``; empty while it is still there). Kept by the deal services with
    every move (crm/forecast/stays.py), so what the history methods learn is read from indexed
    intervals instead of pairing every move with the next by a window over the whole history."""

    change = models.OneToOneField("records.StageChange", primary_key=True, on_delete=models.CASCADE, related_name="+")
    deal = models.ForeignKey("records.Deal", on_delete=models.CASCADE, related_name="+", db_index=False)
    stage = models.ForeignKey("records.Stage", on_delete=models.PROTECT, related_name="+", db_index=False)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["deal", "entered_at"], name="forecast_stay_deal"),
            # Covers the usual-stay histogram: completed stays per stage with their two times.
            models.Index(fields=["stage", "left_at", "entered_at"], name="forecast_stay_stage"),
        ]


class Generation(models.Model):
    """Counters raised by database triggers on every write to what the forecast learns from (deals,
    stage moves, stages, categories, exchange rates, predicted scores): crm/forecast/generation.py. The
    memo's fingerprint reads these few rows instead of aggregating the deal table."""

    slot = models.PositiveSmallIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)


class StayCount(models.Model):
    """How many completed stays in a stage lasted ``days`` local days, in the time zone ``zone``: the
    usual-stay histogram kept with the stays (crm/forecast/staycounts.py). Stage 0 marks a zone's counts
    complete. A plain stage id, not a key: the counts are derived and rebuilt, never the source."""

    zone = models.CharField(max_length=64)
    stage_id = models.BigIntegerField()
    days = models.IntegerField()
    count = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["zone", "stage_id", "days"], name="forecast_staycount_key")]
