"""The lead-conversion model: it learns a planted signal and beats the source's conversion rate, keeps
the rate on pure noise, sees nothing later than a lead's instant, and shows a lead's probability only
to those who may see the lead (404 otherwise; 403 when the role hides the lead score)."""

import datetime as dt

import pytest

from crm.access.services import role_update
from crm.core import clock
from crm.predict import leads_features, leads_scoring, leads_training, training
from crm.predict.models import LeadScore
from crm.records.models import Lead
from crm.records.services.activities import activity_create
from crm.records.services.conversion import lead_convert
from crm.records.services.leads import lead_create, lead_update
from tests.predict.generated_leads import generate

NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


@pytest.mark.django_db
def test_learns_planted_signal_and_beats_the_source_rate():
    generate(400, signal=True)
    record = leads_training.train(now=NOW)
    ev = record.evaluation
    assert record.in_use, record.reason
    assert record.kind == "lead" and record.file_name.startswith("lead-v")
    assert ev["model"]["auc"] > ev["baseline"]["auc"] + 0.1
    assert ev["model"]["brier"] < ev["baseline"]["brier"]
    assert record.rows_train + record.rows_test == 340
    assert ev["rates"]["sources"]["Referral"] > ev["rates"]["sources"]["Website"]  # the planted source lean
    assert training.load(record) is not None
    assert leads_scoring.score_open_leads(now=NOW) == 60
    scores = list(LeadScore.objects.all())
    assert all(s.model_id == record.pk and s.reasons for s in scores)
    assert all(s.points == round(s.probability * 100) for s in scores)
    assert any("so far" in r["text"] or "activit" in r["text"] for s in scores for r in s.reasons)


@pytest.mark.django_db
def test_pure_noise_keeps_the_source_rate():
    generate(400, signal=False)
    record = leads_training.train(now=NOW)
    assert not record.in_use and record.reason.startswith("Not used:"), record.reason
    assert "the source's conversion rate" in record.reason and record.file_name == ""
    leads_scoring.score_open_leads(now=NOW)
    rates = record.evaluation["rates"]
    for score in LeadScore.objects.select_related("lead"):
        assert score.model_id is None and score.reasons == []
        assert score.probability == pytest.approx(rates["sources"][score.lead.source])


@pytest.mark.django_db
def test_too_few_closed_leads_is_a_clear_state():
    generate(20, signal=True)
    record = leads_training.train(now=NOW)
    assert not record.in_use and record.reason.startswith("Too few closed leads to learn from: 17")
    assert leads_scoring.score_open_leads(now=NOW) == 3  # scored with the sources' rates of the 17


def call(actor, lead, when, recorded=None):
    with clock.at(recorded or when):
        activity_create(actor=actor, data={"kind": "call", "occurred_at": when, "lead_id": lead.pk, "subject": "c"})


@pytest.mark.django_db
def test_no_leakage_of_later_activities_changes_or_conversions(admin_user, rep_a):
    with clock.at(day(0)):
        lead = lead_create(
            actor=admin_user, data={"last_name": "L", "source": "Web", "company_name": "Nova", "owner_id": rep_a.pk}
        ).obj
        earlier = lead_create(actor=admin_user, data={"last_name": "E", "owner_id": rep_a.pk}).obj
    call(admin_user, lead, day(2))
    with clock.at(day(3)):
        lead_convert(Lead.objects.get(pk=earlier.pk), actor=admin_user)
    call(admin_user, lead, day(6))
    call(admin_user, lead, day(1), recorded=day(7))  # back-dated, recorded after the instant
    with clock.at(day(8)):
        lead_update(Lead.objects.get(pk=lead.pk), actor=admin_user, data={"source": "Referral"})
    with clock.at(day(9)):
        lead_convert(Lead.objects.get(pk=lead.pk), actor=admin_user)  # makes the company "Nova"

    then = leads_features.extract({lead.pk: day(5)})[lead.pk]
    assert then["call"] == 1 and then["days_since_touch"] == 3
    assert then["source"] == "Web" and then["age_days"] == 5
    assert (then["owner_converted"], then["owner_closed"]) == (1, 1)  # the earlier lead, not this one
    assert not then["known_company"]  # the company its conversion made did not exist yet

    later = leads_features.extract({lead.pk: day(10)})[lead.pk]
    assert later["call"] == 3 and later["source"] == "Referral" and later["known_company"]
    assert (later["owner_converted"], later["owner_closed"]) == (2, 2)


@pytest.fixture
def scored(rep_a, rep_b):
    generate(400, signal=True, owners=(rep_a, rep_b))
    record = leads_training.train(now=NOW)
    assert record.in_use, record.reason
    leads_scoring.score_open_leads(now=NOW)
    return record


def open_lead_of(user):
    return leads_scoring.open_leads().filter(owner=user).first()


@pytest.mark.django_db
def test_reps_see_the_probabilities_of_their_leads_only(scored, api, rep_a, rep_b, manager, admin_user):
    mine, theirs = open_lead_of(rep_a), open_lead_of(rep_b)
    got = api(rep_a).get(f"/predict/leads/{mine.pk}")
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["method"] == "model" and body["model_version"] == scored.version
    assert 0 <= body["probability"] <= 1 and body["reasons"]
    assert body["score_points"] == round(body["probability"] * 100) and body["lead_score"] == body["score_points"]
    assert api(rep_a).get(f"/predict/leads/{theirs.pk}").status_code == 404
    assert api(manager).get(f"/predict/leads/{theirs.pk}").status_code == 404  # rep_b is not in the team
    assert api(admin_user).get(f"/predict/leads/{theirs.pk}").status_code == 200
    assert api(rep_a).get("/predict/leads/999999").status_code == 404


@pytest.mark.django_db
def test_a_role_that_hides_the_lead_score_gets_403(scored, api, rep_a, admin_user):
    role_update(rep_a.profile.role, actor=admin_user, data={"field_access": {"lead": {"score": "hidden"}}})
    assert api(rep_a).get(f"/predict/leads/{open_lead_of(rep_a).pk}").status_code == 403


@pytest.mark.django_db
def test_lead_page_settings_page_and_evaluation_api(scored, web, api, rep_a, manager):
    page = web(rep_a).get(f"/leads/{open_lead_of(rep_a).pk}/").content.decode()
    assert "Conversion probability" in page and "pts)" in page and "to the lead score" in page
    assert api(rep_a).get("/predict/lead-model").status_code == 403
    body = api(manager).get("/predict/lead-model").json()
    assert body["in_use"] and body["version"] == scored.version and body["model"]["auc"] > body["baseline"]["auc"]
    text = web(manager).get("/settings/predict/").content.decode()
    assert "Leads: the model is in use" in text and 'id="lead-calibration-data"' in text
    assert "Deals: the stage probability is in use" in text and "<script>" not in text
