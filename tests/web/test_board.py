"""The pipeline board: columns with numbers, lazy-loaded cards, and moves through deal_move_stage."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from crm.records.models import Deal, StageChange
from crm.records.services import deals
from tests.factories import DealFactory

JSON = "application/json"


def stage(pipeline, name):
    return pipeline.stages.get(name=name)


def test_board_columns_show_count_total_and_weighted(web, rep_a, pipeline, big_deal):
    deals.deal_create(actor=rep_a, data={"name": "Small", "amount": "1000", "pipeline_id": pipeline.pk})
    r = web(rep_a).get("/board/")
    assert r.status_code == 200
    first = r.context["columns"][0]
    assert first["stage"].name == "Qualify"
    assert first["stats"] == {"count": 2, "total": "$13,000", "weighted": "$1,300"}
    page = r.content.decode()
    assert "Acme rollout" in page and "Small" in page


def test_board_hides_deals_of_others(web, rep_b, big_deal):
    assert "Acme rollout" not in web(rep_b).get("/board/").content.decode()


def test_board_filters_by_owner_and_close_date(web, manager, rep_a, pipeline, big_deal):
    deals.deal_create(
        actor=manager, data={"name": "Manager deal", "pipeline_id": pipeline.pk, "expected_close_date": "2030-01-15"}
    )
    page = web(manager).get("/board/", {"owner": rep_a.pk}).content.decode()
    assert "Acme rollout" in page and "Manager deal" not in page
    page = web(manager).get("/board/", {"close_from": "2030-01-01", "close_to": "2030-01-31"}).content.decode()
    assert "Manager deal" in page and "Acme rollout" not in page


def test_cards_load_lazily_per_column(web, rep_a, pipeline):
    DealFactory.create_batch(25, pipeline=pipeline, owner=rep_a)
    client = web(rep_a)
    column = client.get("/board/").context["columns"][0]
    assert len(column["cards"]) == 20 and column["next"]
    more = client.get(f"/board/column/{column['stage'].pk}/", {"cursor": column["next"]})
    assert len(more.context["cards"]) == 5 and more.context["next"] is None


def test_move_persists_with_history_and_probability(web, rep_a, pipeline, big_deal):
    target = stage(pipeline, "Proposal")
    r = web(rep_a).post(
        f"/deals/{big_deal.pk}/move/", {"stage_id": target.pk, "version": big_deal.version}, HTTP_ACCEPT=JSON
    )
    assert r.status_code == 200
    body = json.loads(r.content)
    big_deal.refresh_from_db()
    assert big_deal.stage == target and big_deal.probability == 50 and body["version"] == big_deal.version
    assert StageChange.objects.filter(deal=big_deal, to_stage=target).exists()
    assert "1 deal" in body["stats"][str(target.pk)] and f'data-deal="{big_deal.pk}"' in body["card"]


def test_move_to_lost_needs_a_reason(web, rep_a, pipeline, big_deal):
    lost = stage(pipeline, "Lost")
    client = web(rep_a)
    r = client.post(f"/deals/{big_deal.pk}/move/", {"stage_id": lost.pk}, HTTP_ACCEPT=JSON)
    assert r.status_code == 422 and "lost_reason" in json.loads(r.content)["fields"]
    r = client.post(f"/deals/{big_deal.pk}/move/", {"stage_id": lost.pk, "lost_reason": "Price"}, HTTP_ACCEPT=JSON)
    assert r.status_code == 200
    big_deal.refresh_from_db()
    assert big_deal.status == "lost" and big_deal.lost_reason == "Price"


def test_move_with_a_stale_version_is_a_conflict(web, rep_a, pipeline, big_deal):
    r = web(rep_a).post(
        f"/deals/{big_deal.pk}/move/", {"stage_id": stage(pipeline, "Won").pk, "version": 99}, HTTP_ACCEPT=JSON
    )
    assert r.status_code == 409 and json.loads(r.content)["code"] == "version_conflict"
    assert Deal.objects.get(pk=big_deal.pk).stage.name == "Qualify"


def test_move_of_a_hidden_deal_is_404(web, rep_b, pipeline, big_deal):
    r = web(rep_b).post(f"/deals/{big_deal.pk}/move/", {"stage_id": stage(pipeline, "Won").pk}, HTTP_ACCEPT=JSON)
    assert r.status_code == 404


def test_read_only_user_sees_the_board_but_cannot_move(web, readonly, pipeline, big_deal):
    page = web(readonly).get("/board/").content.decode()
    assert "Acme rollout" in page and "data-move-select" not in page
    r = web(readonly).post(f"/deals/{big_deal.pk}/move/", {"stage_id": stage(pipeline, "Won").pk}, HTTP_ACCEPT=JSON)
    assert r.status_code == 403  # visible but not changeable, as the API answers


def test_move_to_a_stage_of_another_pipeline_is_refused(web, rep_a, big_deal):
    from tests.factories import PipelineFactory

    other = PipelineFactory(name="Other").stages.first()
    r = web(rep_a).post(f"/deals/{big_deal.pk}/move/", {"stage_id": other.pk}, HTTP_ACCEPT=JSON)
    assert r.status_code == 422


def test_board_without_pipelines_says_so(web, rep_a):
    assert "There is no pipeline yet" in web(rep_a).get("/board/").content.decode()


def test_deal_page_moves_without_javascript(web, rep_a, pipeline, big_deal):
    client = web(rep_a)
    page = client.get(f"/deals/{big_deal.pk}/").content.decode()
    assert 'id="move-stage"' in page
    r = client.post(
        f"/deals/{big_deal.pk}/move/", {"stage_id": stage(pipeline, "Lost").pk, "version": big_deal.version}
    )
    assert r.status_code == 302
    assert "Say why the deal was lost." in client.get(r["Location"]).content.decode()
    r = client.post(f"/deals/{big_deal.pk}/move/", {"stage_id": stage(pipeline, "Won").pk, "version": big_deal.version})
    page = client.get(r["Location"]).content.decode()
    assert "Moved to Won." in page
    assert "Qualify → <strong>Won</strong>" in page  # stage history
    assert "<del>Qualify</del> → <ins>Won</ins>" in page  # the change, with stage names


def test_web_board_and_api_board_show_the_same_columns_cards_and_totals(web, api, manager, rep_a, team, pipeline):
    def make(name, amount, close, owner):
        data = {"name": name, "amount": amount, "expected_close_date": close, "pipeline_id": pipeline.pk}
        return deals.deal_create(actor=owner, data=data).obj

    older, newer = make("Older", "1000", "2030-01-10", rep_a), make("Newer", "2500", "2030-01-20", rep_a)
    make("Closes later", "400", "2030-06-01", rep_a)
    make("Manager deal", "700", "2030-01-05", manager)
    # Moved into the stage in one order and edited in the other: both boards sort by arrival in the stage.
    now = timezone.now()
    Deal.objects.filter(pk=older.pk).update(stage_changed_at=now - dt.timedelta(hours=2), updated_at=now)
    Deal.objects.filter(pk=newer.pk).update(stage_changed_at=now - dt.timedelta(hours=1), updated_at=now)
    Deal.objects.filter(name="Manager deal").update(stage_changed_at=now, updated_at=now - dt.timedelta(hours=3))
    filters = {"team": team.pk, "close_from": "2030-01-01", "close_to": "2030-01-31"}

    page = web(manager).get("/board/", {"pipeline": pipeline.pk, **filters}).context["columns"]
    r = api(manager).get(f"/sales/pipelines/{pipeline.pk}/board", filters)
    assert r.status_code == 200, r.content
    shown = [(c["stage"].name, c["count"], [d.name for d in c["cards"]], c["amount"]) for c in page]
    served = [
        (c["stage"]["name"], c["count"], [d["name"] for d in c["cards"]], c["amount"]) for c in r.json()["columns"]
    ]
    assert [(name, count, cards, str(amount)) for name, count, cards, amount in shown] == served
    assert served[0] == ("Qualify", 3, ["Manager deal", "Newer", "Older"], "4200.00")
    assert page[0]["stats"]["total"] == "$4,200"


@pytest.mark.usefixtures("foreign_currencies")
def test_board_totals_each_currency_apart(web, api, rep_a, pipeline, big_deal):
    deals.deal_create(
        actor=rep_a, data={"name": "Euro deal", "amount": "1000", "currency": "EUR", "pipeline_id": pipeline.pk}
    )
    r = web(rep_a).get("/board/")
    # 12,000 USD and 1,000 EUR are shown side by side, never added into "13,000".
    stats = r.context["columns"][0]["stats"]
    shown = {k: stats[k] for k in ("count", "total", "weighted")}
    assert shown == {"count": 2, "total": "€1,000 + $12,000", "weighted": "€100 + $1,200"}
    assert "€1,000 + $12,000" in r.content.decode()
    # Without an EUR rate there is no converted total, and the column says which rate is missing.
    assert stats["converted"] == "—" and stats["missing_rates"].startswith("EUR on ")
    assert "No rate: EUR on " in r.content.decode()
    served = api(rep_a).get(f"/sales/pipelines/{pipeline.pk}/board").json()["columns"][0]
    assert [(t["currency"], t["amount"]) for t in served["totals"]] == [("EUR", "1000.00"), ("USD", "12000.00")]
    # A move answers with the columns' numbers, per currency too.
    proposal = stage(pipeline, "Proposal")
    moved = web(rep_a).post(f"/deals/{big_deal.pk}/move/", {"stage_id": proposal.pk}, HTTP_ACCEPT=JSON)
    stats = json.loads(moved.content)["stats"]
    assert "€1,000" in stats[str(stage(pipeline, "Qualify").pk)] and "$12,000" in stats[str(proposal.pk)]
