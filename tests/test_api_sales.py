"""The sales actions through the API: lead conversion, deal stage moves and history, task completion."""

from tests.factories import PipelineFactory
from tests.test_api_helpers import assert_error, count, make


def test_convert_creates_contact_company_and_deal(api, rep_a, pipeline):
    lead = make("leads", rep_a, "Lena", last_name="Lopez", company_name="Acme", email="lena@acme.com", tags=["hot"])
    note = make("activities", rep_a, "First call", lead_id=lead.pk)
    client = api(rep_a)
    r = client.post(f"/leads/{lead.pk}/convert", {"deal": {"name": "Acme pilot", "amount": "5000.00"}})
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["lead_id"] == lead.pk and all(out[k] for k in ("contact_id", "company_id", "deal_id"))

    contact = client.get(f"/contacts/{out['contact_id']}").json()
    assert (contact["name"], contact["email"], contact["company_id"]) == (
        "Lena Lopez",
        "lena@acme.com",
        out["company_id"],
    )
    assert contact["owner_id"] == rep_a.pk and contact["tags"] == ["hot"]
    company = client.get(f"/companies/{out['company_id']}").json()
    assert company["name"] == "Acme" and company["domains"] == ["acme.com"]
    deal = client.get(f"/deals/{out['deal_id']}").json()
    assert deal["name"] == "Acme pilot" and deal["amount"] == "5000.00" and deal["company_id"] == out["company_id"]
    assert deal["contacts"] == [{"contact_id": out["contact_id"], "role": "decision_maker"}]
    assert deal["pipeline_id"] == pipeline.pk and deal["status"] == "open"

    converted = client.get(f"/leads/{lead.pk}").json()
    assert converted["status"] == "qualified" and converted["converted_at"]
    assert (converted["converted_contact_id"], converted["converted_deal_id"]) == (out["contact_id"], out["deal_id"])
    activity = client.get(f"/activities/{note.pk}").json()
    assert (activity["lead_id"], activity["contact_id"], activity["deal_id"]) == (
        lead.pk,
        out["contact_id"],
        out["deal_id"],
    )

    assert_error(client.post(f"/leads/{lead.pk}/convert", {}), 409, "already_converted")
    assert (count("contacts"), count("companies"), count("deals")) == (1, 1, 1)


def test_convert_reuses_matching_or_chosen_records(api, rep_a, pipeline):
    acme = make("companies", rep_a, "Acme Inc", domains=["acme.com"])
    lead = make("leads", rep_a, "Lena", company_name="Acme", email="lena@acme.com")
    r = api(rep_a).post(f"/leads/{lead.pk}/convert", {})
    assert r.status_code == 200, r.content
    assert r.json()["company_id"] == acme.pk and r.json()["deal_id"] is None
    other = make("companies", rep_a, "Other")
    known = make("contacts", rep_a, "Known")
    lead2 = make("leads", rep_a, "Lou", company_name="Acme", email="lou@acme.com")
    r = api(rep_a).post(f"/leads/{lead2.pk}/convert", {"contact_id": known.pk, "company_id": other.pk})
    assert r.status_code == 200, r.content
    assert (r.json()["contact_id"], r.json()["company_id"]) == (known.pk, other.pk)
    assert count("companies") == 2 and count("contacts") == 2


def test_convert_needs_the_right_to_change_the_lead(api, rep_a, readonly, pipeline):
    lead = make("leads", rep_a, "Lena", company_name="Acme")
    assert_error(api(readonly).post(f"/leads/{lead.pk}/convert", {}), 403, "permission_denied")
    assert count("contacts") == 0 and count("companies") == 0


def test_deal_moves_lost_needs_a_reason_and_history_lists_the_moves(api, rep_a, pipeline):
    stages = {s.name: s for s in pipeline.stages.all()}
    deal = make("deals", rep_a, "Big one", amount="100")
    client = api(rep_a)
    r = client.post(f"/deals/{deal.pk}/move", {"stage_id": stages["Proposal"].pk})
    assert r.status_code == 200, r.content
    assert (r.json()["stage_id"], r.json()["probability"], r.json()["status"]) == (stages["Proposal"].pk, 50, "open")

    assert_error(client.post(f"/deals/{deal.pk}/move", {"stage_id": stages["Lost"].pk}), 422, None, "lost_reason")
    assert client.get(f"/deals/{deal.pk}").json()["stage_id"] == stages["Proposal"].pk

    r = client.post(f"/deals/{deal.pk}/move", {"stage_id": stages["Lost"].pk, "lost_reason": "Budget", "version": 2})
    assert r.status_code == 200, r.content
    lost = r.json()
    assert (lost["status"], lost["probability"], lost["lost_reason"]) == ("lost", 0, "Budget")
    assert lost["closed_at"] and lost["version"] == 3

    stale = client.post(f"/deals/{deal.pk}/move", {"stage_id": stages["Won"].pk, "version": 2})
    assert_error(stale, 409, "version_conflict")
    r = client.post(f"/deals/{deal.pk}/move", {"stage_id": stages["Won"].pk})
    assert (r.json()["status"], r.json()["probability"], r.json()["lost_reason"]) == ("won", 100, "")

    history = client.get(f"/deals/{deal.pk}/stage-history").json()
    moves = [(h["from_stage_id"], h["to_stage_id"]) for h in history]
    q, p, lo, w = (stages[n].pk for n in ("Qualify", "Proposal", "Lost", "Won"))
    assert moves == [(None, q), (q, p), (p, lo), (lo, w)]
    assert {h["changed_by_id"] for h in history} == {rep_a.pk}
    changes = client.get(f"/deals/{deal.pk}/changes").json()
    assert [c["action"] for c in changes].count("update") == 3


def test_deal_moves_to_another_pipeline(api, rep_a, pipeline):
    other = PipelineFactory(name="Renewals")
    target = other.stages.get(name="Proposal")
    deal = make("deals", rep_a, "Switch")
    r = api(rep_a).post(f"/deals/{deal.pk}/move", {"stage_id": target.pk})
    assert r.status_code == 200, r.content
    assert (r.json()["pipeline_id"], r.json()["stage_id"]) == (other.pk, target.pk)


def test_complete_task(api, rep_a, readonly):
    task = make("tasks", rep_a, "Send offer")
    assert_error(api(readonly).post(f"/tasks/{task.pk}/complete"), 403, "permission_denied")
    r = api(rep_a).post(f"/tasks/{task.pk}/complete")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "done" and r.json()["completed_at"] and r.json()["version"] == 2
