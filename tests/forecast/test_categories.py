"""Forecast categories: defaults from the stage, the owner's override (logged), the admin mapping."""

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from crm.forecast import categories
from crm.forecast.models import Category, ForecastSettings


def test_defaults_from_the_stage(make_deal, rep_a, admin_user):
    qualify, won, lost = (make_deal.stages[n] for n in ("Qualify", "Won", "Lost"))
    assert categories.default_of(won) == Category.CLOSED
    assert categories.default_of(lost) == Category.OMITTED
    assert categories.default_of(qualify) == Category.PIPELINE
    categories.stage_category_set(qualify, "commit", actor=admin_user)
    assert categories.default_of(qualify) == Category.COMMIT
    assert categories.category_of(make_deal(rep_a, 10)) == Category.COMMIT
    assert categories.category_of(make_deal(rep_a, 10, stage="Won")) == Category.CLOSED
    with pytest.raises(ValidationFailed):
        categories.stage_category_set(won, "commit", actor=admin_user)
    categories.stage_category_set(qualify, None, actor=admin_user)
    assert categories.default_of(qualify) == Category.PIPELINE


def test_only_admins_set_stage_defaults_and_settings(make_deal, rep_a, manager, admin_user):
    with pytest.raises(PermissionDenied):
        categories.stage_category_set(make_deal.stages["Qualify"], "commit", actor=manager)
    with pytest.raises(PermissionDenied):
        categories.settings_update(actor=rep_a, fiscal_year_start_month=2)
    categories.settings_update(actor=admin_user, fiscal_year_start_month=2)
    assert categories.fiscal_year_start() == 2
    with pytest.raises(ValidationFailed):
        categories.settings_update(actor=admin_user, fiscal_year_start_month=13)
    assert ForecastSettings.current().fiscal_year_start_month == 2


def test_owner_overrides_and_the_change_is_logged(make_deal, rep_a):
    deal = make_deal(rep_a, 100)
    assert categories.deal_category_set(deal.pk, "best_case", actor=rep_a) == "best_case"
    assert categories.category_of(deal) == "best_case"
    assert categories.deal_category_set(deal.pk, "commit", actor=rep_a) == "commit"
    rows = ObjectChange.objects.filter(object_type="forecast_deal_category").order_by("id")
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].changes["category"] == ["best_case", "commit"]
    assert rows[1].user_id == rep_a.pk
    assert categories.deal_category_set(deal.pk, None, actor=rep_a) == "pipeline"
    assert categories.category_of(deal) == "pipeline"


def test_override_refusals(make_deal, rep_a, rep_b, manager):
    deal = make_deal(rep_a, 100)
    with pytest.raises(NotFound):  # rep_b cannot see it
        categories.deal_category_set(deal.pk, "commit", actor=rep_b)
    with pytest.raises(PermissionDenied):  # the manager sees it but is not its owner
        categories.deal_category_set(deal.pk, "commit", actor=manager)
    with pytest.raises(ValidationFailed) as exc:
        categories.deal_category_set(deal.pk, "closed", actor=rep_a)
    assert "category" in exc.value.fields
    won = make_deal(rep_a, 100, stage="Won")
    with pytest.raises(ValidationFailed):
        categories.deal_category_set(won.pk, "commit", actor=rep_a)
