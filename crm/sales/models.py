"""Per-day sums the sales analytics read instead of scanning every deal and activity (issue 15).

Kept up to date as deals and activities are written (crm/sales/kept.py), rebuilt from scratch by
crm/sales/rebuild.py (``crm sales-sums --rebuild``: bulk loads, the benchmark seed, repairs).

A key may have several rows (two transactions adding the same new key at once each insert one, and a
deleted user's rows are folded into "no owner"): every read sums the rows of a key, so the figures
stay right; ``rebuild`` leaves one row per key. Owner and pipeline are plain ids, not foreign keys, so
a user's deletion is handled here (``kept.user_deleted``) and never blocked.
"""

from __future__ import annotations

from django.db import models


class Outcome(models.TextChoices):
    CREATED = "created"  # by creation day (new pipeline)
    WON = "won"  # by close day
    LOST = "lost"  # by close day, per lost reason
    OPEN = "open"  # open deals by expected close date


class DealDay(models.Model):
    """Deals of one day, owner, pipeline, currency and outcome: how many, their amount, and for the won
    ones the sum of their cycles (close minus creation) in microseconds."""

    day = models.DateField()
    outcome = models.CharField(max_length=7, choices=Outcome.choices)
    owner_id = models.IntegerField(null=True)
    pipeline_id = models.IntegerField()
    currency = models.CharField(max_length=3)
    lost_reason = models.CharField(max_length=255, blank=True)
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=24, decimal_places=2, default=0)
    cycle_us = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["outcome", "day"], name="sales_dealday_outcome_day")]


class ActivityDay(models.Model):
    """Activities that occurred on one day (the organization's time zone), per owner and kind."""

    day = models.DateField()
    owner_id = models.IntegerField(null=True)
    kind = models.CharField(max_length=10)
    count = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="sales_activityday_day")]
