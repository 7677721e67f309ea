"""Forecast settings and categories: who may change them, and each deal's category.

A deal's category: won → closed, lost → omitted; an open deal takes its owner's override
(``DealCategory``) or else its stage's default (``StageCategory``, set by admins), or else pipeline.
Every write is logged in the change log (crm/audit/configwrites.py).
"""

from __future__ import annotations

from django.db import transaction

from crm.access.policy import policy_for, require_admin
from crm.audit import configwrites
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.forecast.models import SINGLETON, Category, DealCategory, ForecastSettings, StageCategory
from crm.records.models import Deal, DealStatus, Stage
from crm.records.services.common import get_visible

WHAT = "forecast settings"
OPEN_CATEGORIES = (Category.PIPELINE, Category.BEST_CASE, Category.COMMIT, Category.OMITTED)


def default_of(stage: Stage, mapping: dict[int, str] | None = None) -> str:
    """A stage's default category (``mapping``: stage id → category, read once by the caller)."""
    if stage.is_won:
        return Category.CLOSED
    if stage.is_lost:
        return Category.OMITTED
    if mapping is None:
        mapping = dict(StageCategory.objects.values_list("stage_id", "category"))
    return mapping.get(stage.pk, Category.PIPELINE)


def category_of(deal: Deal) -> str:
    if deal.status == DealStatus.WON:
        return Category.CLOSED
    if deal.status == DealStatus.LOST:
        return Category.OMITTED
    override = DealCategory.objects.filter(deal_id=deal.pk).values_list("category", flat=True).first()
    return override or default_of(deal.stage)


def _check_open_category(value) -> str:
    if value not in OPEN_CATEGORIES:
        choices = ", ".join(OPEN_CATEGORIES)
        raise ValidationFailed({"category": f"An open deal's category is one of {choices}."})
    return value


@transaction.atomic
def settings_update(*, actor, fiscal_year_start_month) -> ForecastSettings:
    require_admin(actor, WHAT)
    current = ForecastSettings.objects.filter(pk=SINGLETON).first()
    if current is None:
        return configwrites.create(
            ForecastSettings(pk=SINGLETON, fiscal_year_start_month=fiscal_year_start_month), actor=actor
        )
    data = {"fiscal_year_start_month": fiscal_year_start_month}
    return configwrites.update(current, actor=actor, data=data, fields=data)


def fiscal_year_start() -> int:
    return ForecastSettings.current().fiscal_year_start_month


@transaction.atomic
def stage_category_set(stage: Stage, category: str | None, *, actor) -> StageCategory | None:
    """An open stage's default category (None: back to pipeline). Won and lost stages are fixed."""
    require_admin(actor, WHAT)
    if stage.is_won or stage.is_lost:
        raise ValidationFailed({"category": "A won stage's deals are closed and a lost stage's omitted."})
    current = StageCategory.objects.filter(stage=stage).first()
    if category is None:
        if current is not None:
            configwrites.delete(current, actor=actor)
        return None
    _check_open_category(category)
    if current is None:
        return configwrites.create(StageCategory(stage=stage, category=category), actor=actor)
    return configwrites.update(current, actor=actor, data={"category": category}, fields=["category"])


@transaction.atomic
def deal_category_set(deal_id: int, category: str | None, *, actor) -> str:
    """The deal owner overrides an open deal's category (None: back to its stage's default); admins
    may too. Returns the deal's category now."""
    deal = get_visible(Deal.objects.select_related("stage"), actor, deal_id)
    if deal.owner_id != actor.pk and not policy_for(actor).is_admin:
        raise PermissionDenied("Only the deal's owner may change its forecast category.")
    if deal.status != DealStatus.OPEN:
        raise ValidationFailed(
            {"category": "A closed deal's category follows its outcome: won is closed, lost omitted."}
        )
    current = DealCategory.objects.filter(deal=deal).first()
    if category is None:
        if current is not None:
            configwrites.delete(current, actor=actor)
        return default_of(deal.stage)
    _check_open_category(category)
    if current is None:
        configwrites.create(DealCategory(deal=deal, category=category, set_by=actor), actor=actor)
    else:
        configwrites.update(
            current, actor=actor, data={"category": category, "set_by": actor}, fields=["category", "set_by"]
        )
    return category
