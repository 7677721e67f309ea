"""Who sees what: a rep sees the probabilities of the deals they may see only (404 otherwise); the
evaluation, the settings page and "retrain now" are for admins and managers; the deal page shows the
probability with its reasons; the forecast's "predicted" method weighs by it."""

from decimal import Decimal

import pytest
from django.utils import timezone

from crm.automation.models import Job
from crm.forecast import methods, sums
from crm.money.currencies import organization_currency, quantize
from crm.predict import scoring, training
from crm.records.models import Deal, DealStatus
from tests.predict.generated import generate


@pytest.fixture
def trained(rep_a, rep_b):
    generate(400, signal=True, owners=(rep_a, rep_b))
    record = training.train()
    assert record.in_use, record.reason
    scoring.score_open_deals()
    return record


def open_deal_of(user):
    return Deal.objects.filter(owner=user, status=DealStatus.OPEN).first()


@pytest.mark.django_db
def test_reps_see_scores_of_their_deals_only(trained, api, rep_a, rep_b, manager, admin_user):
    mine, theirs = open_deal_of(rep_a), open_deal_of(rep_b)
    got = api(rep_a).get(f"/predict/deals/{mine.pk}")
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["method"] == "model" and body["model_version"] == trained.version
    assert 0 <= body["probability"] <= 1 and body["reasons"]
    assert api(rep_a).get(f"/predict/deals/{theirs.pk}").status_code == 404
    assert api(manager).get(f"/predict/deals/{theirs.pk}").status_code == 404  # rep_b is not in the team
    assert api(manager).get(f"/predict/deals/{mine.pk}").status_code == 200
    assert api(admin_user).get(f"/predict/deals/{theirs.pk}").status_code == 200
    assert api(rep_a).get("/predict/deals/999999").status_code == 404


@pytest.mark.django_db
def test_model_evaluation_and_retrain_for_managers(trained, api, rep_a, manager):
    assert api(rep_a).get("/predict/model").status_code == 403
    assert api(rep_a).post("/predict/retrain").status_code == 403
    body = api(manager).get("/predict/model").json()
    assert body["in_use"] and body["version"] == trained.version
    assert body["model"]["auc"] > body["baseline"]["auc"]
    assert body["rows_train"] == trained.rows_train
    answer = api(manager).post("/predict/retrain")
    assert answer.status_code == 202
    assert Job.objects.filter(pk=answer.json()["job_id"], kind="predict.train").exists()


@pytest.mark.django_db
def test_untrained_model_state(api, admin_user):
    body = api(admin_user).get("/predict/model").json()
    assert body["version"] is None and not body["in_use"] and body["model"] is None
    assert "Not trained yet" in body["reason"]


@pytest.mark.django_db
def test_deal_page_and_settings_page(trained, web, rep_a, manager):
    deal = open_deal_of(rep_a)
    page = web(rep_a).get(f"/deals/{deal.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Win probability" in text and "pts)" in text
    assert web(rep_a).get("/settings/predict/").status_code == 403
    settings_page = web(manager).get("/settings/predict/")
    assert settings_page.status_code == 200
    text = settings_page.content.decode()
    assert "Deals: the model is in use" in text and 'id="calibration-data"' in text and "<script>" not in text
    assert web(manager).post("/settings/predict/retrain/").status_code == 302
    assert Job.objects.filter(kind="predict.train").count() == 1


@pytest.mark.django_db
def test_forecast_predicted_method(trained, rep_a):
    deal = open_deal_of(rep_a)
    facts = [methods.DealFact(deal.pk, rep_a.pk, 1, 1, "open", deal.amount, "USD", None, 10, "pipeline", None)]
    predicted = scoring.probabilities(Deal.objects.filter(pk=deal.pk))
    assert set(predicted) == {deal.pk}
    value = methods.weighted_by_prediction(facts, predicted)[deal.pk]
    assert value == deal.amount * __import__("decimal").Decimal(str(round(predicted[deal.pk], 4)))
    assert methods.weighted_by_prediction(facts, {})[deal.pk] == deal.amount * 10 / 100  # no model: stage


@pytest.mark.django_db
def test_the_forecast_rollup_adds_each_deals_predicted_value(trained, admin_user):
    """The grouped forecast (crm/forecast/sums.py) sums amount × the model's probability per deal, and the
    stage probability for a deal no model scored."""
    org = organization_currency()
    deals = Deal.objects.filter(status=DealStatus.OPEN, currency__iexact=org)
    unscored = deals.first()
    unscored.win_score.delete()
    predicted = scoring.probabilities(deals)
    assert unscored.pk not in predicted and len(predicted) == deals.count() - 1
    expected = sum(
        (d.amount or 0) * Decimal(str(round(predicted[d.pk], 4)))
        if d.pk in predicted
        else (d.amount or 0) * d.probability / 100
        for d in deals
    )
    today = timezone.localdate()
    rollup = sums.rollup_of(sums.groups_in_sql(deals, {}, today), rates={}, typical={}, today=today)
    figures = rollup.figures()
    assert figures["predicted"] == quantize(expected, org)
    assert figures["predicted"] != figures["stage"]
